"""Production traffic, simulated day by day: clean digits with foreign ones drifting in.

Each day brings ``requests_per_day`` requests. A scenario sets the day's share of foreign
inputs: ``none``, ``sudden`` (the full share from the onset day on), ``gradual`` (a ramp
from the onset to the last day) or ``seasonal`` (it comes and goes weekly after the onset).
The simulation is seeded and keeps an explicit day index and every request's ground truth.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SCENARIOS = ("none", "sudden", "gradual", "seasonal")
SEASON_DAYS = 7


def contamination_schedule(
    scenario: str, days: int, onset: int, contamination: float
) -> np.ndarray:
    """The expected share of foreign inputs on each day."""
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}: choose from {', '.join(SCENARIOS)}")
    day = np.arange(days)
    after = day >= onset
    if scenario == "none":
        share = np.zeros(days)
    elif scenario == "sudden":
        share = np.where(after, contamination, 0.0)
    elif scenario == "gradual":
        ramp = (day - onset + 1) / max(1, days - onset)
        share = np.where(after, contamination * ramp, 0.0)
    else:
        wave = (1 - np.cos(2 * np.pi * (day - onset) / SEASON_DAYS)) / 2
        share = np.where(after, contamination * wave, 0.0)
    return share


def simulate_traffic(
    clean_labels: np.ndarray,
    foreign_labels: np.ndarray,
    days: int = 30,
    requests_per_day: int = 500,
    scenario: str = "sudden",
    contamination: float = 0.1,
    onset: int = 10,
    seed: int = 0,
) -> pd.DataFrame:
    """One row per request: its day, its source, its index in that source's pool, its label.

    Rows are ordered by day (the time axis is the simulation's, never a file listing's).
    """
    rng = np.random.default_rng(seed)
    share = contamination_schedule(scenario, days, onset, contamination)
    frames = []
    for day, fraction in enumerate(share):
        foreign = rng.random(requests_per_day) < fraction
        index = np.empty(requests_per_day, np.int64)
        labels = np.empty(requests_per_day, np.int64)
        for mask, pool in ((foreign, foreign_labels), (~foreign, clean_labels)):
            index[mask] = rng.integers(len(pool), size=mask.sum())
            labels[mask] = pool[index[mask]]
        source = np.where(foreign, "foreign", "clean")
        frames.append(pd.DataFrame({"day": day, "source": source, "index": index, "label": labels}))
    return pd.concat(frames, ignore_index=True)
