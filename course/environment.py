"""What a run report records about the kit and its environment, so two runs can be told
apart (the kit's commit, whether its tree had changes, the versions that matter), and how
processes that run side by side share the machine's cores."""

from __future__ import annotations

import os
import subprocess
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

REPORTED_PACKAGES = (
    "tensorflow",
    "tensorflow-cpu",
    "keras",
    "mlflow",
    "azure-ai-ml",
    "azureml-inference-server-http",
    "pymupdf",
    "papermill",
)


def kit_commit(root: Path) -> tuple[str, bool | None]:
    """The checked-out commit and whether the tree differs from it; ("unknown", None)
    outside a git checkout."""
    try:
        commit = _git(root, "rev-parse", "--short=12", "HEAD")
        changes = _git(root, "status", "--porcelain")
    except (OSError, subprocess.CalledProcessError):
        return "unknown", None
    return commit, bool(changes)


def _git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def package_versions() -> dict[str, str]:
    """The installed versions of the packages a course run depends on most."""
    found = {}
    for name in REPORTED_PACKAGES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            continue
    return found


# TensorFlow gives every process a thread pool as wide as the machine. Processes side by
# side (notebooks run at once, test workers) then wait on each other's spinning threads:
# on two cores, two processes of one thread each ran the test suite in 10 % less time.
TENSORFLOW_THREADS = ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")


def share_cores(processes: int) -> None:
    """Give each of `processes` TensorFlow processes started from here an equal share of
    the cores (this one too, if it has not imported TensorFlow yet); a choice the user
    made in the environment wins."""
    if processes <= 1:
        return
    share = str(max(1, (os.cpu_count() or 1) // processes))
    for name in TENSORFLOW_THREADS:
        os.environ.setdefault(name, share)
