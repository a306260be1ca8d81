"""What the drift detectors are worth, on the real Devanagari digits.

    python benchmarks/drift.py [--mnist-dir DIR] [--foreign-dir DIR] [--days 200] [--runs 100]

Trains the champion on full MNIST (or uses --run-dir's champion), fits the monitor on its
training features, calibrates it on half the clean digits it never saw (the other half is
the clean-traffic pool), and simulates production days of 500 requests with Devanagari
digits at 0-25 %. Prints the full power table (share
of days with an alarm per detector; 0 % is the false-alarm rate), the detection delays at
10 %, 5 % and 2 %, the Japanese digits' effect, and the retrained challenger's accuracy.
Targets: 10 % detected on the first drifted day in >= 95 % of runs, 5 % within 3 days,
2 % within 7 days, false alarms on <= 2 % of clean days; the challenger, trained with the
champion's settings, keeps MNIST within 2 points of the champion and exceeds 90 % on
held-out Devanagari.
"""

from __future__ import annotations

import argparse
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
from production.drift import compare_sources, detection_delays, fit_monitor, pool_of, power_table
from production.foreign import folder_source, split_labelled
from production.retrain import compare_and_promote, train_challenger, with_labelled_foreign

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
pd.set_option("display.width", 160)


def unpack(archive: Path, target: Path) -> Path:
    with tarfile.open(archive) as tar:
        tar.extractall(target, filter="data")
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mnist-dir", default=str(SHARED / "mnist"))
    parser.add_argument("--foreign-dir", default=str(SHARED / "foreign"))
    parser.add_argument("--run-dir", help="use this run folder's champion instead of training")
    parser.add_argument("--days", type=int, default=200)
    parser.add_argument("--runs", type=int, default=100)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp())
    run_dir = Path(args.run_dir) if args.run_dir else scratch / "run"
    full = TrainConfig(data_source="full", data_dir=args.mnist_dir)

    started = time.perf_counter()
    champion_uri = ensure_champion(run_dir, full, progress=False)
    champion = mlflow.keras.load_model(champion_uri)
    config = logged_config(champion_uri)
    mnist = mnist_training_set(config, progress=False)
    split = seen_and_unseen(config)
    print(f"champion ready ({time.perf_counter() - started:.0f} s)")

    foreign_root = unpack(Path(args.foreign_dir) / "devanagari-test.tar.gz", scratch / "deva")
    devanagari = folder_source(foreign_root / "Test", "devanagari")
    labelled, held_out = split_labelled(devanagari, len(devanagari.labels) // 2)

    monitor, clean = fit_monitor(champion, split.fitted, split.unseen, split.unseen_labels)
    foreign = pool_of(champion, held_out.images, held_out.labels)
    accuracy = (foreign.view.probabilities.argmax(1) == foreign.labels).mean()
    confidence = foreign.view.probabilities.max(1).mean()
    print(f"champion on Devanagari: accuracy {accuracy:.1%}, mean confidence {confidence:.2f}")

    started = time.perf_counter()
    power = power_table(monitor, clean, foreign, days=args.days)
    print(f"\nShare of days with an alarm ({args.days} days per row, 500 requests a day):")
    print(power.round(3).to_string())
    for contamination in (0.10, 0.05, 0.02):
        delays = detection_delays(monitor, clean, foreign, contamination, runs=args.runs)
        print(f"\nDevanagari at {contamination:.0%}, {args.runs} runs:")
        print(delays.round(3).to_string())
    print(f"(simulation and detection: {time.perf_counter() - started:.0f} s)")

    japanese_root = unpack(Path(args.foreign_dir) / "japanese-handwritten-digits.tar.gz", scratch)
    japanese = folder_source(japanese_root / "Japanese Handwritten Digits", "japanese")
    japanese_pool = pool_of(champion, japanese.images, japanese.labels)
    pools = {"MNIST (clean)": clean, "Devanagari": foreign, "Japanese (normalised)": japanese_pool}
    print("\nHarmful versus benign drift:")
    print(compare_sources(monitor, pools).to_string())

    started = time.perf_counter()
    use_tracking(run_dir, "mnist-retraining")
    data = with_labelled_foreign(mnist, to_model_input(labelled.images), labelled.labels)
    challenger = train_challenger(data, config, run_dir)
    tests = {
        "mnist": (mnist.x_test, mnist.y_test),
        "foreign": (to_model_input(held_out.images), held_out.labels),
    }
    decision = compare_and_promote(tests, champion_uri, challenger.model_uri)
    print(
        f"\nRetraining with {len(labelled.labels)} labelled Devanagari digits "
        f"({time.perf_counter() - started:.0f} s):"
    )
    print(decision.table.round(4).to_string())
    drop = decision.table.loc["champion", "mnist"] - decision.table.loc["challenger", "mnist"]
    print(f"MNIST change {-100 * drop:+.2f} points; {decision.rule}: promoted={decision.promoted}")


if __name__ == "__main__":
    main()
