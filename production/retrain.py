"""The answer to harmful drift: label some foreign inputs, retrain, compare, roll out.

The retrained model is registered as the ``challenger``. It replaces the ``champion`` only
if the stated rule holds on held-out data: it keeps MNIST accuracy within
``max_mnist_drop`` of the champion and is more accurate on the foreign digits. The roll-out
is blue/green: the challenger's deployment first gets a small share of the traffic.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import yaml
from mlflow import MlflowClient

from data_science.evaluate import evaluate_model
from data_science.train import MODEL_NAME, TrainConfig, TrainingSet, TrainResult, train_on
from production.bundle import endpoint_spec

CHALLENGER = "challenger"


def with_labelled_foreign(
    data: TrainingSet, images: np.ndarray, labels: np.ndarray, share: float = 0.1, seed: int = 0
) -> TrainingSet:
    """MNIST plus labelled foreign inputs (prepared), repeated until they make up ``share``
    of the training set, shuffled. The test set stays MNIST's."""
    repeats = max(1, round(share * len(data.x_train) / ((1 - share) * len(images))))
    x = np.concatenate([data.x_train, np.tile(images, (repeats, 1, 1, 1))])
    y = np.concatenate([data.y_train, np.tile(labels, repeats)])
    order = np.random.default_rng(seed).permutation(len(x))
    return replace(data, x_train=x[order], y_train=y[order], source=f"{data.source}+foreign")


def train_challenger(
    data: TrainingSet, config: TrainConfig, output: str | Path, model_name: str = MODEL_NAME
) -> TrainResult:
    """Train on ``data`` and register the model as the challenger (never the champion)."""
    result = train_on(data, config, output, experiment="mnist-retraining", register=False)
    version = mlflow.register_model(f"runs:/{result.run_id}/model", model_name).version
    MlflowClient().set_registered_model_alias(model_name, CHALLENGER, version)
    return replace(result, model_version=str(version), model_uri=f"models:/{model_name}/{version}")


@dataclass(frozen=True)
class ChallengerDecision:
    table: pd.DataFrame  # rows: champion, challenger; columns: accuracy per test set
    max_mnist_drop: float
    promoted: bool

    @property
    def rule(self) -> str:
        return (
            f"promote if MNIST accuracy drops by at most {self.max_mnist_drop:.1%} and "
            "foreign accuracy improves"
        )


def challenger_wins(table: pd.DataFrame, max_mnist_drop: float) -> bool:
    """The rule, on a table of accuracies (rows champion/challenger, columns mnist/foreign)."""
    champion, challenger = table.loc["champion"], table.loc[CHALLENGER]
    return bool(
        challenger["mnist"] >= champion["mnist"] - max_mnist_drop
        and challenger["foreign"] > champion["foreign"]
    )


def compare_and_promote(
    test_sets: dict[str, tuple[np.ndarray, np.ndarray]],
    model_name: str = MODEL_NAME,
    max_mnist_drop: float = 0.003,
) -> ChallengerDecision:
    """Evaluate champion and challenger on the same held-out sets (``{"mnist": (x, y),
    "foreign": (x, y)}``, prepared inputs) and promote the challenger if the rule holds."""
    rows = {}
    for role in ("champion", CHALLENGER):
        model = mlflow.keras.load_model(f"models:/{model_name}@{role}")
        scores = {name: evaluate_model(model, x, y) for name, (x, y) in test_sets.items()}
        rows[role] = {name: evaluation.accuracy for name, evaluation in scores.items()}
    table = pd.DataFrame(rows).T
    decision = ChallengerDecision(table, max_mnist_drop, challenger_wins(table, max_mnist_drop))
    client = MlflowClient()
    version = client.get_model_version_by_alias(model_name, CHALLENGER).version
    client.set_model_version_tag(model_name, version, "challenger_decision", decision.rule)
    if decision.promoted:
        client.set_registered_model_alias(model_name, "champion", version)
    return decision


def write_rollout(
    out: str | Path, endpoint: str = "digits-endpoint", green_share: int = 10
) -> Path:
    """The endpoint's traffic for a blue/green roll-out: ``green_share`` % to the new model."""
    spec = {**endpoint_spec(endpoint), "traffic": {"blue": 100 - green_share, "green": green_share}}
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return path
