"""The pipeline's evaluate and register steps, run as the pipeline runs them, against a real
SQLite MLflow store (the workspace's MLflow in the cloud) and the full MNIST test set."""

import json
import shutil

import mlflow
import pytest
from mlflow import MlflowClient

from cloud import steps
from data_science import registry

NAME = "mnist-cnn"


@pytest.fixture
def trained(small_run, tmp_path, monkeypatch):
    """The training step's output folder (models/<run id>/MLmodel), with the run logged in
    the store the steps use, as MLFLOW_TRACKING_URI names it in a job."""
    uri = f"sqlite:///{tmp_path / 'workspace.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    mlflow.set_tracking_uri(uri)
    artifacts = (tmp_path / "artifacts").as_uri()
    mlflow.set_experiment(experiment_id=mlflow.create_experiment("train", artifacts))
    folder = tmp_path / "trained"
    with mlflow.start_run() as run:
        model_dir = folder / "models" / run.info.run_id
        mlflow.keras.save_model(small_run.model, str(model_dir), pip_requirements=["keras"])
        mlflow.log_artifacts(str(model_dir), "model")
    return folder


def test_a_first_candidate_is_registered_as_champion_a_tie_is_not(
    trained, full_mnist_dir, tmp_path, capsys
):
    decision = steps.evaluate(trained, full_mnist_dir, NAME, tmp_path / "decision-1")
    assert decision["promoted"] and decision["champion_version"] is None
    assert 0.1 < decision["candidate_accuracy"] <= 1
    written = json.loads((tmp_path / "decision-1" / steps.DECISION_FILE).read_text())
    assert written == decision
    assert decision["run_id"] == steps.trained_model(trained)[0]

    version = steps.register(trained, tmp_path / "decision-1", NAME)
    assert str(registry.champion_version(NAME).version) == version == "1"
    assert MlflowClient().get_model_version(NAME, version).tags["promotion"] == decision["reason"]

    # The same model again: it does not beat itself, so nothing is registered.
    again = steps.evaluate(trained, full_mnist_dir, NAME, tmp_path / "decision-2")
    assert not again["promoted"] and again["champion_version"] == "1"
    assert again["champion_accuracy"] == pytest.approx(decision["candidate_accuracy"])
    assert steps.register(trained, tmp_path / "decision-2", NAME) is None
    printed = capsys.readouterr().out
    assert "not registered: candidate (not registered yet)" in printed
    assert "does not beat champion v1" in printed
    assert len(MlflowClient().search_model_versions(f"name = '{NAME}'")) == 1


def test_a_training_output_without_exactly_one_model_is_a_clear_error(trained, tmp_path):
    shutil.copytree(next((trained / "models").iterdir()), trained / "models" / "another-run")
    with pytest.raises(FileNotFoundError, match="expected one models/<run id>/MLmodel"):
        steps.trained_model(trained)
