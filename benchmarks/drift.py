"""What the drift detectors are worth, on real foreign handwriting.

    python benchmarks/drift.py [--mnist-dir DIR] [--foreign-dir DIR] [--benign-dir DIR]
                               [--run-dir DIR] [--days 100] [--runs 30] [--retrain]

Two champions: one trained on full MNIST (or --run-dir's champion) and one with the default
course profile's settings (the embedded sample). For each, the monitor is fitted on its
training features and calibrated on half the clean digits it never saw (the other half is
the clean-traffic pool), as notebook 06 does. Then:

- per image: the share of each source the novelty score flags at the calibrated threshold
  (for foreign digits the true-positive rate at 1 % false flags; for clean digits the false
  flags themselves) and the AUROC against clean digits;
- per day (the full champion; 500 images a day): the power table (share of days with an
  alarm per detector, 0 % being the false-alarm rate) and the detection delays at 10, 5,
  2 and 1 % foreign digits; the default champion's power at 5 %;
- with --retrain, the challenger trained on half the foreign digits, labelled.

The foreign digits are --foreign-dir (a folder of digit images, one subfolder per class;
default: the Devanagari digits of ../shared/data/foreign), the benign ones --benign-dir
(default: the Japanese digits there). The last line is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import tarfile
import tempfile
import time
from pathlib import Path

import mlflow
import pandas as pd

from data_science.preprocessing import to_model_input
from data_science.tracking import use_tracking
from data_science.train import (
    TrainConfig,
    ensure_champion,
    logged_config,
    mnist_training_set,
    seen_and_unseen,
)
from production.drift import (
    compare_sources,
    detection_delays,
    fit_monitor,
    pool_of,
    power_table,
)
from production.foreign import folder_source, split_labelled
from production.retrain import compare_and_promote, train_challenger, with_labelled_foreign

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
SHARED_SETS = {  # the default folders: an archive of ../shared/data/foreign, its folder inside
    "foreign": ("devanagari-test.tar.gz", "Test"),
    "benign": ("japanese-handwritten-digits.tar.gz", "Japanese Handwritten Digits"),
}
DELAYS = {0.10: "day 1", 0.05: "within 3 days", 0.02: "within 7 days", 0.01: "within 14 days"}
pd.set_option("display.width", 160)


def digit_folder(given: str | None, kind: str, scratch: Path) -> Path:
    """The folder given, or the shared set unpacked into ``scratch``."""
    if given:
        return Path(given)
    archive, inside = SHARED_SETS[kind]
    if not (SHARED / "foreign" / archive).is_file():
        raise SystemExit(f"no --{kind}-dir given and {SHARED / 'foreign' / archive} not found")
    with tarfile.open(SHARED / "foreign" / archive) as tar:
        tar.extractall(scratch / kind, filter="data")
    return scratch / kind / inside


def champion_and_monitor(run_dir: Path, config: TrainConfig):
    """The run folder's champion (trained with ``config`` if there is none), its logged
    settings, and the monitor fitted and calibrated on its own data with the clean pool."""
    uri = ensure_champion(run_dir, config, progress=False)
    champion = mlflow.keras.load_model(uri)
    settings = logged_config(uri)
    split = seen_and_unseen(settings)
    monitor, clean = fit_monitor(champion, split.fitted, split.unseen, split.unseen_labels)
    return uri, champion, settings, monitor, clean


def per_image(monitor, clean, sources: dict) -> pd.DataFrame:
    table = compare_sources(monitor, {"MNIST (clean)": clean, **sources})
    print(table.to_string())
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mnist-dir", default=str(SHARED / "mnist"))
    parser.add_argument("--foreign-dir", help="harmful drift: digit images, a folder per class")
    parser.add_argument("--benign-dir", help="benign drift: digit images, a folder per class")
    parser.add_argument("--run-dir", help="use this run folder's champion instead of training")
    parser.add_argument("--days", type=int, default=100, help="days per row of the power table")
    parser.add_argument("--runs", type=int, default=30, help="simulated runs per delay figure")
    parser.add_argument("--retrain", action="store_true", help="also train the challenger")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp())
    run_dir = Path(args.run_dir) if args.run_dir else scratch / "run"
    foreign_source = folder_source(digit_folder(args.foreign_dir, "foreign", scratch), "foreign")
    benign_source = folder_source(digit_folder(args.benign_dir, "benign", scratch), "benign")
    labelled, held_out = split_labelled(foreign_source, len(foreign_source.labels) // 2)
    for kind, source in (("foreign", foreign_source), ("benign", benign_source)):
        print(f"{kind}: {len(source.labels):,} digits ({len(source.failures)} unreadable)")

    started = time.perf_counter()
    full = TrainConfig(data_source="full", data_dir=args.mnist_dir)
    uri, champion, config, monitor, clean = champion_and_monitor(run_dir, full)
    foreign = pool_of(champion, held_out.images, held_out.labels)
    benign = pool_of(champion, benign_source.images, benign_source.labels)
    print(f"champion {uri} ready ({time.perf_counter() - started:.0f} s)\n")
    print("Per image, champion trained on full MNIST (flagged: at 1 % false flags):")
    sources = per_image(monitor, clean, {"foreign": foreign, "benign": benign})

    started = time.perf_counter()
    power = power_table(monitor, clean, foreign, days=args.days)
    print(f"\nShare of days with an alarm ({args.days} days per row, 500 images a day):")
    print(power.round(3).to_string())
    delays = {}
    for contamination in DELAYS:
        delays[contamination] = detection_delays(
            monitor, clean, foreign, contamination, runs=args.runs, horizon=14
        )
        print(f"\nForeign digits at {contamination:.0%}, {args.runs} runs:")
        print(delays[contamination].round(3).to_string())
    print(f"(simulation and detection: {time.perf_counter() - started:.0f} s)")

    print("\nPer image, champion of the default course profile (the embedded sample):")
    _, small, _, small_monitor, small_clean = champion_and_monitor(
        run_dir / "default-profile", TrainConfig()
    )
    small_foreign = pool_of(small, held_out.images, held_out.labels)
    small_sources = per_image(
        small_monitor,
        small_clean,
        {
            "foreign": small_foreign,
            "benign": pool_of(small, benign_source.images, benign_source.labels),
        },
    )
    small_power = power_table(
        small_monitor, small_clean, small_foreign, contaminations=(0.0, 0.05), days=args.days
    )
    print(f"its share of days with an alarm at 5 %:\n{small_power.round(3).to_string()}")

    if args.retrain:
        retrain(run_dir, uri, config, labelled, held_out)
    print(json.dumps(figures(sources, power, delays, small_sources, small_power)))


def figures(sources, power, delays, small_sources, small_power) -> dict:
    """The benchmark's figures, as its last line states them (the novelty test's delays)."""

    def by_source(table: pd.DataFrame, column: str) -> dict:
        return {name: round(float(value), 4) for name, value in table[column].items()}

    detected = {
        f"detected_{contamination:.0%}_{window.replace(' ', '_')}".replace("%", "pct"): float(
            delays[contamination].loc["novelty_binomial", window]
        )
        for contamination, window in DELAYS.items()
    }
    return {
        "per_image_tpr_at_1pct_fpr": by_source(sources, "flagged novel"),
        "auroc": by_source(sources, "AUROC against clean"),
        **detected,
        "max_false_alarm_rate": float(power.loc[0.0].max()),
        "false_alarm_rate": {name: float(rate) for name, rate in power.loc[0.0].items()},
        "default_profile": {
            "per_image_tpr_at_1pct_fpr": by_source(small_sources, "flagged novel"),
            "auroc": by_source(small_sources, "AUROC against clean"),
            "power_5pct": float(small_power.loc[0.05, "novelty_binomial"]),
        },
    }


def retrain(run_dir: Path, uri: str, config: TrainConfig, labelled, held_out) -> None:
    """The challenger, trained with the champion's settings on half the foreign digits."""
    started = time.perf_counter()
    use_tracking(run_dir, "mnist-retraining")
    mnist = mnist_training_set(config, progress=False)
    data = with_labelled_foreign(mnist, to_model_input(labelled.images), labelled.labels)
    challenger = train_challenger(data, config, run_dir)
    tests = {
        "mnist": (mnist.x_test, mnist.y_test),
        "foreign": (to_model_input(held_out.images), held_out.labels),
    }
    decision = compare_and_promote(tests, uri, challenger.model_uri)
    print(
        f"\nRetraining with {len(labelled.labels)} labelled foreign digits "
        f"({time.perf_counter() - started:.0f} s):"
    )
    print(decision.table.round(4).to_string())
    print(f"{decision.rule}: promoted={decision.promoted}")


if __name__ == "__main__":
    main()
