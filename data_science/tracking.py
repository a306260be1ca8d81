"""MLflow, local by default: a SQLite store and artifacts inside the run folder.

A ``MLFLOW_TRACKING_URI`` set by the user wins; that is how an Azure ML workspace (or any
MLflow server) plugs in without a code change. A job in Azure ML has it set to the
workspace's ``azureml://`` URI, which the azureml-mlflow plugin serves.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import mlflow
from mlflow import MlflowClient

CHAMPION = "champion"
# Local store URIs set here. MLflow copies every URI it is given into $MLFLOW_TRACKING_URI
# (for subprocesses), so the variable alone cannot tell the user's choice from ours.
_LOCAL_URIS: set[str] = set()


def local_tracking_uri(run_dir: str | Path) -> str:
    return f"sqlite:///{Path(run_dir).resolve() / 'mlflow.db'}"


def use_tracking(run_dir: str | Path, experiment: str) -> str:
    """Point MLflow at the run folder's store (unless the user chose one); return the
    experiment id, creating the experiment with its artifacts inside the run folder."""
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


def champion_version(model_name: str):
    """The registered model version that holds the champion alias, or None."""
    client = MlflowClient()
    try:
        return client.get_model_version_by_alias(model_name, CHAMPION)
    except mlflow.exceptions.MlflowException:
        return None


@dataclass(frozen=True)
class PromotionDecision:
    """Whether a candidate version became the champion, and the evidence."""

    model_name: str
    candidate_version: str
    candidate_accuracy: float
    champion_version: str | None
    champion_accuracy: float | None
    margin: float
    promoted: bool

    @property
    def reason(self) -> str:
        if self.champion_version is None:
            return "no champion yet: the candidate becomes the first"
        verb = "beats" if self.promoted else "does not beat"
        return (
            f"candidate v{self.candidate_version} ({self.candidate_accuracy:.4f}) {verb} "
            f"champion v{self.champion_version} ({self.champion_accuracy:.4f}) "
            f"by more than {self.margin:.4f} on the same test set"
        )

    def as_table(self):
        import pandas as pd

        return pd.DataFrame(
            {
                "version": [self.candidate_version, self.champion_version],
                "test accuracy": [self.candidate_accuracy, self.champion_accuracy],
            },
            index=pd.Index(["candidate", "champion"], name="role"),
        )


def decide_promotion(
    model_name: str,
    candidate_version: str,
    candidate_accuracy: float,
    champion: tuple[str, float] | None,
    margin: float = 0.0,
) -> PromotionDecision:
    """The rule: promote when there is no champion or the candidate beats it by > margin."""
    champion_version, champion_accuracy = champion or (None, None)
    promoted = champion is None or candidate_accuracy > champion_accuracy + margin
    return PromotionDecision(
        model_name,
        str(candidate_version),
        candidate_accuracy,
        champion_version,
        champion_accuracy,
        margin,
        promoted,
    )


def apply_promotion(decision: PromotionDecision) -> None:
    """Move the champion alias to the candidate if the decision says so; tag the evidence."""
    client = MlflowClient()
    name, version = decision.model_name, decision.candidate_version
    client.set_model_version_tag(name, version, "promotion", decision.reason)
    if decision.promoted:
        client.set_registered_model_alias(name, CHAMPION, version)
