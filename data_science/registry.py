"""The model registry in one place: register a version, find a role, promote by a rule.

Training (``data_science.train``), the search's promotion (``data_science.model_card``),
the pipeline's register step (``cloud.steps``) and retraining (``production.retrain``) all
go through here. Two roles mark versions of a registered model: ``champion`` (the version
that serves) and ``challenger`` (a retrained candidate waiting for its comparison). A role
is a version tag (``role: champion``), held by one version at a time: Azure ML's MLflow
registry keeps version tags but has no aliases, so the same code runs locally and against
a workspace. The kit's commands accept ``models:/<name>@<role>`` and resolve it here. A
version becomes the champion only through ``apply_decision``, which records the decision's
reason on the version.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Protocol

import mlflow
import numpy as np
import pandas as pd
from mlflow import MlflowClient
from mlflow.entities.model_registry import ModelVersion
from mlflow.utils import logging_utils

if TYPE_CHECKING:
    from data_science.evaluate import Evaluation

CHAMPION, CHALLENGER = "champion", "challenger"
ROLE_TAG = "role"


def register(run_id: str, model_name: str) -> str:
    """Register the model logged as ``model`` in run ``run_id``; return the new version.

    ``mlflow.register_model`` prints its routine messages ("Successfully registered
    model ...") on stderr, where a notebook shows them as warnings: they are held back.
    """
    logging_utils.disable_logging()
    try:
        return str(mlflow.register_model(f"runs:/{run_id}/model", model_name).version)
    finally:
        logging_utils.enable_logging()


def role_uri(model_name: str, role: str = CHAMPION) -> str:
    """``models:/<name>/<version>`` of the version holding ``role`` now."""
    found = version_in_role(model_name, role)
    if found is None:
        raise LookupError(f"no version of {model_name!r} holds the role {role!r}")
    return f"models:/{model_name}/{found.version}"


def version_in_role(model_name: str, role: str = CHAMPION) -> ModelVersion | None:
    """The version holding ``role``, or None when the model or the role does not exist yet.
    Any registry error (a store that cannot be reached, say) is raised."""
    holders = _holders(model_name, role)
    return max(holders, key=lambda version: int(version.version)) if holders else None


def _holders(model_name: str, role: str) -> list[ModelVersion]:
    # Listed by name and filtered here: the filters Azure ML's registry accepts are few.
    versions = MlflowClient().search_model_versions(f"name = '{model_name}'")
    return [version for version in versions if version.tags.get(ROLE_TAG) == role]


def _give_role(model_name: str, version: str, role: str) -> None:
    client = MlflowClient()
    client.set_model_version_tag(model_name, version, ROLE_TAG, role)
    for holder in _holders(model_name, role):
        if str(holder.version) != version:
            client.delete_model_version_tag(model_name, holder.version, ROLE_TAG)


def champion_version(model_name: str) -> ModelVersion | None:
    return version_in_role(model_name, CHAMPION)


def concrete_uri(model_uri: str) -> str:
    """``models:/<name>@<role>`` as the ``models:/<name>/<version>`` holding the role now;
    any other URI as it is."""
    if model_uri.startswith("models:/") and "@" in model_uri:
        return role_uri(*model_uri.removeprefix("models:/").split("@", 1))
    return model_uri


def resolve(model_uri: str) -> ModelVersion:
    """The registry entry behind ``models:/<name>/<version>`` or ``models:/<name>@<role>``."""
    reference = concrete_uri(model_uri).removeprefix("models:/")
    return MlflowClient().get_model_version(*reference.split("/", 1))


def evaluate_version(
    model_uri: str | None, x_test: np.ndarray, y_test: np.ndarray
) -> tuple[str, Evaluation] | None:
    """The version behind ``model_uri`` and its evaluation on this test set; None when there
    is no such model (``model_uri`` None, or a role no version holds yet)."""
    from data_science.evaluate import evaluate_model

    if model_uri is None:
        return None
    try:
        version = resolve(model_uri)
    except LookupError:
        return None
    model = mlflow.keras.load_model(f"models:/{version.name}/{version.version}")
    return str(version.version), evaluate_model(model, x_test, y_test)


def score(
    model_uri: str | None, x_test: np.ndarray, y_test: np.ndarray
) -> tuple[str, float] | None:
    """The version behind ``model_uri`` and its accuracy on this test set, or None
    (``evaluate_version``)."""
    evaluated = evaluate_version(model_uri, x_test, y_test)
    return (evaluated[0], evaluated[1].accuracy) if evaluated else None


def champion_score(
    model_name: str, x_test: np.ndarray, y_test: np.ndarray
) -> tuple[str, float] | None:
    """The champion's version and its accuracy on this test set, or None without one."""
    return score(f"models:/{model_name}@{CHAMPION}", x_test, y_test)


class Decision(Protocol):
    """Any promotion decision: which version, whether it won, and why."""

    model_name: str
    candidate_version: str
    champion_version: str | None  # the version it was measured against
    promoted: bool

    @property
    def reason(self) -> str: ...


@dataclass(frozen=True)
class PromotionDecision:
    """Whether a candidate version beats the champion on one test set, and the evidence."""

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
        candidate = self.candidate_version
        candidate = f"v{candidate}" if candidate.isdigit() else f"({candidate})"
        return (
            f"candidate {candidate} ({self.candidate_accuracy:.4f}) {verb} "
            f"champion v{self.champion_version} ({self.champion_accuracy:.4f}) "
            f"by more than {self.margin:.4f} on the same test set"
        )

    def record(self) -> dict:
        """The decision and its reason as plain values (for JSON)."""
        return {**asdict(self), "reason": self.reason}

    @classmethod
    def from_record(cls, record: dict) -> PromotionDecision:
        return cls(**{name: record[name] for name in cls.__dataclass_fields__})

    def as_table(self) -> pd.DataFrame:
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


def set_role(model_name: str, version: str, role: str) -> None:
    """Give ``role`` to ``version`` (challenger only: the champion moves by a decision)."""
    if role == CHAMPION:
        raise ValueError("the champion role moves only through apply_decision")
    _give_role(model_name, str(version), role)


def apply_decision(decision: Decision) -> None:
    """Tag the candidate version with the decision's reason and give the champion role to
    the winner: the candidate if it won, else the version it was measured against. That
    version may no longer hold the role (a notebook re-run after a later one promoted
    another): the decision then puts the registry back where the notebook left it."""
    client = MlflowClient()
    name, version = decision.model_name, str(decision.candidate_version)
    client.set_model_version_tag(name, version, "promotion", decision.reason)
    if (winning := _winning_version(decision)) is not None:
        _give_role(name, str(winning), CHAMPION)


def winner(decision: Decision) -> str:
    """``models:/<name>/<version>`` of the version a decision leaves as champion."""
    return f"models:/{decision.model_name}/{_winning_version(decision)}"


def _winning_version(decision: Decision) -> str | None:
    return decision.candidate_version if decision.promoted else decision.champion_version
