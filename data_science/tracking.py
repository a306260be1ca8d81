"""MLflow, local by default: a SQLite store and artifacts inside the run folder.

A ``MLFLOW_TRACKING_URI`` set by the user wins; that is how an Azure ML workspace (or any
MLflow server) plugs in without a code change. A job in Azure ML has it set to the
workspace's ``azureml://`` URI, which the azureml-mlflow plugin serves.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from urllib.parse import urlparse

import mlflow

# Local store URIs set here. MLflow copies every URI it is given into $MLFLOW_TRACKING_URI
# (for subprocesses), so the variable alone cannot tell the user's choice from ours.
_LOCAL_URIS: set[str] = set()


def local_tracking_uri(run_dir: str | Path) -> str:
    return f"sqlite:///{Path(run_dir).resolve() / 'mlflow.db'}"


def quiet_mlflow() -> None:
    """MLflow reports routine events on stderr (creating a store's tables, a progress bar
    for every local artifact copy), which a notebook shows as red warnings: keep its
    warnings and errors only, unless the user chose a level (``MLFLOW_LOGGING_LEVEL``)."""
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    if "MLFLOW_LOGGING_LEVEL" not in os.environ:
        for name in ("mlflow", "alembic"):
            logging.getLogger(name).setLevel(logging.WARNING)


def use_tracking(run_dir: str | Path, experiment: str) -> str:
    """Point MLflow at the run folder's store (unless the user chose one); return the
    experiment id, creating the experiment with its artifacts inside the run folder."""
    quiet_mlflow()
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    chosen = os.environ.get("MLFLOW_TRACKING_URI")
    uri = chosen if chosen and chosen not in _LOCAL_URIS else local_tracking_uri(run_dir)
    if uri == local_tracking_uri(run_dir):
        _LOCAL_URIS.add(uri)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    found = mlflow.get_experiment_by_name(experiment)
    if found:
        return found.experiment_id
    # A file-based store keeps its artifacts in the run folder; a server chooses its own.
    local = urlparse(uri).scheme in ("", "file", "sqlite")
    artifacts = (run_dir / "mlartifacts").resolve().as_uri() if local else None
    return mlflow.create_experiment(experiment, artifact_location=artifacts)
