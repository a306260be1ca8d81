import numpy as np
import pytest

from production.traffic import contamination_schedule, simulate_traffic

CLEAN, FOREIGN = np.arange(100) % 10, np.arange(50) % 10


def test_simulation_is_seeded_and_ordered_by_day():
    first = simulate_traffic(CLEAN, FOREIGN, days=12, requests_per_day=50, seed=3)
    again = simulate_traffic(CLEAN, FOREIGN, days=12, requests_per_day=50, seed=3)
    other = simulate_traffic(CLEAN, FOREIGN, days=12, requests_per_day=50, seed=4)
    assert first.equals(again) and not first.equals(other)
    assert first["day"].is_monotonic_increasing and first["day"].nunique() == 12
    assert (first.groupby("day").size() == 50).all()


def test_labels_are_the_ground_truth_of_the_pools():
    traffic = simulate_traffic(CLEAN, FOREIGN, days=5, contamination=0.5, onset=0, seed=0)
    for source, pool in (("clean", CLEAN), ("foreign", FOREIGN)):
        rows = traffic[traffic["source"] == source]
        assert (pool[rows["index"]] == rows["label"]).all()


def test_sudden_drift_starts_at_the_onset():
    traffic = simulate_traffic(CLEAN, FOREIGN, days=20, contamination=0.2, onset=10, seed=0)
    share = (traffic["source"] == "foreign").groupby(traffic["day"]).mean()
    assert share[:10].max() == 0
    assert share[10:].mean() == pytest.approx(0.2, abs=0.02)


@pytest.mark.parametrize("scenario", ["gradual", "seasonal"])
def test_schedules(scenario):
    share = contamination_schedule(scenario, days=30, onset=5, contamination=0.4)
    assert share[:5].max() == 0 and share.max() == pytest.approx(0.4, abs=0.05)
    if scenario == "gradual":
        assert np.all(np.diff(share[5:]) > 0)
    else:
        assert share[5:].min() < 0.05  # it comes and goes


def test_unknown_scenario():
    with pytest.raises(ValueError, match="unknown scenario"):
        contamination_schedule("storm", 10, 0, 0.1)
