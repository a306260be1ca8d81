"""Shared fixtures. Reference data lives beside the project in ../shared/data (optional)."""

from __future__ import annotations

import os
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("SHARED_DATA", ROOT.parent / "shared" / "data"))


def shared_path(*parts: str) -> Path:
    """A path inside ../shared/data, or skip the test when it is not there."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"reference data not available: {path}")
    return path


@pytest.fixture(scope="session")
def full_mnist_dir() -> Path:
    return shared_path("mnist")


@pytest.fixture(scope="session")
def foreign_digits(tmp_path_factory) -> Path:
    """The real foreign digit sets, unpacked once per test session."""
    target = tmp_path_factory.mktemp("foreign")
    for archive in ("devanagari-test.tar.gz", "japanese-handwritten-digits.tar.gz"):
        with tarfile.open(shared_path("foreign", archive)) as tar:
            tar.extractall(target, filter="data")
    return target


@pytest.fixture(autouse=True)
def no_inherited_tracking_uri(monkeypatch):
    """MLflow exports the last tracking URI to the environment; keep it out of later tests
    (and out of the notebooks they start)."""
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
