"""Runs side by side, read back from the MLflow store: a table and two plots."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import mlflow
import numpy as np
import pandas as pd
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from data_science.tracking import use_tracking

PARAMS = ("learning_rate", "batch_size", "width", "dropout", "augment", "seed", "epochs")
METRICS = ("val_accuracy", "test_accuracy")
LOG_SCALE = {"learning_rate"}


def runs_table(
    run_dir: str | Path, experiments: Sequence[str], parent_run_id: str | None = None
) -> pd.DataFrame:
    """One row per training run of the experiments (only the children of ``parent_run_id``
    if given): parameters, metrics, duration, data digest and trial status, newest first."""
    use_tracking(run_dir, experiments[0])
    names = [name for name in experiments if mlflow.get_experiment_by_name(name)]
    found = mlflow.search_runs(
        experiment_names=names,
        filter_string=f"tags.mlflow.parentRunId = '{parent_run_id}'" if parent_run_id else "",
    )
    found = found[found.get("params.data_digest", pd.Series(dtype=str)).notna()]
    if found.empty:
        return pd.DataFrame(columns=["run", *PARAMS, *METRICS, "seconds", "data_digest"])
    table = pd.DataFrame({"run": found["tags.mlflow.runName"]})
    table["experiment"] = found["experiment_id"].map(
        {mlflow.get_experiment_by_name(n).experiment_id: n for n in names}
    )
    for name in PARAMS:
        table[name] = parse_param(found.get(f"params.{name}", pd.Series(index=found.index)))
    for name in METRICS:
        table[name] = found.get(f"metrics.{name}")
    table["seconds"] = (found["end_time"] - found["start_time"]).dt.total_seconds()
    table["data_digest"] = found["params.data_digest"].str[:12]
    table["status"] = found.get("tags.trial_status", pd.Series(index=found.index)).fillna("")
    table.index = found["run_id"].rename("run_id")
    return table


def parse_param(values: pd.Series) -> pd.Series:
    """MLflow keeps parameters as strings: numbers and booleans back to what they were."""
    if values.isin(["True", "False"]).all():
        return values == "True"
    numbers = pd.to_numeric(values, errors="coerce")
    return numbers if numbers.notna().all() else values


def stopped_early(table: pd.DataFrame) -> pd.Series:
    """Which runs of ``runs_table`` a search stopped before their last epoch."""
    return table.get("status", pd.Series("", index=table.index)).str.startswith("stopped")


def plot_metric_by_parameter(
    table: pd.DataFrame, params: Sequence[str], metric: str = "val_accuracy"
):
    """The metric against each parameter, one panel each: which knobs matter? Trials stopped
    early are drawn hollow: their value is from an earlier epoch than the others'."""
    stopped = stopped_early(table)
    fig, axes = plt.subplots(
        1, len(params), figsize=(3.2 * len(params) + 1, 3), sharey=True, layout="constrained"
    )
    axes, kept = np.atleast_1d(axes), ~stopped
    for ax, name in zip(axes, params, strict=True):
        values = table[name].astype(float) if table[name].dtype == bool else table[name]
        points = ax.scatter(
            values[kept], table[metric][kept], c=table[metric][kept], cmap="viridis"
        )
        ax.scatter(
            values[stopped], table[metric][stopped], facecolors="none", edgecolors="grey",
            label="stopped early",
        )  # fmt: skip
        ax.set(xlabel=name, xscale="log" if name in LOG_SCALE else "linear")
        if name in LOG_SCALE:  # labels at 1 and 3 of each decade, no crowded minor labels
            ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 3.0)))
            ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
            ax.xaxis.set_minor_formatter(NullFormatter())
        if table[name].dtype == bool:  # a yes/no setting, not a scale
            ax.set(xticks=[0, 1], xticklabels=["no", "yes"], xlim=(-0.5, 1.5))
        ax.tick_params(axis="x", labelrotation=30, labelsize=8)
    axes[0].set_ylabel(metric)
    if stopped.any():
        axes[0].legend(fontsize=8)
    fig.colorbar(points, ax=axes, label=metric)
    fig.suptitle(f"{metric} by parameter")
    return fig


def plot_parallel_coordinates(
    table: pd.DataFrame, params: Sequence[str], metric: str = "val_accuracy"
):
    """Every run as one line across the parameters and the metric, coloured by the metric,
    each axis scaled to its own range: good runs show which combinations they share."""
    columns = [*params, metric]
    values = table[columns].astype(float)
    for name in LOG_SCALE & set(params):
        values[name] = np.log10(values[name])
    low, high = values.min(), values.max()
    scaled = (values - low) / (high - low).replace(0, 1)
    colours = plt.cm.viridis(scaled[metric].to_numpy())
    styles = np.where(stopped_early(table), ":", "-")  # stopped early: dotted
    fig, ax = plt.subplots(figsize=(1.6 * len(columns) + 2, 3.5), layout="constrained")
    for row, colour, style in zip(scaled.to_numpy(), colours, styles, strict=True):
        ax.plot(range(len(columns)), row, color=colour, alpha=0.8, marker="o", linestyle=style)
    labels = [f"log10 {c}" if c in LOG_SCALE else c for c in columns]
    ax.set_xticks(range(len(columns)), labels)
    for x, name in enumerate(columns):
        ends = (
            ("no", "yes")
            if table[name].dtype == bool
            else (f"{low[name]:.3g}", f"{high[name]:.3g}")
        )
        ax.annotate(ends[0], (x, 0), xytext=(3, -12), textcoords="offset points")
        ax.annotate(ends[1], (x, 1), xytext=(3, 4), textcoords="offset points")
    ax.set(
        yticks=[],
        ylim=(-0.12, 1.12),
        title=f"Parallel coordinates, coloured by {metric} (dotted: stopped early)",
    )
    scale = plt.cm.ScalarMappable(plt.Normalize(low[metric], high[metric]), cmap="viridis")
    fig.colorbar(scale, ax=ax, label=metric)
    return fig
