"""Drift detectors, side by side, and what they are worth.

The monitor is fitted the way the methods are meant to be fitted: class means, covariance
and principal axes on the features of the model's own training data; the novelty threshold
on held-out clean data the model never saw (a random sample, not the first rows of a file);
the KS references on clean traffic, apart from both. The detectors:
- ``confidence_ks``: KS test on the top softmax probability (prediction drift);
- ``softmax_ks``: KS tests on each softmax output, Bonferroni-corrected;
- ``features_ks``: KS tests on the top principal components of the network's penultimate
  features (input drift in a low-dimensional space), Bonferroni-corrected;
- ``novelty_binomial``: a per-input novelty score (class-conditional Mahalanobis distance on
  the penultimate features) flags inputs beyond the calibration data's 99th percentile; a
  binomial test asks whether the day has more flagged inputs than 1 %;
- ``novelty_cusum``: a CUSUM over days of the standardised daily flagged count, which adds
  up small excesses that no single day shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd
from scipy import stats

from production.serving.novelty import NoveltyDetector, novelty_scores

MAX_FITTED = 20_000  # training images enough for class means and covariance
DETECTORS = ("confidence_ks", "softmax_ks", "features_ks", "novelty_binomial", "novelty_cusum")
DAILY_DETECTORS = DETECTORS[:4]


@dataclass(frozen=True)
class ModelView:
    """What the model makes of a set of inputs: its softmax outputs and penultimate features."""

    probabilities: np.ndarray  # (N, classes)
    features: np.ndarray  # (N, d)

    def take(self, index: np.ndarray) -> ModelView:
        return ModelView(self.probabilities[index], self.features[index])


@dataclass(frozen=True)
class Pool:
    """Inputs the simulator draws from: raw images, true labels and the model's view."""

    images: np.ndarray
    labels: np.ndarray
    view: ModelView


def pool_of(model, images: np.ndarray, labels: np.ndarray) -> Pool:
    """A pool of raw images, seen by ``model`` through the endpoint's preprocessing."""
    from data_science.preprocessing import to_model_input

    return Pool(images, labels, model_view(model, to_model_input(images)))


