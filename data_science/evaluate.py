"""Evaluation of a classifier on a labelled test set."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats


@dataclass(frozen=True)
class Evaluation:
    """What a model got right and wrong on one test set."""

    accuracy: float
    per_class: pd.DataFrame  # index: class name; columns: precision, recall, f1, support
    confusion: np.ndarray  # rows: true class, columns: predicted class
    probabilities: np.ndarray  # (N, classes)
    labels: np.ndarray  # (N,) true labels
    class_names: list[str]

    @property
    def predictions(self) -> np.ndarray:
        return self.probabilities.argmax(axis=1)

    def worst_errors(self, count: int = 16) -> np.ndarray:
        """Indices of the misclassified examples the model was most confident about."""
        wrong = np.flatnonzero(self.predictions != self.labels)
        confidence = self.probabilities[wrong].max(axis=1)
        return wrong[np.argsort(-confidence, kind="stable")][:count]


def confusion_matrix(labels: np.ndarray, predictions: np.ndarray, num_classes: int) -> np.ndarray:
    matrix = np.zeros((num_classes, num_classes), np.int64)
    np.add.at(matrix, (labels, predictions), 1)
    return matrix


def per_class_scores(confusion: np.ndarray, class_names: list[str]) -> pd.DataFrame:
    true_positives = np.diag(confusion).astype(float)
    predicted, actual = confusion.sum(axis=0), confusion.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(predicted > 0, true_positives / predicted, 0.0)
        recall = np.where(actual > 0, true_positives / actual, 0.0)
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    return pd.DataFrame(
        {"precision": precision, "recall": recall, "f1": f1, "support": actual},
        index=pd.Index(class_names, name="class"),
    )


def evaluate_probabilities(
    probabilities: np.ndarray, labels: np.ndarray, class_names: list[str] | None = None
) -> Evaluation:
    """Scores from predicted class probabilities and the true labels."""
    num_classes = probabilities.shape[1]
    class_names = class_names or [str(i) for i in range(num_classes)]
    predictions = probabilities.argmax(axis=1)
    confusion = confusion_matrix(labels, predictions, num_classes)
    return Evaluation(
        accuracy=float((predictions == labels).mean()),
        per_class=per_class_scores(confusion, class_names),
        confusion=confusion,
        probabilities=probabilities,
        labels=labels,
        class_names=class_names,
    )


def predict_in_batches(model, images: np.ndarray, batch_size: int = 1024):
    """A Keras model's outputs (an array, or a list for several outputs), called batch by
    batch. Unlike ``model.predict`` this builds no graph per model, so evaluating several
    models in one session does not make TensorFlow warn about retracing."""
    batches = [
        model(images[i : i + batch_size], training=False) for i in range(0, len(images), batch_size)
    ]
    if isinstance(batches[0], list | tuple):
        return [np.concatenate([np.asarray(b[k]) for b in batches]) for k in range(len(batches[0]))]
    return np.concatenate([np.asarray(b) for b in batches])


def evaluate_model(
    model, images: np.ndarray, labels: np.ndarray, class_names: list[str] | None = None
) -> Evaluation:
    """Run ``model`` on prepared images (N, 28, 28, C) in batches and score it."""
    return evaluate_probabilities(predict_in_batches(model, images), labels, class_names)


@dataclass(frozen=True)
class PairedTest:
    """Two models' answers to the same examples, compared where they disagree."""

    only_first_right: int
    only_second_right: int
    p_value: float  # McNemar's exact test: "both are equally good" is this unlikely


def mcnemar(first: Evaluation, second: Evaluation) -> PairedTest:
    """McNemar's exact test: examples both models get right, or both wrong, say nothing
    about which is better; each one they disagree on is, if they are equally good, a fair
    coin flip between them. The p-value is the two-sided binomial tail of that count."""
    if not np.array_equal(first.labels, second.labels):
        raise ValueError("a paired test needs both models scored on the same examples")
    first_right = first.predictions == first.labels
    second_right = second.predictions == second.labels
    only_first, only_second = (
        int((first_right & ~second_right).sum()),
        int((~first_right & second_right).sum()),
    )
    flips = only_first + only_second
    p_value = stats.binomtest(only_first, flips).pvalue if flips else 1.0
    return PairedTest(only_first, only_second, float(p_value))
