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

from data_science import registry
from data_science.evaluate import evaluate_model
from data_science.registry import CHALLENGER, CHAMPION
from data_science.train import MODEL_NAME, TrainConfig, TrainingSet, TrainResult, train_on
from production.bundle import endpoint_spec


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
    version = registry.register(result.run_id, model_name)
    registry.set_role(model_name, version, CHALLENGER)
    return replace(result, model_version=version, model_uri=f"models:/{model_name}/{version}")


@dataclass(frozen=True)
class ChallengerDecision:
    model_name: str
    candidate_version: str  # the challenger's
    table: pd.DataFrame  # rows: champion, challenger; columns: accuracy per test set
    max_mnist_drop: float
    promoted: bool

    @property
    def rule(self) -> str:
        return (
            f"promote if MNIST accuracy drops by at most {self.max_mnist_drop:.1%} and "
            "foreign accuracy improves"
        )

    @property
    def reason(self) -> str:
        verdict = "promoted" if self.promoted else "not promoted"
        scores = ", ".join(
            f"{name} {self.table.loc[CHAMPION, name]:.4f} -> {self.table.loc[CHALLENGER, name]:.4f}"
            for name in self.table.columns
        )
        return f"challenger {verdict} ({scores}); rule: {self.rule}"


def challenger_wins(table: pd.DataFrame, max_mnist_drop: float) -> bool:
    """The rule, on a table of accuracies (rows champion/challenger, columns mnist/foreign)."""
    champion, challenger = table.loc[CHAMPION], table.loc[CHALLENGER]
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
    for role in (CHAMPION, CHALLENGER):
        model = mlflow.keras.load_model(registry.role_uri(model_name, role))
        scores = {name: evaluate_model(model, x, y) for name, (x, y) in test_sets.items()}
        rows[role] = {name: evaluation.accuracy for name, evaluation in scores.items()}
    table = pd.DataFrame(rows).T
    version = str(registry.resolve(registry.role_uri(model_name, CHALLENGER)).version)
    wins = challenger_wins(table, max_mnist_drop)
    decision = ChallengerDecision(model_name, version, table, max_mnist_drop, wins)
    registry.apply_decision(decision)
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
