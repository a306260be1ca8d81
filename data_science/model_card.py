"""Promotion with evidence: the search's winner is trained again with the champion's budget
and data (like with like), registered, measured against the current champion on the same
test set, promoted only if it wins by more than the margin (by default one standard error
of that accuracy), and the decision is written up as a model card (Markdown) kept with the
run and the model."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import mlflow
import pandas as pd
from mlflow import MlflowClient

from data_science import registry
from data_science.evaluate import Evaluation, PairedTest, evaluate_model, mcnemar
from data_science.registry import PromotionDecision
from data_science.search import EXPERIMENT, SearchResult, Trial
from data_science.tracking import use_tracking
from data_science.train import (
    MODEL_NAME,
    TrainConfig,
    TrainingSet,
    logged_config,
    mnist_training_set,
    train_on,
)

INTENDED_USE = (
    "Classifying one handwritten digit (0-9) per image, after the shared preprocessing "
    "`normalise_digit`: crops of forms, scans and PDF pages. A teaching model for the course."
)
LIMITS = (
    "Knows only the ten Western Arabic digits: any other image (letters, other scripts such "
    "as Devanagari or Japanese digits, blank crops) still gets one of ten answers, often "
    "with high confidence. No reject option; no calibration check beyond the test set.",
    "Trained and tested on MNIST-style digits (white ink on black, centred); accuracy on "
    "other handwriting populations is unmeasured.",
)


@dataclass(frozen=True)
class Finalist:
    """A trial's settings as the candidate for promotion, and the run holding its model."""

    trial: Trial  # the search trial whose hyperparameters it has
    run_id: str
    config: TrainConfig  # everything it was trained with
    data: TrainingSet


@dataclass(frozen=True)
class Promotion:
    decision: PromotionDecision
    finalist: Finalist
    evaluation: Evaluation  # the registered candidate on the test set
    card: str  # the model card, Markdown
    card_path: Path
    paired: PairedTest | None  # McNemar's test, champion against candidate (None: no champion)

    def settings(self) -> pd.DataFrame:
        """What the candidate was trained with, beside what the champion it was measured
        against was trained with (read back from the champion's run)."""
        table = pd.DataFrame({"candidate": asdict(self.finalist.config)})
        if self.decision.champion_version:
            champion_uri = f"models:/{self.decision.model_name}/{self.decision.champion_version}"
            table["champion"] = pd.Series(asdict(logged_config(champion_uri)))
        return table.astype(str)


def train_like_champion(
    trial: Trial, base: TrainConfig, output: str | Path, champion: str | None
) -> Finalist:
    """The trial's hyperparameters trained with the budget and data of the ``champion``
    model URI (its logged epochs, data source, training-set size and seed), so that the
    comparison is like with like; with ``base``'s when there is no champion (None).
    Tracked, not registered."""
    use_tracking(output, EXPERIMENT)
    budget = logged_config(champion) if champion else base
    config = replace(budget, **trial.params)
    data = mnist_training_set(config, progress=False)
    result = train_on(data, config, output, EXPERIMENT, register=False, progress=False)
    MlflowClient().set_tag(result.run_id, "mlflow.runName", f"trial {trial.number}, final")
    return Finalist(trial, result.run_id, config, data)


def promote_with_evidence(
    search: SearchResult,
    finalist: Finalist,
    output: str | Path,
    champion: str | None,
    model_name: str = MODEL_NAME,
    margin: float | None = None,
) -> Promotion:
    """Register the finalist's model and give it the champion role only if its test
    accuracy beats that of the ``champion`` model URI (None: no champion yet), on the
    finalist's test set, by more than ``margin`` (None: one standard error of the
    champion's accuracy there); else the role stays with (or returns to) that champion.
    The model card goes to ``output/model_cards/``, to the search's parent run and into the
    version's description."""
    data = finalist.data
    model = mlflow.keras.load_model(f"runs:/{finalist.run_id}/model")
    evaluation = evaluate_model(model, data.x_test, data.y_test, data.class_names)
    evaluated = registry.evaluate_version(champion, data.x_test, data.y_test)
    champion = (evaluated[0], evaluated[1].accuracy) if evaluated else None
    paired = mcnemar(evaluated[1], evaluation) if evaluated else None
    if margin is None:
        margin = standard_error(champion[1], len(data.y_test)) if champion else 0.0
    version = registry.register(finalist.run_id, model_name)
    decision = registry.decide_promotion(model_name, version, evaluation.accuracy, champion, margin)
    registry.apply_decision(decision)

    card = model_card(decision, finalist, evaluation, search, paired)
    card_path = Path(output) / "model_cards" / f"{model_name}-v{version}.md"
    card_path.parent.mkdir(parents=True, exist_ok=True)
    card_path.write_text(card)
    client = MlflowClient()
    client.log_artifact(search.parent_run_id, str(card_path), "model_card")
    client.update_model_version(model_name, version, description=card)
    for key, value in {
        "promoted": decision.promoted,
        "promotion": decision.reason,
        "candidate_version": version,
    }.items():
        client.set_tag(search.parent_run_id, key, value)
    return Promotion(decision, finalist, evaluation, card, card_path, paired)


