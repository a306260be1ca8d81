"""Monitoring plots: the drift timeline and the detectors' power curves."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator

from production.drift import DAILY_DETECTORS, DriftMonitor


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


def plot_power(power: pd.DataFrame):
    """Share of days with an alarm against the foreign share, one line per detector."""
    fig, ax = plt.subplots(figsize=(7, 4))
    for name in power.columns:
        ax.plot(100 * power.index.to_numpy(), power[name], marker="o", label=name)
    ax.set(
        xlabel="foreign digits in the day's traffic (%)",
        ylabel="days with an alarm",
        title="Detection power (at 0 %: false alarms)",
        xscale="symlog",
        ylim=(-0.02, 1.02),
    )
    ax.set_xticks(100 * power.index.to_numpy(), [f"{100 * c:g}" for c in power.index])
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def flagged_examples(monitor: DriftMonitor, view, images: np.ndarray, count: int = 16):
    """The inputs with the highest novelty scores, with their scores."""
    scores = monitor.novelty(view)
    top = np.argsort(-scores)[:count]
    return images[top], [f"{scores[i]:.0f}" for i in top]
