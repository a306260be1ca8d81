"""The training entry point end to end, on the session's small run (see conftest)."""

from importlib.util import find_spec

import mlflow
import numpy as np
import pytest
from mlflow import MlflowClient

from data_science import registry
from data_science.search_space import LOGGED_METRICS
from data_science.tracking import use_tracking
from data_science.train import (
    EXPERIMENT,
    MODEL_NAME,
    TrainConfig,
    logged_config,
    seen_and_unseen,
    train,
)


@pytest.fixture(autouse=True)
def tracking(small_run):
    """Earlier tests may have pointed MLflow elsewhere; these read the small run's store."""
    use_tracking(small_run.output, EXPERIMENT)


def test_run_is_tracked_and_registered(small_run):
    output, result = small_run.output, small_run.result
    assert (output / "mlflow.db").is_file()
    # TensorBoard logs exactly when TensorBoard is installed (the lab extra)
    assert bool(list(output.glob("tensorboard/**/*tfevents*"))) == bool(find_spec("tensorboard"))
    run = mlflow.get_run(result.run_id)
    assert run.data.params["data_digest"] == result.data_digest
    assert run.data.params["epochs"] == "2"
    assert abs(run.data.metrics["test_accuracy"] - result.evaluation.accuracy) < 1e-9
    history = MlflowClient().get_metric_history(result.run_id, "val_accuracy")
    assert [m.step for m in history] == [0, 1]
    artifacts = {a.path for a in MlflowClient().list_artifacts(result.run_id, "plots")}
    assert {"plots/confusion_matrix.png", "plots/worst_errors.png"} <= artifacts
    assert result.promotion.promoted and result.promotion.champion_version is None
    assert run.data.tags["promoted"] == "True"
    assert set(run.data.metrics) == set(LOGGED_METRICS)  # what sweeps may optimise


def test_the_settings_and_the_data_a_model_saw_are_read_back_from_its_run(small_run):
    config = logged_config(small_run.result.model_uri)
    assert config == TrainConfig(epochs=2, max_train_samples=600, batch_size=64)
    split = seen_and_unseen(config)
    # 600 training digits: the last 60 held out for validation, never fitted on
    assert len(split.fitted) == 540 and len(split.unseen) == 60 + 1000
    assert len(split.unseen_labels) == len(split.unseen)
    fitted = {image.tobytes() for image in split.fitted}
    assert not any(image.tobytes() in fitted for image in split.unseen)


def test_registered_model_predicts_like_the_evaluation(small_run):
    result = small_run.result
    model = mlflow.keras.load_model(result.model_uri)
    probabilities = model.predict(result.test_images[:50], verbose=0)
    np.testing.assert_allclose(probabilities, result.evaluation.probabilities[:50], atol=1e-5)
    assert mlflow.models.get_model_info(result.model_uri).signature.inputs is not None


def test_same_seed_reproduces_the_run_and_its_promotion_follows_the_rule(small_run):
    """A second run into the same store: the same numbers (fixed seed), and a promotion
    decision taken against the first run's champion on the same test set, whichever way
    it goes. Both branches of the rule are tested with known accuracies in
    tests/unit/test_registry.py."""
    first = small_run.result
    config = TrainConfig(epochs=2, max_train_samples=600, batch_size=64)
    again = train(config, small_run.output, progress=False)
    assert abs(again.evaluation.accuracy - first.evaluation.accuracy) <= 0.01
    np.testing.assert_allclose(again.history["loss"], first.history["loss"], rtol=0.02)

    decision = again.promotion
    assert decision.champion_version == first.model_version
    assert decision.champion_accuracy == pytest.approx(first.evaluation.accuracy, abs=1e-6)
    assert decision.promoted == (again.evaluation.accuracy > first.evaluation.accuracy)
    champion = registry.champion_version(MODEL_NAME).version
    expected = again.model_version if decision.promoted else first.model_version
    assert str(champion) == expected
    tag = MlflowClient().get_model_version(MODEL_NAME, again.model_version).tags["promotion"]
    assert tag == decision.reason


def test_one_pixel_shift_keeps_most_predictions(small_run):
    images = small_run.result.test_images[:300]
    predict = small_run.model.predict
    shifted = np.roll(images, 1, axis=2)
    same = predict(images, verbose=0).argmax(1) == predict(shifted, verbose=0).argmax(1)
    assert same.mean() >= 0.9
