"""Latency and throughput of the bundle's score.py in the Azure ML inference server.

    python benchmarks/serve_latency.py [--requests 1500] [--rounds 15] [--model URI --run-dir RUN]

Serves the bundle (one gunicorn worker on 127.0.0.1), the same bundle with its novelty
score off (SCORE_NOVELTY=0: what the score costs), and, in the same run, a trivial
score.py whose run() only counts the images, as the peer: same server, same schema, same
client. The loads alternate between the three in rounds, so that a slow spell of the
machine falls on all. Prints start-to-first-response, req/s, p50 and p99 for single images and for
batches of 64, and the throughput ratio against the peer per round and its median. Without
--model the default CNN is trained for a few seconds on the embedded sample.

The loads run twice: as the machine is, then with its CPUs held out of idle states (the
PM QoS request latency benchmarks make: 0 in /dev/cpu_dma_latency, which needs root). On a
virtual machine a CPU that idles between two requests wakes with cold caches, which slows
the next request's work by 2-3x; a server under steady load does not idle, so the second
figure is closer to it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import struct
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from data_science.mnist import load_mnist
from data_science.model import build_cnn, compile_for_training, keras
from data_science.preprocessing import to_model_input
from production.bundle import baseline_bundle, build_bundle, bundle_mlflow_model
from production.endpoint import LocalEndpoint, served_model_info
from production.load import sequential_load


def serve(bundle: Path, label: str, **environment: str) -> LocalEndpoint:
    endpoint = LocalEndpoint(bundle, workers=1, environment=environment).start()
    print(f"{label}: ready in {endpoint.startup_seconds:.2f} s")
    return endpoint


def interleaved(endpoints: dict[str, LocalEndpoint], requests: int, rounds: int) -> dict:
    """Rounds of each load against each server in turn, so that a slow spell of the machine
    hits both; per server and load, the per-round figures."""
    digits = load_mnist("sample").x_test
    bodies = {"single": {"data": digits[:1].tolist()}, "batch64": {"data": digits[:64].tolist()}}
    sizes = {"single": requests // rounds, "batch64": max(20, requests // 10 // rounds)}
    for endpoint in endpoints.values():
        for body in bodies.values():
            sequential_load(endpoint, body, 20)  # warm-up
    figures = {(name, kind): [] for name in endpoints for kind in bodies}
    for _ in range(rounds):
        for kind, body in bodies.items():
            for name, endpoint in endpoints.items():
                figures[name, kind].append(sequential_load(endpoint, body, sizes[kind]))
    return figures


def summary(rounds: list[dict]) -> str:
    return ", ".join(
        f"{name} {statistics.median(r[name] for r in rounds):.2f}" for name in rounds[0]
    )


def trained_model():
    """A real model in a few seconds (an untrained one would not pass the int8 check)."""
    data = load_mnist("sample")
    x, y = to_model_input(data.x_train), keras.utils.to_categorical(data.y_train)
    model = compile_for_training(build_cnn(), 3e-3, total_steps=3 * len(x) // 32)
    model.fit(x, y, batch_size=32, epochs=3, verbose=0)
    return model


@contextmanager
def cpus_awake() -> Iterator[bool]:
    """Hold the CPUs out of idle states while inside; yields whether that was allowed."""
    try:
        request = os.open("/dev/cpu_dma_latency", os.O_WRONLY)
    except OSError:
        yield False
        return
    try:
        os.write(request, struct.pack("i", 0))  # tolerate 0 us of wake-up latency
        yield True
    finally:
        os.close(request)  # closing withdraws the request


def measure(endpoints: dict[str, LocalEndpoint], requests: int, rounds: int) -> None:
    """Run the interleaved loads and print each server's figures and its throughput ratio
    to the peer (the last server) per load."""
    figures = interleaved(endpoints, requests, rounds)
    *ours, peer = endpoints
    for kind in ("single", "batch64"):
        for name in endpoints:
            print(f"  {name:26s} {kind:8s} {summary(figures[name, kind])}  (median of rounds)")
        for name in ours:
            pairs = zip(figures[name, kind], figures[peer, kind], strict=True)
            ratios = [a["req/s"] / b["req/s"] for a, b in pairs]
            each = ", ".join(f"{ratio:.0%}" for ratio in ratios)
            print(
                f"  {kind}, {name}: throughput {statistics.median(ratios):.0%} of the trivial "
                f"peer's (median of {rounds} rounds: {each})"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1500)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--model", help="an MLflow model URI, e.g. models:/mnist-cnn@champion")
    parser.add_argument("--run-dir", default="runs/notebooks")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        bundle = Path(scratch) / "bundle"
        if args.model:
            from data_science.tracking import use_tracking

            use_tracking(args.run_dir, "mnist-local")
            bundle_mlflow_model(args.model, bundle)
        else:
            build_bundle(trained_model(), bundle)
        print(f"served model: {served_model_info(bundle)['quantization']['reason']}")
        peer = baseline_bundle(bundle, Path(scratch) / "trivial")
        endpoints = {"score.py (bundle)": serve(bundle, "score.py (bundle)")}
        off = "score.py, novelty off"
        endpoints[off] = serve(bundle, off, SCORE_NOVELTY="0")
        endpoints["trivial run() (peer)"] = serve(peer, "trivial run() (peer)")
        try:
            print("as the machine is:")
            measure(endpoints, args.requests, args.rounds)
            with cpus_awake() as awake:
                if awake:
                    print("CPUs held out of idle states:")
                    measure(endpoints, args.requests, args.rounds)
                else:
                    print("(CPUs not held awake: /dev/cpu_dma_latency is not writable)")
        finally:
            for endpoint in endpoints.values():
                endpoint.stop()


if __name__ == "__main__":
    main()
