"""The training entry point end to end on a small slice of the embedded sample."""

import mlflow
import numpy as np
import pytest
from mlflow import MlflowClient

from data_science.preprocessing import to_model_input
from data_science.train import TrainConfig, main, train

SMALL = TrainConfig(epochs=2, max_train_samples=600, batch_size=64)


@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
    output = tmp_path_factory.mktemp("run")
    return output, train(SMALL, output, progress=False)


def test_run_is_tracked_and_registered(first_run, monkeypatch):
    output, result = first_run
    assert (output / "mlflow.db").is_file()
    assert list((output / "tensorboard").rglob("*tfevents*"))
    run = mlflow.get_run(result.run_id)
    assert run.data.params["data_digest"] == result.data_digest
    assert run.data.params["epochs"] == "2"
    assert abs(run.data.metrics["test_accuracy"] - result.evaluation.accuracy) < 1e-9
    history = MlflowClient().get_metric_history(result.run_id, "val_accuracy")
    assert [m.step for m in history] == [0, 1]
    artifacts = {a.path for a in MlflowClient().list_artifacts(result.run_id, "plots")}
    assert {"plots/confusion_matrix.png", "plots/worst_errors.png"} <= artifacts
    assert result.promotion.promoted and result.promotion.champion_version is None


def test_registered_model_predicts_like_the_evaluation(first_run):
    _, result = first_run
    model = mlflow.keras.load_model("models:/mnist-cnn@champion")
    probabilities = model.predict(result.test_images[:50], verbose=0)
    np.testing.assert_allclose(probabilities, result.evaluation.probabilities[:50], atol=1e-5)
    assert mlflow.models.get_model_info(result.model_uri).signature.inputs is not None


def test_a_worse_model_does_not_become_champion(first_run):
    output, first = first_run
    worse = train(TrainConfig(epochs=1, max_train_samples=100), output, progress=False)
    assert worse.evaluation.accuracy < first.evaluation.accuracy
    assert not worse.promotion.promoted
    assert worse.promotion.champion_version == first.model_version
    champion = MlflowClient().get_model_version_by_alias("mnist-cnn", "champion")
    assert str(champion.version) == first.model_version


def test_same_seed_gives_the_same_metrics(first_run, tmp_path):
    _, first = first_run
    again = train(SMALL, tmp_path, progress=False)
    assert abs(again.evaluation.accuracy - first.evaluation.accuracy) <= 0.01
    np.testing.assert_allclose(again.history["loss"], first.history["loss"], rtol=0.02)


def test_one_pixel_shift_keeps_most_predictions(first_run):
    _, result = first_run
    model = mlflow.keras.load_model(result.model_uri)
    images = result.test_images[:300]
    shifted = np.roll(images, 1, axis=2)
    same = model.predict(images, verbose=0).argmax(1) == model.predict(shifted, verbose=0).argmax(1)
    assert same.mean() >= 0.9


def test_command_line(tmp_path, capsys):
    main(["--epochs", "1", "--max-train-samples", "200", "--no-augment", "--output", str(tmp_path)])
    printed = capsys.readouterr().out
    assert "test accuracy" in printed and "models:/mnist-cnn/1" in printed


def test_preprocessing_is_shared_with_serving_inputs():
    raw = np.zeros((2, 40, 30), np.uint8)
    raw[:, 5:35, 12:16] = 255
    assert to_model_input(raw).shape == (2, 28, 28, 1)