@dataclass
class DriftMonitor:
    """Detectors fitted on the model's own training data and calibrated on held-out data."""

    reference: ModelView  # held-out clean data: the KS tests' reference
    mean: np.ndarray
    components: np.ndarray  # (k, d) principal axes of the fitted data's features
    class_means: np.ndarray  # (classes, d)
    precision: np.ndarray  # (d, d) inverse of the shared within-class covariance
    novelty_threshold: float
    alpha: float = 0.01
    novelty_quantile: float = 0.99
    cusum_slack: float = 1.0  # in standard errors of the daily novel share
    cusum_limit: float = 4.0

    @classmethod
    def fit(
        cls,
        fitted: ModelView,
        calibration: ModelView,
        reference: ModelView | None = None,
        alpha: float = 0.01,
        components: int = 16,
        novelty_quantile: float = 0.99,
    ) -> DriftMonitor:
        """Class means, covariance and principal axes from the features of the data the
        model was fitted on; the novelty threshold from separate, held-out clean
        ``calibration`` data; the KS tests compare each day with ``reference``, clean
        traffic (default: the calibration data)."""
        mean = fitted.features.mean(axis=0)
        axes = np.linalg.svd(fitted.features - mean, full_matrices=False)[2][:components]
        predicted = fitted.probabilities.argmax(axis=1)
        classes = fitted.probabilities.shape[1]
        class_means = np.stack([
            fitted.features[predicted == c].mean(axis=0) if (predicted == c).any() else mean
            for c in range(classes)
        ])  # fmt: skip
        within = fitted.features - class_means[predicted]
        covariance = np.cov(within, rowvar=False) + 1e-3 * np.eye(within.shape[1])
        precision = np.linalg.inv(covariance)
        monitor = cls(
            calibration if reference is None else reference,
            mean, axes, class_means, precision, np.inf, alpha, novelty_quantile,
        )  # fmt: skip
        scores = monitor.novelty(calibration)
        monitor.novelty_threshold = float(np.quantile(scores, novelty_quantile, method="higher"))
        return monitor

    def novelty(self, view: ModelView) -> np.ndarray:
        """Mahalanobis distance of each input to the mean of its predicted class (the
        endpoint's own score, ``production.serving.novelty``)."""
        return novelty_scores(view.features, view.probabilities, self.class_means, self.precision)

    def novelty_detector(self) -> NoveltyDetector:
        """What the endpoint needs to flag novel inputs as they arrive."""
        return NoveltyDetector(
            self.class_means,
            self.precision,
            self.novelty_threshold,
            round(1 - self.novelty_quantile, 6),
        )

    def project(self, view: ModelView) -> np.ndarray:
        return (view.features - self.mean) @ self.components.T

    def day_statistics(self, day: ModelView) -> dict[str, float]:
        """Each daily detector's p-value for one day, and the day's share of novel inputs."""
        ref = self.reference
        confidence = stats.ks_2samp(ref.probabilities.max(1), day.probabilities.max(1)).pvalue
        softmax = _bonferroni_ks(ref.probabilities, day.probabilities)
        features = _bonferroni_ks(self.project(ref), self.project(day))
        flagged = int((self.novelty(day) > self.novelty_threshold).sum())
        expected = 1 - self.novelty_quantile
        binomial = stats.binomtest(flagged, len(day.features), expected, "greater").pvalue
        return {
            "confidence_ks": confidence,
            "softmax_ks": softmax,
            "features_ks": features,
            "novelty_binomial": binomial,
            "novel_share": flagged / len(day.features),
            "n": len(day.features),
        }

    def monitor_days(self, days: list[ModelView]) -> pd.DataFrame:
        """One row per day: every detector's p-value (CUSUM: its statistic) and alarm."""
        rows = [self.day_statistics(day) for day in days]
        table = pd.DataFrame(rows).rename_axis("day")
        for name in DAILY_DETECTORS:
            table[f"{name}_alarm"] = table[name] < self.alpha
        table["novelty_cusum"] = self.cusum(table["novel_share"], table["n"])
        table["novelty_cusum_alarm"] = table["novelty_cusum"] > self.cusum_limit
        return table

    def cusum(self, shares: pd.Series, sizes: pd.Series) -> np.ndarray:
        """One-sided CUSUM of the standardised daily novel share; restarts after an alarm."""
        expected = 1 - self.novelty_quantile
        z = (shares - expected) / np.sqrt(expected * (1 - expected) / sizes)
        level, levels = 0.0, []
        for value in z:
            level = max(0.0, level + value - self.cusum_slack)
            levels.append(level)
            if level > self.cusum_limit:
                level = 0.0
        return np.array(levels)


def _bonferroni_ks(reference: np.ndarray, day: np.ndarray) -> float:
    """The smallest per-column KS p-value, times the number of columns (capped at 1)."""
    p_values = [stats.ks_2samp(reference[:, i], day[:, i]).pvalue for i in range(day.shape[1])]
    return min(1.0, min(p_values) * len(p_values))


def request_view(traffic: pd.DataFrame, clean: ModelView, foreign: ModelView) -> ModelView:
    """The model's view of every simulated request, in traffic order."""
    is_foreign = (traffic["source"] == "foreign").to_numpy()
    index = traffic["index"].to_numpy()
    view = ModelView(
        np.empty((len(traffic), clean.probabilities.shape[1]), clean.probabilities.dtype),
        np.empty((len(traffic), clean.features.shape[1]), clean.features.dtype),
    )
    for mask, pool in ((is_foreign, foreign), (~is_foreign, clean)):
        part = pool.take(index[mask])
        view.probabilities[mask], view.features[mask] = part.probabilities, part.features
    return view


def days_of(traffic: pd.DataFrame, clean: ModelView, foreign: ModelView) -> list[ModelView]:
    """The model's view of each simulated day, in day order."""
    view, days = request_view(traffic, clean, foreign), traffic["day"].to_numpy()
    return [view.take(np.flatnonzero(days == day)) for day in np.unique(days)]


@cache
def _with_features(model):
    from data_science.model import with_features  # TensorFlow, only when a model is read

    return with_features(model)


def model_view(model, images: np.ndarray) -> ModelView:
    """Softmax outputs and penultimate features of a Keras classifier on prepared images."""
    from data_science.evaluate import predict_in_batches

    return ModelView(*predict_in_batches(_with_features(model), images))


