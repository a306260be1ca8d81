"""The answer to harmful drift: label some foreign inputs, retrain, compare, roll out.

The retrained model is registered as the ``challenger``. It replaces the ``champion`` only
if the stated rule holds on held-out data: it keeps MNIST accuracy within
``max_mnist_drop`` of the champion and is more accurate on the traffic production now
receives (MNIST and foreign digits mixed in the observed share). The roll-out is blue/green,
and only for a promoted challenger: its deployment first gets a small share of the traffic.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from data_science import registry
from data_science.evaluate import evaluate_model
from data_science.registry import CHALLENGER, CHAMPION
from data_science.train import MODEL_NAME, TrainConfig, TrainingSet, TrainResult, train_on
from production.azureml_yaml import write_yaml
from production.deployment import endpoint_name, endpoint_spec, idle_colour, monitor_name


def with_labelled_foreign(
    data: TrainingSet, images: np.ndarray, labels: np.ndarray, share: float = 0.2, seed: int = 0
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
    champion_version: str
    table: pd.DataFrame  # rows: champion, challenger; columns: accuracy per test set and mix
    max_mnist_drop: float
    foreign_share: float
    promoted: bool

    @property
    def rule(self) -> str:
        return (
            f"promote if MNIST accuracy drops by at most {self.max_mnist_drop:.1%} and the "
            f"accuracy on today's mix ({self.foreign_share:.0%} foreign) improves"
        )

    @property
    def reason(self) -> str:
        verdict = "promoted" if self.promoted else "not promoted"
        scores = ", ".join(
            f"{name} {self.table.loc[CHAMPION, name]:.4f} -> {self.table.loc[CHALLENGER, name]:.4f}"
            for name in self.table.columns
        )
        return f"challenger {verdict} ({scores}); rule: {self.rule}"


def with_mix(table: pd.DataFrame, foreign_share: float) -> pd.DataFrame:
    """Add the accuracy on a traffic mix with ``foreign_share`` foreign digits."""
    mix = (1 - foreign_share) * table["mnist"] + foreign_share * table["foreign"]
    return table.assign(mix=mix)


def challenger_wins(table: pd.DataFrame, max_mnist_drop: float) -> bool:
    """The rule, on a table of accuracies (rows champion/challenger, columns mnist/mix)."""
    champion, challenger = table.loc[CHAMPION], table.loc[CHALLENGER]
    return bool(
        challenger["mnist"] >= champion["mnist"] - max_mnist_drop
        and challenger["mix"] > champion["mix"]
    )


def compare_and_promote(
    test_sets: dict[str, tuple[np.ndarray, np.ndarray]],
    champion: str,
    challenger: str,
    max_mnist_drop: float = 0.02,
    foreign_share: float = 0.1,
) -> ChallengerDecision:
    """Evaluate the ``champion`` and ``challenger`` versions (``models:/`` URIs of one
    registered model) on the same held-out sets (``{"mnist": (x, y), "foreign": (x, y)}``,
    prepared inputs) and give the champion role to the winner by the rule."""
    versions = {CHAMPION: registry.resolve(champion), CHALLENGER: registry.resolve(challenger)}
    rows = {}
    for role, version in versions.items():
        model = mlflow.keras.load_model(f"models:/{version.name}/{version.version}")
        scores = {name: evaluate_model(model, x, y) for name, (x, y) in test_sets.items()}
        rows[role] = {name: evaluation.accuracy for name, evaluation in scores.items()}
    table = with_mix(pd.DataFrame(rows).T, foreign_share)
    wins = challenger_wins(table, max_mnist_drop)
    decision = ChallengerDecision(
        versions[CHAMPION].name,
        str(versions[CHALLENGER].version),
        str(versions[CHAMPION].version),
        table,
        max_mnist_drop,
        foreign_share,
        wins,
    )
    registry.apply_decision(decision)
    return decision


def labelling_curve(
    mnist: TrainingSet,
    labelled: tuple[np.ndarray, np.ndarray],
    foreign_test: tuple[np.ndarray, np.ndarray],
    budgets: Sequence[int],
    config: TrainConfig,
    output: str | Path,
) -> pd.DataFrame:
    """What labelling buys: per budget, a model trained like the challenger on the first
    ``budget`` labelled foreign digits (prepared inputs), and its MNIST and foreign
    accuracy. Each model is tracked in the ``labelling-budget`` experiment, not registered."""
    images, labels = labelled
    rows = {}
    for budget in tqdm(budgets, desc="labelling budgets", disable=not budgets):
        data = with_labelled_foreign(mnist, images[:budget], labels[:budget], seed=config.seed)
        result = train_on(
            data, config, output, experiment="labelling-budget", register=False, progress=False
        )
        foreign = evaluate_model(result.model, *foreign_test).accuracy
        rows[budget] = {"mnist": result.evaluation.accuracy, "foreign": foreign}
    curve = pd.DataFrame.from_dict(rows, orient="index", columns=["mnist", "foreign"])
    return curve.rename_axis("labelled foreign digits")


def enough_labels(curve: pd.DataFrame, within: float = 0.03) -> int:
    """The smallest budget of a ``labelling_curve`` whose foreign accuracy is within
    ``within`` of the best: where more labels stop buying much."""
    foreign = curve["foreign"]
    return int(foreign.index[foreign >= foreign.max() - within].min())


ROLLOUT_STEPS = (10, 50, 100)  # % of the traffic on the new deployment, step by step


@dataclass(frozen=True)
class Rollout:
    """A promoted model's way to the traffic: its deployment, the one it takes over from,
    and the endpoint's traffic at each step."""

    endpoint: str
    live: str  # the deployment that takes the traffic until now
    new: str  # the idle one the promoted model goes to
    steps: list[Path]  # az ml online-endpoint update -f, one after the other

    def commands(self, bundle: str | Path, run_dir: str | Path) -> list[str]:
        """What a deployer runs, in order: the promoted model's ``bundle`` (written for the
        new deployment) created, each traffic step, then the monitor follows the traffic:
        the new bundle's own (on that model's reference data) starts, the old deployment's
        stops (paths relative to ``run_dir``)."""
        new = Path(bundle).relative_to(run_dir)
        return [
            f"az ml model create -f {new}/model.yml",
            f"az ml online-deployment create -f {new}/deployment.yml",
            *(
                f"az ml online-endpoint update -f {step.relative_to(run_dir)}"
                for step in self.steps
            ),
            f"az ml data create -f {new}/reference-data.yml",
            f"az ml schedule create -f {new}/monitor.yml",
            f"az ml schedule disable --name {monitor_name(self.endpoint, self.live)}",
        ]


def plan_rollout(
    decision: ChallengerDecision,
    out: str | Path,
    live: str,
    endpoint: str | None = None,
    steps: Sequence[int] = ROLLOUT_STEPS,
) -> Rollout | None:
    """The blue/green roll-out of a promoted challenger, as files in ``out``: it goes to the
    idle deployment beside ``live`` (the one serving now: after a roll-out, its ``new``),
    the traffic moves to it in ``steps`` (traffic is set on an endpoint's update, never at
    creation). None when the challenger was not promoted."""
    if not decision.promoted:
        return None
    endpoint, new, out = endpoint or endpoint_name(), idle_colour(live), Path(out)
    out.mkdir(parents=True, exist_ok=True)
    files = []
    for number, share in enumerate(steps, 1):
        spec = {**endpoint_spec(endpoint), "traffic": {new: share, live: 100 - share}}
        files.append(write_yaml(out / f"step-{number}-{new}-{share}.yml", spec))
    return Rollout(endpoint, live, new, files)
