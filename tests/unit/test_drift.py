"""Detector behaviour on synthetic model views with known shifts."""

import numpy as np
import pytest

from production.drift import DAILY_DETECTORS, DriftMonitor, ModelView

RNG = np.random.default_rng(0)
CENTRES = RNG.normal(0, 4, (3, 8))


def view(n: int, shift: float = 0.0, seed: int = 0) -> ModelView:
    """Features around three class centres; probabilities from the distances."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(3, size=n)
    features = CENTRES[labels] + rng.normal(0, 1, (n, 8)) + shift
    logits = -((features[:, None, :] - CENTRES[None]) ** 2).sum(-1) / 8
    probabilities = np.exp(logits - logits.max(1, keepdims=True))
    return ModelView(probabilities / probabilities.sum(1, keepdims=True), features)


def mixed(n: int, share: float, seed: int) -> ModelView:
    clean, novel = view(n, seed=seed), view(n, shift=6.0, seed=seed + 1000)
    take = int(share * n)
    return ModelView(
        np.concatenate([clean.probabilities[take:], novel.probabilities[:take]]),
        np.concatenate([clean.features[take:], novel.features[:take]]),
    )


@pytest.fixture(scope="module")
def monitor():
    return DriftMonitor.fit(view(3000, seed=1), view(2000, seed=2), components=4)


def test_identical_data_raises_no_alarm(monitor):
    table = monitor.monitor_days([monitor.reference] * 3)
    assert not table[[f"{name}_alarm" for name in DAILY_DETECTORS]].to_numpy().any()
    assert not table["novelty_cusum_alarm"].any()


def test_clean_days_rarely_alarm(monitor):
    table = monitor.monitor_days([view(500, seed=100 + day) for day in range(40)])
    assert table["novelty_binomial_alarm"].mean() <= 0.05
    assert table["features_ks_alarm"].mean() <= 0.05


def test_a_strong_shift_is_caught_by_input_and_novelty_detectors(monitor):
    table = monitor.monitor_days([mixed(500, 0.2, seed=200 + day) for day in range(5)])
    assert table["novelty_binomial_alarm"].all() and table["features_ks_alarm"].all()
    assert (table["novel_share"] > 0.15).all()


def test_cusum_adds_up_a_small_shift(monitor):
    table = monitor.monitor_days([mixed(500, 0.01, seed=300 + day) for day in range(6)])
    assert table["novelty_cusum"].iloc[1] > table["novelty_cusum"].iloc[0] > 0
    assert table["novelty_cusum_alarm"].any()


def test_novelty_threshold_is_the_calibration_quantile(monitor):
    calibration = view(2000, seed=2)
    assert (monitor.novelty(calibration) > monitor.novelty_threshold).mean() == pytest.approx(
        0.01, abs=0.002
    )