def with_outcomes(
    table: pd.DataFrame, traffic: pd.DataFrame, correct: np.ndarray, monitor: DriftMonitor
) -> pd.DataFrame:
    """Add the day's true foreign share and accuracy, and the accuracy drop the novelty
    detector estimates (every novel input beyond the expected 1 % counted as wrong)."""
    table = table.copy()
    days = traffic["day"].to_numpy()
    is_foreign = traffic["source"].to_numpy() == "foreign"
    table["foreign_share"] = pd.Series(is_foreign).groupby(days).mean()
    table["accuracy"] = pd.Series(correct).groupby(days).mean()
    excess = table["novel_share"] - (1 - monitor.novelty_quantile)
    table["estimated_accuracy_drop"] = excess.clip(lower=0)
    return table


def simulate_and_monitor(monitor: DriftMonitor, clean: Pool, foreign: Pool, **simulation):
    """Simulate traffic (``production.traffic.simulate_traffic`` arguments) and monitor it
    in process: one row per day with every detector, the foreign share and the accuracy."""
    from production.traffic import simulate_traffic

    traffic = simulate_traffic(clean.labels, foreign.labels, **simulation)
    table = monitor.monitor_days(days_of(traffic, clean.view, foreign.view))
    predicted = request_view(traffic, clean.view, foreign.view).probabilities.argmax(1)
    correct = predicted == traffic["label"].to_numpy()
    return with_outcomes(table, traffic, correct, monitor)


def monitor_replayed(
    monitor: DriftMonitor, model, inputs_by_day: dict[int, np.ndarray], answered: pd.DataFrame
) -> pd.DataFrame:
    """Monitor the collected inputs of replayed days; ``answered`` holds the endpoint's
    predictions next to the simulated ground truth."""
    table = monitor.monitor_days([model_view(model, x) for x in inputs_by_day.values()])
    table.index = pd.Index(list(inputs_by_day), name="day")
    correct = answered["predicted"].to_numpy() == answered["label"].to_numpy()
    return with_outcomes(table, answered, correct, monitor)


def power_table(
    monitor: DriftMonitor,
    clean: Pool,
    foreign: Pool,
    contaminations=(0.0, 0.01, 0.02, 0.05, 0.1, 0.25),
    days: int = 200,
    requests_per_day: int = 500,
    seed: int = 0,
) -> pd.DataFrame:
    """Share of days on which each detector raises an alarm, per contamination level.

    At 0 % it is the false-alarm rate; above, the daily detection power.
    """
    rows = {}
    for contamination in contaminations:
        table = simulate_and_monitor(
            monitor, clean, foreign, days=days, requests_per_day=requests_per_day,
            scenario="sudden", contamination=contamination, onset=0, seed=seed,
        )  # fmt: skip
        rows[contamination] = {name: table[f"{name}_alarm"].mean() for name in DETECTORS}
    return pd.DataFrame(rows).T.rename_axis("contamination")


def detection_delays(
    monitor: DriftMonitor,
    clean: Pool,
    foreign: Pool,
    contamination: float,
    runs: int = 50,
    horizon: int = 10,
    requests_per_day: int = 500,
    seed: int = 0,
) -> pd.DataFrame:
    """Per detector: the share of runs detected on the first drifted day and within 3, 7
    and 14 days (those within the ``horizon``), and the median delay (days after onset;
    the onset day is day 1)."""
    first_alarm = {name: [] for name in DETECTORS}
    for run in range(runs):
        table = simulate_and_monitor(
            monitor, clean, foreign, days=horizon, requests_per_day=requests_per_day,
            scenario="sudden", contamination=contamination, onset=0, seed=seed + run,
        )  # fmt: skip
        for name in DETECTORS:
            alarms = np.flatnonzero(table[f"{name}_alarm"].to_numpy())
            first_alarm[name].append(alarms[0] + 1 if len(alarms) else np.inf)
    windows = {"day 1": 1, **{f"within {d} days": d for d in (3, 7, 14) if d <= horizon}}
    rows = {}
    for name, delays in first_alarm.items():
        delays = np.array(delays)
        rows[name] = {column: np.mean(delays <= days) for column, days in windows.items()}
        rows[name]["median delay"] = float(np.median(delays))
    return pd.DataFrame(rows).T


