"""Shared fixtures and the test tiers.

Tiers: tests under ``model/``, ``integration/`` and ``notebooks/`` (and any test marked
``slow``) train a model, start a server or run a subprocess; ``make test-fast`` runs the
rest (``pytest -m "not slow"``). Reference data lives beside the project in
../shared/data (optional): tests that need it skip when it is absent.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("SHARED_DATA", ROOT.parent / "shared" / "data"))
SLOW_FOLDERS = ("model", "integration", "notebooks")


def pytest_configure(config: pytest.Config) -> None:
    """Each test worker (and the kernels and jobs it starts) gets its share of the cores."""
    from course.environment import share_cores

    share_cores(int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")))


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """The fast tier (``-m "not slow"``) does not even import the slow folders' modules:
    several import TensorFlow, which would cost every worker seconds for nothing."""
    if config.getoption("markexpr") == "not slow" and collection_path.name in SLOW_FOLDERS:
        return True
    return None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.parent.name in SLOW_FOLDERS:
            item.add_marker(pytest.mark.slow)
    # The student path through the notebooks is the longest module: first, so that it runs
    # beside all the others (make test) rather than after them.
    items.sort(key=lambda item: item.path.parent.name != "notebooks")


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


@dataclass(frozen=True)
class SmallRun:
    """One small model trained by the training entry point, into its own run folder."""

    output: Path
    result: object  # data_science.train.TrainResult
    model: object  # the registered Keras model, loaded back from the registry


@pytest.fixture(scope="session")
def small_run(tmp_path_factory) -> SmallRun:
    """Trained once per session (a few seconds) and shared by every test that needs a real
    model. Read its registry by version, not by role: tests/model/test_training.py adds a
    second run to it."""
    import mlflow

    from data_science.train import TrainConfig, train

    output = tmp_path_factory.mktemp("small-run")
    config = TrainConfig(epochs=2, max_train_samples=600, batch_size=64)
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("MLFLOW_TRACKING_URI", raising=False)
        result = train(config, output, progress=False)
        model = mlflow.keras.load_model(result.model_uri)
    return SmallRun(output, result, model)


@pytest.fixture(scope="session")
def small_bundle(small_run, tmp_path_factory) -> Path:
    """A float32 bundle of the small run's model, shared by the tests that only serve it."""
    from production.bundle import build_bundle

    return build_bundle(small_run.model, tmp_path_factory.mktemp("bundle") / "b", quantize=False)


def constant_model(digit: int, classes: int = 10):
    """A Keras model that gives every input the class ``digit``: its accuracy on any labels
    is known in advance, and so is every decision taken on it."""
    import numpy as np

    from data_science.model import keras

    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten()])
    model.add(keras.layers.Dense(classes, activation="softmax", kernel_initializer="zeros"))
    model.layers[-1].bias.assign(np.eye(classes, dtype=np.float32)[digit] * 5)
    return model


@pytest.fixture(scope="module")
def registry_store(tmp_path_factory) -> Path:
    """One MLflow store per test module (creating one takes seconds)."""
    return tmp_path_factory.mktemp("registry")


@pytest.fixture
def register_constant(registry_store):
    """Points MLflow at the module's store; ``register_constant(name, digit)`` logs a
    constant model (``constant_model``) to a new run, registers it as ``name`` and returns
    the version. Each test uses model names of its own."""
    import tempfile

    import mlflow

    from data_science import registry
    from data_science.tracking import use_tracking

    mlflow.set_experiment(experiment_id=use_tracking(registry_store, "registry"))

    def register(name: str, digit: int) -> str:
        with mlflow.start_run() as run, tempfile.TemporaryDirectory() as scratch:
            model_dir = f"{scratch}/model"
            mlflow.keras.save_model(constant_model(digit), model_dir, pip_requirements=["keras"])
            mlflow.log_artifacts(model_dir, "model")
        return registry.register(run.info.run_id, name)

    return register


@pytest.fixture(autouse=True)
def no_inherited_tracking_uri(monkeypatch):
    """MLflow exports the last tracking URI to the environment; keep it out of later tests
    (and out of the notebooks they start)."""
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)


@pytest.fixture(scope="session")
def bundle_specs():
    """``write(folder, count=1)``: a bundle's Azure ML YAML (model, endpoint, deployment,
    monitor, the Kubernetes variant, conda file) beside its code and model folders, for a
    deployment of ``count`` instances, with a one-row reference table; names carry the
    placeholder suffix."""
    import pandas as pd

    from production.deployment import (
        DEFAULT_INSTANCE_TYPE,
        REFERENCE_FOLDER,
        SUFFIX_VARIABLE,
        WORKSPACE_VARIABLES,
        endpoint_name,
        write_azureml_files,
        write_reference,
    )
    from production.serving import MONITORED_INPUTS

    def write(out: Path, count: int = 1) -> Path:
        with pytest.MonkeyPatch.context() as patch:
            for name in (SUFFIX_VARIABLE, *WORKSPACE_VARIABLES):
                patch.delenv(name, raising=False)
            (out / "code").mkdir(parents=True)
            (out / "code" / "score.py").write_text("")
            (out / "model").mkdir(exist_ok=True)
            (out / "model" / "labels.json").write_text(json.dumps(list("0123456789")))
            columns = [*MONITORED_INPUTS, "label", "confidence", "novelty", "novel"]
            row = pd.DataFrame([[0.2, 0.1, "7", 0.9, 1.0, False]], columns=columns)
            write_reference(out / REFERENCE_FOLDER, row)
            info = {"name": "mnist-cnn", "version": "3"}
            write_azureml_files(out, info, endpoint_name(), "blue", DEFAULT_INSTANCE_TYPE, count)
        return out

    return write


@pytest.fixture(scope="module")
def azureml_folder(tmp_path_factory, bundle_specs) -> Path:
    """Every spec ``python -m cloud generate`` writes, and beside them a bundle's: one
    folder that validates clean. Names carry the placeholder suffix."""
    from cloud.generate import generate
    from production.deployment import SUFFIX_VARIABLE, WORKSPACE_VARIABLES

    out = tmp_path_factory.mktemp("azureml")
    with pytest.MonkeyPatch.context() as patch:
        for name in (SUFFIX_VARIABLE, *WORKSPACE_VARIABLES):
            patch.delenv(name, raising=False)
        generate(out)
    return bundle_specs(out)


@pytest.fixture(scope="session")
def fresh_venv():
    """``make(folder, requirements, *uv_options)``: the python of a new virtual environment
    holding exactly ``requirements``, installed by uv (from its cache or the index)."""
    uv = shutil.which("uv") or str(Path(sys.executable).with_name("uv"))
    if not Path(uv).is_file():
        pytest.skip("uv is not installed (make install puts it in .venv/bin)")

    def make(folder: Path, requirements: list[str], *options: str) -> Path:
        venv = [uv, "venv", "--quiet", "--seed", "--python", sys.executable, str(folder)]
        subprocess.run(venv, check=True)
        python = folder / "bin" / "python"
        install = [uv, "pip", "install", "--quiet", "--python", str(python), *options]
        subprocess.run([*install, *requirements], check=True)
        return python

    return make
