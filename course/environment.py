"""What a run report records about the kit and its environment, so two runs can be told
apart: the kit's commit (and whether its tree had changes) and the versions that matter."""

from __future__ import annotations

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