def standard_error(accuracy: float, count: int) -> float:
    """The binomial standard error of an accuracy measured on ``count`` examples."""
    return math.sqrt(accuracy * (1 - accuracy) / count)


def model_card(
    decision: PromotionDecision,
    finalist: Finalist,
    evaluation: Evaluation,
    search: SearchResult,
    paired: PairedTest | None = None,
) -> str:
    """The model card: decision, model, data, metrics, weak spots, intended use, limits."""
    trial, data, config = finalist.trial, finalist.data, finalist.config
    n_test = len(evaluation.labels)
    error = standard_error(evaluation.accuracy, n_test)
    verdict = "Promoted to `champion`" if decision.promoted else "Not promoted"
    params = pd.DataFrame(
        {"value": trial.params.values()}, pd.Index(trial.params, name="parameter")
    )
    lines = [
        f"# Model card: {decision.model_name} v{decision.candidate_version}",
        "",
        "## Decision",
        "",
        f"**{verdict}**: {decision.reason}.",
        "",
        markdown_table(decision.as_table()),
        "",
        f"Stated margin: {decision.margin:.4f}. One test image is {1 / n_test:.4f} of accuracy;",
        f"the candidate's standard error on {n_test:,} test images is ±{error:.4f}.",
        *paired_test_lines(paired),
        "",
        "## Model",
        "",
        f"The settings of trial {trial.number} of a {search.sampler} search of "
        f"{len(search.trials)} trials ({search.seconds:.0f} s, search run "
        f"`{search.parent_run_id}`), trained in MLflow run `{finalist.run_id}` with seed "
        f"{config.seed} for {config.epochs} epochs.",
        "",
        markdown_table(params),
        "",
        "## Data",
        "",
        f"- source: {data.source}",
        f"- content digest: `{data.digest}`",
        f"- {len(data.x_train):,} training images (validation split from them), "
        f"{n_test:,} test images",
        "",
        "## Metrics",
        "",
        f"- validation accuracy (used to choose the trial): {trial.val_accuracy:.4f}",
        f"- test accuracy (used only to decide the promotion): {evaluation.accuracy:.4f} "
        f"± {error:.4f}",
        *seed_spread_lines(search, trial),
        "",
        "## Weak spots",
        "",
        markdown_table(weak_spots(evaluation)),
        "",
        "## Intended use",
        "",
        INTENDED_USE,
        "",
        "## Limits",
        "",
        *(f"- {limit}" for limit in LIMITS),
        "",
    ]
    return "\n".join(lines)


def paired_test_lines(paired: PairedTest | None) -> list[str]:
    if paired is None:
        return []
    return [
        f"Paired test (McNemar, exact): the champion alone was right on "
        f"{paired.only_first_right} test images, the candidate alone on "
        f"{paired.only_second_right}; p = {paired.p_value:.4f}.",
    ]


def seed_spread_lines(search: SearchResult, trial: Trial) -> list[str]:
    spread = search.seed_spread()
    if trial.number not in spread.index:
        return ["- seed spread: not measured (no extra seeds in this search)"]
    row = spread.loc[trial.number]
    return [
        f"- trial {trial.number}'s settings in the search's short runs (not this model), over "
        f"{int(row.seeds)} seeds: test accuracy {row.test_mean:.4f} ± {row.test_std:.4f} "
        f"(range {row.test_min:.4f} to {row.test_max:.4f})"
    ]


def weak_spots(evaluation: Evaluation, count: int = 3):
    """The ``count`` classes with the lowest F1, and what they are most often taken for."""
    worst = evaluation.per_class.nsmallest(count, "f1")[["precision", "recall", "f1"]]
    names = evaluation.class_names
    confusion = evaluation.confusion.copy()
    confusion[range(len(names)), range(len(names))] = 0  # errors only
    worst["most often taken for"] = [
        names[confusion[names.index(label)].argmax()] for label in worst.index
    ]
    return worst


def markdown_table(frame: pd.DataFrame) -> str:
    """A small data frame as a Markdown table; floats with four significant digits."""

    def cell(value) -> str:
        return f"{value:.4g}" if isinstance(value, float) else str(value)

    header = [frame.index.name or "", *frame.columns]
    rows = [
        [cell(index), *map(cell, row)]
        for index, row in zip(frame.index, frame.to_numpy(), strict=True)
    ]
    lines = [header, ["---"] * len(header), *rows]
    return "\n".join("| " + " | ".join(map(str, line)) + " |" for line in lines)
