"""Latency and throughput of the bundle's score.py in the Azure ML inference server.

    python benchmarks/serve_latency.py [--requests 1000] [--model URI --run-dir RUN]

Serves the bundle (one gunicorn worker on 127.0.0.1) and, in the same run, a trivial
score.py whose run() only counts the images, as the peer: same server, same schema, same
client. Prints start-to-first-response, req/s, p50 and p99 for single images and for
batches of 64, and the throughput ratio against the peer. Without --model the default CNN
is used untrained (the same compute as a trained one).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from data_science.mnist import load_mnist
from data_science.model import build_cnn
from production.bundle import build_bundle, bundle_registered_model
from production.endpoint import LocalEndpoint

TRIVIAL_SCORE = """
from inference_schema.schema_decorators import input_schema
from score_schema import AnyJsonList, SAMPLE_IMAGE

def init():
    pass

@input_schema("data", AnyJsonList([SAMPLE_IMAGE]))
def run(data):
    return {"predictions": [{"label": "0"}] * len(data)}
"""


def trivial_bundle(bundle: Path, target: Path) -> Path:
    """A copy of the bundle whose score.py does no work."""
    shutil.copytree(bundle, target)
    code = target / "code"
    (code / "score.py").rename(code / "score_schema.py")  # reuse its schema classes
    (code / "score.py").write_text(TRIVIAL_SCORE)
    return target


def run_benchmark(bundle: Path, label: str, requests: int) -> dict:
    digits = load_mnist("sample").x_test
    bodies = {
        "single": {"data": digits[:1].tolist()},
        "batch64": {"data": digits[:64].tolist()},
    }
    with LocalEndpoint(bundle, workers=1) as endpoint:
        for body in bodies.values():
            endpoint.load_test(body, 20)  # warm-up
        results = {"startup s": endpoint.startup_seconds}
        results["single"] = endpoint.load_test(bodies["single"], requests)
        results["batch64"] = endpoint.load_test(bodies["batch64"], max(20, requests // 10))
    print(f"{label}: ready in {results['startup s']:.2f} s")
    for kind in ("single", "batch64"):
        figures = ", ".join(f"{name} {value:.2f}" for name, value in results[kind].items())
        print(f"  {kind:8s} {figures}")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--model", help="an MLflow model URI, e.g. models:/mnist-cnn@champion")
    parser.add_argument("--run-dir", default="runs/notebooks")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        bundle = Path(scratch) / "bundle"
        if args.model:
            from data_science.tracking import use_tracking

            use_tracking(args.run_dir, "mnist-local")
            bundle_registered_model(args.model, bundle)
        else:
            model = build_cnn()
            model.build((None, 28, 28, 1))
            build_bundle(model, bundle)
        peer = trivial_bundle(bundle, Path(scratch) / "trivial")
        ours = run_benchmark(bundle, "score.py (bundle)", args.requests)
        theirs = run_benchmark(peer, "trivial run() (peer)", args.requests)
    for kind in ("single", "batch64"):
        ratio = ours[kind]["req/s"] / theirs[kind]["req/s"]
        print(f"{kind}: throughput {ratio:.0%} of the trivial peer's")


if __name__ == "__main__":
    main()
