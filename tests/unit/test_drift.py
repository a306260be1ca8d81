"""Detector behaviour on synthetic model views with known shifts."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from production.drift import (
    DAILY_DETECTORS,
    DriftMonitor,
    ModelView,
    Pool,
    alarm_summary,
    auroc,
    binomial_arithmetic,
    compare_sources,
)

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
    table = monitor.monitor_days([mixed(500, 0.01, seed=300 + day) for day in range(10)])
    assert table["novelty_cusum"].iloc[1] > table["novelty_cusum"].iloc[0] > 0
    assert table["novelty_cusum_alarm"].any()


def test_novelty_threshold_is_the_calibration_quantile(monitor):
    calibration = view(2000, seed=2)
    assert (monitor.novelty(calibration) > monitor.novelty_threshold).mean() == pytest.approx(
        0.01, abs=0.002
    )


def test_false_alarms_on_clean_days_stay_near_alpha():
    """Fitted on one sample, calibrated on another, watched on 300 fresh clean days: each
    daily detector alarms on about α = 1 % of them (at most 3 %: 9 days, a 1-in-1,000 tail
    for a true 1 %), and the novel share sits at its nominal 1 %."""
    monitor = DriftMonitor.fit(view(3000, seed=1), view(2000, seed=2), reference=view(2000, seed=3))
    table = monitor.monitor_days([view(500, seed=1000 + day) for day in range(300)])
    for name in DAILY_DETECTORS:
        assert table[f"{name}_alarm"].mean() <= 0.03, name
    assert table["novel_share"].mean() == pytest.approx(0.01, abs=0.003)
    assert table["novelty_cusum_alarm"].mean() <= 0.03


def test_alarm_summary_reads_one_timeline():
    table = pd.DataFrame({"novelty_binomial_alarm": [False, True, False, False, True, True]})
    summary = alarm_summary(table, onset=3)
    assert summary == {
        "first_alarm_day": 4,
        "alarms_before_onset": 1,
        "drifted_days_alarmed": pytest.approx(2 / 3),
    }
    assert alarm_summary(table.assign(novelty_binomial_alarm=False), 3)["first_alarm_day"] is None


def test_binomial_arithmetic_gives_the_count_an_alarm_needs(monitor):
    numbers = binomial_arithmetic(
        monitor, requests_per_day=500, contamination=0.1, foreign_flagged=0.4
    )
    assert numbers["flagged, clean day (expected)"] == pytest.approx(5.0)
    assert numbers["flagged, drifted day (expected)"] == pytest.approx(500 * (0.9 * 0.01 + 0.04))
    needed = int(numbers["flagged needed for an alarm"])
    # the smallest count a clean day reaches less than 1 % of the time, as the test decides
    assert stats.binomtest(needed, 500, 0.01, "greater").pvalue < 0.01
    assert stats.binomtest(needed - 1, 500, 0.01, "greater").pvalue >= 0.01
    assert (
        numbers["chance of an alarm, drifted day"] > 0.99 > numbers["chance of an alarm, clean day"]
    )


def test_auroc_is_the_chance_a_positive_scores_above_a_negative():
    assert auroc(np.array([1.0, 2.0]), np.array([3.0, 4.0])) == 1.0
    assert auroc(np.array([1.0, 2.0]), np.array([0.0, 1.5])) == 0.25  # 1 pair in 4
    assert auroc(np.array([1.0]), np.array([1.0])) == 0.5  # a tie counts half


def test_sources_show_their_flagged_share_and_how_well_the_score_separates_them(monitor):
    clean, far = view(1000, seed=3), view(1000, shift=6.0, seed=4)
    pools = {
        name: Pool(None, np.zeros(1000, int), v) for name, v in (("clean", clean), ("far", far))
    }
    table = compare_sources(monitor, pools)
    assert table.loc["clean", "AUROC against clean"] == 0.5
    assert table.loc["far", "AUROC against clean"] > 0.99
    assert table.loc["clean", "flagged novel"] < 0.05 < 0.9 < table.loc["far", "flagged novel"]
