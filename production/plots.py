"""Monitoring plots: the drift timeline, the detectors' power curves, and the endpoint's
service metrics day by day (the dashboard's panels)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator

from production.drift import DAILY_DETECTORS, DriftMonitor
from production.serving.metrics import LATENCY_BUCKETS


def plot_timeline(table: pd.DataFrame, monitor: DriftMonitor, onset: int | None = None):
    """Per day: each detector against its threshold, the foreign share and the accuracy.

    The drifted period is shaded; the x axis is the simulation's day index.
    """
    fig, axes = plt.subplots(3, 1, figsize=(10, 8), sharex=True)
    days = table.index.to_numpy()
    for name in DAILY_DETECTORS:
        axes[0].semilogy(days, table[name].clip(lower=1e-12), marker=".", label=name)
    axes[0].axhline(monitor.alpha, color="black", linestyle="--", label=f"α = {monitor.alpha}")
    axes[0].set(ylabel="p-value (alarm below α)", title="Daily detectors")
    axes[1].plot(days, table["novelty_cusum"], marker=".", color="tab:purple", label="CUSUM")
    axes[1].axhline(monitor.cusum_limit, color="black", linestyle="--", label="limit")
    axes[1].set(ylabel="CUSUM of novel share")
    axes[2].plot(days, table["accuracy"], marker="o", label="accuracy")
    axes[2].plot(days, table["foreign_share"], marker=".", label="foreign share (truth)")
    axes[2].set(xlabel="day", ylabel="share", ylim=(0, 1.05))
    axes[2].xaxis.set_major_locator(MaxNLocator(integer=True))  # days are whole numbers
    for ax in axes:
        if onset is not None:
            ax.axvspan(onset - 0.5, days.max() + 0.5, color="tab:red", alpha=0.08)
        ax.legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    return fig


def plot_service_metrics(
    table: pd.DataFrame, labels: pd.DataFrame, expected_rate: float, onset: int | None = None
):
    """The Grafana dashboard's panels that move, one point per replayed day: p99 of run()
    against the histogram's bucket bounds (the quantile is only known between two), the
    share of images flagged novel against its calibrated rate and the NovelInputs alert's
    threshold (alerting days marked), and the predicted label mix."""
    from production.monitoring import NOVEL_ALERT_SHARE

    fig, (latency, novel, mix) = plt.subplots(1, 3, figsize=(14, 3.6), sharex=True)
    days = table.index.to_numpy()
    latency.plot(days, table["p99_ms"], marker="o")
    top = 1.5 * np.nanmax(table["p99_ms"])
    for bound in (1000 * b for b in LATENCY_BUCKETS if 1000 * b <= top):
        latency.axhline(bound, color="gray", linewidth=0.6, linestyle=":")
    latency.set(title="run() latency, p99 (dotted: bucket bounds)", xlabel="day", ylabel="ms",
                ylim=(0, top))  # fmt: skip
    novel.plot(days, 100 * table["novel_share"], marker="o", label="flagged novel")
    alerts = table[table["novel_alert"]]
    novel.scatter(alerts.index, 100 * alerts["novel_share"], color="tab:red", zorder=3,
                  s=60, label="NovelInputs alert")  # fmt: skip
    novel.axhline(100 * expected_rate, color="gray", linestyle=":", label="calibrated")
    novel.axhline(100 * NOVEL_ALERT_SHARE, color="black", linestyle="--", label="alert above")
    novel.set(title="Images flagged novel", xlabel="day", ylabel="%", ylim=(0, None))
    novel.legend(fontsize=7, loc="upper left")
    (100 * labels).plot.area(ax=mix, legend=False, linewidth=0)
    mix.set(title="Predicted label mix", xlabel="day", ylabel="%", ylim=(0, 100))
    mix.legend(fontsize=7, title="label", bbox_to_anchor=(1.01, 1), loc="upper left")
    for ax in (latency, novel, mix):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if onset is not None:
            ax.axvspan(onset - 0.5, days.max() + 0.5, color="tab:red", alpha=0.08)
    fig.tight_layout()
    return fig


def plot_power(power: pd.DataFrame):
    """Share of days with an alarm against the foreign share, one line per detector."""
    fig, ax = plt.subplots(figsize=(7, 4))
    for name in power.columns:
        ax.plot(100 * power.index.to_numpy(), power[name], marker="o", label=name)
    ax.set(
        xlabel="foreign digits in the day's traffic (%)",
        ylabel="days with an alarm",
        title="Detection power (at 0 %: false alarms)",
        ylim=(-0.02, 1.02),
    )
    ax.set_xticks(100 * power.index.to_numpy(), [f"{100 * c:g}" for c in power.index])
    ax.legend(fontsize=8, bbox_to_anchor=(1.01, 1), loc="upper left")
    fig.tight_layout()
    return fig


def flagged_examples(monitor: DriftMonitor, view, images: np.ndarray, count: int = 16):
    """The inputs with the highest novelty scores, with their scores."""
    scores = monitor.novelty(view)
    top = np.argsort(-scores)[:count]
    return images[top], [f"{scores[i]:.0f}" for i in top]
