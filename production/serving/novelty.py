"""Is an input unlike anything the model was trained on? A per-image novelty score.

The score is the Mahalanobis distance of the model's penultimate features to the mean of
the predicted class, with the within-class covariance of the training features (Lee et al.,
2018). The threshold is the 99th percentile of the score on clean digits the model never
saw, so about 1 % of clean inputs are flagged; inputs from another script score far higher.
The endpoint scores every image with it (the bundle's ``novelty.npz``), and the drift study
of notebook 06 uses the same function on replayed traffic.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

NOVELTY_FILE = "novelty.npz"


def novelty_scores(
    features: np.ndarray, probabilities: np.ndarray, class_means: np.ndarray, precision: np.ndarray
) -> np.ndarray:
    """Mahalanobis distance of each input's features to the mean of its predicted class."""
    offset = features - class_means[probabilities.argmax(axis=1)]
    return np.sqrt(np.einsum("nd,de,ne->n", offset, precision, offset))


@dataclass(frozen=True)
class NoveltyDetector:
    """The fitted parameters: class means, precision, and the calibrated threshold."""

    class_means: np.ndarray  # (classes, d)
    precision: np.ndarray  # (d, d)
    threshold: float
    expected_rate: float  # share of clean inputs flagged, by calibration

    def scores(self, features: np.ndarray, probabilities: np.ndarray) -> np.ndarray:
        return novelty_scores(features, probabilities, self.class_means, self.precision)

    def save(self, path: Path) -> None:
        np.savez(path, **{name: np.asarray(value) for name, value in vars(self).items()})

    @classmethod
    def load(cls, path: Path) -> NoveltyDetector:
        with np.load(path) as saved:
            return cls(
                saved["class_means"],
                saved["precision"],
                float(saved["threshold"]),
                float(saved["expected_rate"]),
            )
