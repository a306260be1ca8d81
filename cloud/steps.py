"""The pipeline's own steps around training: prepare, evaluate, register.

    python -m cloud.steps prepare --mnist DIR --out DIR
    python -m cloud.steps evaluate --trained DIR --data DIR --model-name NAME --decision DIR
    python -m cloud.steps register --trained DIR --decision DIR --model-name NAME

``evaluate`` applies the course's promotion rule (``registry.decide_promotion``): the candidate
must beat the registered champion on the same test set; ``register`` acts only if it does.
"""

from __future__ import annotations

import argparse
import json
import shutil
from dataclasses import replace
from pathlib import Path

DECISION_FILE = "decision.json"


def prepare(mnist: str | Path, out: str | Path) -> str:
    """Check the four MNIST files against the official checksums, copy them to ``out``
    and return the data set's content digest."""
    from data_science.mnist import MNIST_FILES, load_mnist

    data = load_mnist("full", mnist)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for name in MNIST_FILES.values():
        shutil.copy(Path(mnist) / name, out / name)
    (out / "digest.txt").write_text(data.digest + "\n")
    return data.digest


def trained_model(trained: str | Path) -> tuple[str, Path]:
    """The run id and MLflow model folder the training entry point saved under ``trained``."""
    found = sorted(Path(trained).glob("models/*/MLmodel"))
    if len(found) != 1:
        raise FileNotFoundError(
            f"expected one models/<run id>/MLmodel in {trained}, found {len(found)}"
        )
    return found[0].parent.name, found[0].parent


def evaluate(trained: str | Path, data: str | Path, model_name: str, decision: str | Path) -> dict:
    """Evaluate the candidate and the champion on the same test set; write the decision."""
    import mlflow

    from data_science import registry
    from data_science.evaluate import evaluate_model
    from data_science.mnist import load_mnist
    from data_science.preprocessing import to_model_input
    from data_science.tracking import use_tracking

    use_tracking(Path(decision), "mnist-pipeline-evaluate")
    digits = load_mnist("full", data)
    x_test, y_test = to_model_input(digits.x_test, progress=False), digits.y_test
    run_id, folder = trained_model(trained)
    accuracy = evaluate_model(mlflow.keras.load_model(str(folder)), x_test, y_test).accuracy
    champion = registry.champion_score(model_name, x_test, y_test)
    verdict = registry.decide_promotion(model_name, "not registered yet", accuracy, champion)
    result = {**verdict.record(), "run_id": run_id}
    Path(decision).mkdir(parents=True, exist_ok=True)
    (Path(decision) / DECISION_FILE).write_text(json.dumps(result, indent=2))
    return result


def register(trained: str | Path, decision: str | Path, model_name: str) -> str | None:
    """Register the candidate and make it the champion if the decision says so; return the
    new version, or None when the champion stays."""
    from data_science import registry

    result = json.loads((Path(decision) / DECISION_FILE).read_text())
    if not result["promoted"]:
        print(f"not registered: {result['reason']}")
        return None
    run_id, _ = trained_model(trained)
    version = registry.register(run_id, model_name)
    verdict = registry.PromotionDecision.from_record(result)
    registry.apply_decision(replace(verdict, candidate_version=version))
    print(f"registered {model_name} v{version} as champion: {result['reason']}")
    return version


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    steps = parser.add_subparsers(dest="step", required=True)
    step = steps.add_parser("prepare")
    step.add_argument("--mnist", required=True)
    step.add_argument("--out", required=True)
    step = steps.add_parser("evaluate")
    for flag in ("--trained", "--data", "--model-name", "--decision"):
        step.add_argument(flag, required=True)
    step = steps.add_parser("register")
    for flag in ("--trained", "--decision", "--model-name"):
        step.add_argument(flag, required=True)
    args = parser.parse_args(argv)
    if args.step == "prepare":
        print(f"MNIST checked, digest {prepare(args.mnist, args.out)}")
    elif args.step == "evaluate":
        print(evaluate(args.trained, args.data, args.model_name, args.decision)["reason"])
    else:
        register(args.trained, args.decision, args.model_name)


if __name__ == "__main__":
    main()