def fit_monitor(
    model,
    fitted_images: np.ndarray,
    unseen_images: np.ndarray,
    unseen_labels: np.ndarray,
    seed: int = 0,
    min_calibration: int = 1000,
    max_fitted: int = MAX_FITTED,
) -> tuple[DriftMonitor, Pool]:
    """Fit the monitor on (up to ``max_fitted`` of) the raw images the model was trained on.

    The clean images it never saw are split at random into calibration data for the novelty
    threshold (half, at least ``min_calibration``) and the pool clean traffic is drawn
    from. That pool is also the KS tests' reference: in the simulation it stands for the
    clean traffic of the first days after go-live, which a monitor compares today with.
    """
    from data_science.preprocessing import to_model_input

    order = np.random.default_rng(seed).permutation(len(unseen_labels))
    cut = max(min_calibration, len(order) // 2)
    if len(order) - cut < 100:
        raise ValueError(
            f"{len(order)} unseen clean images leave fewer than 100 for traffic after "
            f"{cut} for calibration"
        )
    fitted = model_view(model, to_model_input(fitted_images[:max_fitted]))
    unseen = pool_of(model, unseen_images, unseen_labels)
    calibration, pool = unseen.view.take(order[:cut]), unseen.view.take(order[cut:])
    monitor = DriftMonitor.fit(fitted, calibration, reference=pool)
    return monitor, Pool(unseen_images[order[cut:]], unseen_labels[order[cut:]], pool)


def compare_sources(monitor: DriftMonitor, pools: dict[str, Pool]) -> pd.DataFrame:
    """Per source: the model's accuracy and confidence, the share flagged as novel at the
    calibrated threshold, and how well the novelty score tells the source from the first
    pool (clean digits): the AUROC, the chance that one of its inputs scores above a clean
    one (0.5: not at all, 1: always)."""
    scores = {name: monitor.novelty(pool.view) for name, pool in pools.items()}
    reference = next(iter(scores.values()))
    rows = {}
    for name, pool in pools.items():
        probabilities = pool.view.probabilities
        rows[name] = {
            "accuracy": (probabilities.argmax(1) == pool.labels).mean(),
            "mean confidence": probabilities.max(1).mean(),
            "flagged novel": (scores[name] > monitor.novelty_threshold).mean(),
            "AUROC against clean": auroc(reference, scores[name]),
        }
    return pd.DataFrame(rows).T.round(3)


def auroc(negatives: np.ndarray, positives: np.ndarray) -> float:
    """The area under the ROC curve of a score that should be higher for ``positives``:
    the Mann-Whitney U statistic over the number of pairs (ties count half)."""
    u = stats.mannwhitneyu(positives, negatives, alternative="two-sided").statistic
    return float(u / (len(positives) * len(negatives)))


def alarm_summary(table: pd.DataFrame, onset: int, detector: str = "novelty_binomial") -> dict:
    """How a detector did on one timeline: its first alarm on or after ``onset``, its alarms
    before it (false alarms) and the share of drifted days with an alarm."""
    alarms = table[f"{detector}_alarm"].to_numpy()
    drifted = table.index.to_numpy() >= onset
    caught = table.index.to_numpy()[alarms & drifted]
    return {
        "first_alarm_day": int(caught[0]) if len(caught) else None,
        "alarms_before_onset": int(alarms[~drifted].sum()),
        "drifted_days_alarmed": float(alarms[drifted].mean()) if drifted.any() else None,
    }


def binomial_arithmetic(
    monitor: DriftMonitor, requests_per_day: int, contamination: float, foreign_flagged: float
) -> pd.Series:
    """The novelty detector's arithmetic for one day: flagged inputs expected without and
    with drift (``foreign_flagged``: the share of foreign inputs beyond the threshold), the
    count the binomial test needs for an alarm, and the chance a drifted day reaches it."""
    expected = 1 - monitor.novelty_quantile
    drifted = (1 - contamination) * expected + contamination * foreign_flagged
    counts = np.arange(requests_per_day + 1)
    tail = stats.binom.sf(counts - 1, requests_per_day, expected)  # P(flagged >= count)
    needed = int(counts[tail < monitor.alpha][0])
    return pd.Series(
        {
            "requests per day": requests_per_day,
            "flagged, clean day (expected)": requests_per_day * expected,
            "flagged, drifted day (expected)": requests_per_day * drifted,
            "flagged needed for an alarm": needed,
            "chance of an alarm, clean day": tail[needed],
            "chance of an alarm, drifted day": stats.binom.sf(
                needed - 1, requests_per_day, drifted
            ),
        }
    )
