"""Accuracy and wall time of the kit's training, on the embedded sample and on full MNIST.

    python benchmarks/train_mnist.py [--mnist-dir DIR] [--epochs N] [--skip-full]

Full MNIST comes from --mnist-dir, $MNIST_DIR or ../shared/data/mnist. Targets: sample
>= 95% in under 2 minutes end to end; full >= 99.4% with <= 10 minutes of training, next to
the 99.22% that Keras reports for its mnist_convnet example.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from data_science.train import TrainConfig, train

KERAS_EXAMPLE_ACCURACY = 0.9922
ROOT = Path(__file__).resolve().parents[1]


def timed_run(config: TrainConfig) -> tuple[float, float, float]:
    """Test accuracy, training seconds and end-to-end seconds of one tracked run."""
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as output:
        result = train(config, output, progress=False)
    return result.evaluation.accuracy, result.train_seconds, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mnist-dir", default=os.environ.get("MNIST_DIR"))
    parser.add_argument("--epochs", type=int, default=TrainConfig.epochs)
    parser.add_argument("--skip-full", action="store_true")
    args = parser.parse_args()

    accuracy, train_s, total_s = timed_run(TrainConfig(epochs=args.epochs))
    print(f"sample: test accuracy {accuracy:.2%}, training {train_s:.0f} s, total {total_s:.0f} s")

    mnist_dir = Path(args.mnist_dir or ROOT.parent / "shared" / "data" / "mnist")
    if args.skip_full or not mnist_dir.is_dir():
        print(f"full: skipped (no MNIST files at {mnist_dir})")
        return
    config = TrainConfig(data_source="full", data_dir=str(mnist_dir), epochs=args.epochs)
    accuracy, train_s, total_s = timed_run(config)
    gain = 100 * (accuracy - KERAS_EXAMPLE_ACCURACY)
    print(
        f"full: test accuracy {accuracy:.2%} (Keras mnist_convnet example: "
        f"{KERAS_EXAMPLE_ACCURACY:.2%}, {gain:+.2f} points), "
        f"training {train_s:.0f} s ({train_s / 60:.1f} min), total {total_s:.0f} s"
    )


if __name__ == "__main__":
    main()
