"""The metrics contract between notebooks and the runner."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd


def metrics_path(run_dir: str | Path, notebook: str) -> Path:
    return Path(run_dir) / "metrics" / f"{notebook}.json"


def _to_python(value: Any) -> Any:
    # numpy scalars (and 0-d arrays) expose .item(); anything else is not a metric.
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"metric values must be numbers or strings, got {type(value).__name__}")


def record_metrics(run_dir: str | Path, notebook: str, metrics: dict[str, Any]) -> pd.Series:
    """Write a notebook's key metrics to `<run_dir>/metrics/<notebook>.json` for the run
    report; return them as a table, which is what a notebook shows."""
    import pandas as pd  # here, not at the top: the runner reads metrics without pandas

    path = metrics_path(run_dir, notebook)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(metrics, indent=2, default=_to_python) + "\n")
    return pd.Series(metrics, name=f"recorded in {path.name}", dtype=object)


def read_metrics(run_dir: str | Path, notebook: str) -> dict[str, Any]:
    """The metrics a notebook recorded in this run, or {} if it recorded none."""
    path = metrics_path(run_dir, notebook)
    return json.loads(path.read_text()) if path.exists() else {}
