"""Training on a PDF image data set: notebook 01's training code, any classes.

The preprocessing and class names go with the model (``classifier.json`` in the model's
folder and in the run's ``model`` artifact), so ``classify`` applies what training applied.
"""

from __future__ import annotations

from pathlib import Path

from mlflow import MlflowClient

from data_science.pdf.classify import write_classifier_info
from data_science.pdf.dataset import load_dataset
from data_science.train import TrainConfig, TrainResult, train_on

EXPERIMENT = "pdf-images"
MODEL_NAME = "pdf-classifier"


def train_classifier(
    dataset: str | Path,
    config: TrainConfig,
    output: str | Path,
    preprocessing: str = "digits",
    experiment: str = EXPERIMENT,
    model_name: str = MODEL_NAME,
    progress: bool = True,
) -> TrainResult:
    """Train, evaluate, track and register a classifier on the data set folder ``dataset``."""
    data = load_dataset(dataset, preprocessing, config.max_train_samples, config.seed)
    result = train_on(data, config, output, experiment, model_name, progress)
    info = write_classifier_info(model_folder(output, result), data.class_names, preprocessing)
    client = MlflowClient()
    client.log_artifact(result.run_id, str(info), "model")
    client.set_tag(result.run_id, "preprocessing", preprocessing)
    client.set_model_version_tag(model_name, result.model_version, "preprocessing", preprocessing)
    return result


def model_folder(output: str | Path, result: TrainResult) -> Path:
    """The local MLflow model folder of a training run (usable as ``classify --model``)."""
    return Path(output) / "models" / result.run_id
