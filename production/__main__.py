"""Command line of the production phase.

python -m production bundle [--model URI_OR_FOLDER] [--run-dir RUN] --out DIR [--float32]
                            [--alert-email ADDRESS ...]
python -m production serve DIR [--port 5001] [--workers N] [--collect FILE] [--metrics-port 9101]
"""

from __future__ import annotations

import argparse
import signal
import time
from pathlib import Path

from production.endpoint import LocalEndpoint

RUNS = Path("runs")


def bundle(args: argparse.Namespace) -> None:
    from data_science.tracking import use_tracking  # MLflow and TensorFlow: only here
    from production.bundle import ModelNotFoundError, bundle_mlflow_model

    if args.run_dir is None:
        args.run_dir = newest_run_with(args.model, RUNS)
        print(f"{args.model} from the newest run folder that has it: {args.run_dir}")
    use_tracking(args.run_dir, "mnist-local")  # the registry of that run folder
    try:
        out = bundle_mlflow_model(
            args.model,
            args.out,
            deployment=args.deployment,
            quantize=not args.float32,
            alert_emails=tuple(args.alert_email),
        )
    except (ModelNotFoundError, FileExistsError) as error:
        raise SystemExit(f"python -m production bundle: {error}") from None
    print(f"bundle for {args.model} written to {out}")


def newest_run_with(model_uri: str, runs: Path) -> Path:
    """The run folder under ``runs`` whose MLflow store changed last among those whose
    registry resolves ``model_uri`` (``models:/mnist-cnn@champion``: one with a champion)."""
    import mlflow
    from mlflow.exceptions import MlflowException

    from data_science import registry
    from data_science.tracking import local_tracking_uri, quiet_mlflow

    quiet_mlflow()
    stores = sorted(runs.glob("*/mlflow.db"), key=lambda store: store.stat().st_mtime)
    for store in reversed(stores):
        mlflow.set_registry_uri(local_tracking_uri(store.parent))
        try:
            registry.resolve(model_uri)
        except (LookupError, MlflowException):
            continue
        return store.parent
    raise SystemExit(
        f"python -m production bundle: no run folder under {runs}/ has {model_uri}: run "
        "`make course` (or notebooks 01 and 03) first, or name a folder with --run-dir"
    )


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def serve(args: argparse.Namespace) -> None:
    # Ctrl-C sends SIGINT (set here too: a parent may have left it ignored); a process
    # manager, `docker stop` or a CI cancel, SIGTERM; a closed terminal, SIGHUP. All stop
    # the server. If this process is killed outright, the server notices its parent is
    # gone and stops itself (production/gunicorn_config.py).
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _interrupt)
    endpoint = LocalEndpoint(
        args.bundle, args.port, args.workers, args.collect, metrics_port=args.metrics_port
    )
    try:
        endpoint.start()
        ready = f"ready in {endpoint.startup_seconds:.1f} s"
        print(f"{args.bundle} served at {endpoint.url}/score ({ready})", flush=True)
        print(f"OpenAPI description: {endpoint.url}/swagger.json; Ctrl-C stops the server")
        if args.metrics_port is not None:
            print(f"Prometheus metrics: http://127.0.0.1:{endpoint.metrics_port}/metrics")
        while endpoint.process.poll() is None:
            time.sleep(1)
    except KeyboardInterrupt as stop:
        print(f"stopping ({stop})")
    finally:
        endpoint.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m production", description=__doc__)
    commands = parser.add_subparsers(required=True)
    make = commands.add_parser("bundle", help="write a deployable score.py bundle")
    make.add_argument(
        "--model",
        default="models:/mnist-cnn@champion",
        help="models:/NAME/VERSION, models:/NAME@ROLE, runs:/RUN_ID/model or an MLflow model "
        "folder (default: %(default)s)",
    )
    make.add_argument(
        "--run-dir",
        type=Path,
        help="run folder with the registry (default: the newest under runs/ that has --model)",
    )
    make.add_argument("--out", required=True, help="new folder for the bundle")
    make.add_argument("--deployment", default="blue", help="deployment name (blue/green)")
    make.add_argument(
        "--float32", action="store_true", help="serve the float32 model (default: int8 if safe)"
    )
    make.add_argument(
        "--alert-email",
        action="append",
        default=[],
        metavar="ADDRESS",
        help="who the monitor's alerts go to (repeat for several; default: nobody)",
    )
    make.set_defaults(handler=bundle)
    run = commands.add_parser("serve", help="serve a bundle on 127.0.0.1")
    run.add_argument("bundle")
    run.add_argument("--port", type=int, default=5001)
    run.add_argument("--workers", type=int, default=1)
    run.add_argument("--collect", help="JSON-lines file for the collected model data")
    run.add_argument(
        "--metrics-port", type=int, help="serve Prometheus metrics on 127.0.0.1 at this port"
    )
    run.set_defaults(handler=serve)
    args = parser.parse_args(argv)
    args.handler(args)


if __name__ == "__main__":
    main()
