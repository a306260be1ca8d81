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


def train_from_generated_pdfs(
    out_dir: str | Path,
    n_pdfs: int,
    config: TrainConfig,
    model_name: str = MODEL_NAME,
    workers: int = 2,
) -> TrainResult:
    """Notebook 02's path end to end, for a job: generate ``n_pdfs`` labelled PDFs, extract
    their images, build the data set from the labels, train and register the classifier.
    The PDFs carry ``config.data_source`` digits; everything lands in ``out_dir``."""
    from data_science.pdf.corpus import generate_corpus
    from data_science.pdf.dataset import build_dataset
    from data_science.pdf.extract import extract_folder
    from data_science.pdf.labels import read_labels_csv

    out_dir = Path(out_dir)
    corpus = generate_corpus(
        out_dir / "corpus", n_pdfs, config.seed, data_source=config.data_source
    )
    extract_folder(corpus.folder, out_dir / "images", workers=workers)
    labels = read_labels_csv(corpus.labels_file)
    dataset = build_dataset(out_dir / "images", labels, out_dir / "dataset", seed=config.seed)
    return train_classifier(dataset.folder, config, out_dir, model_name=model_name)


def model_folder(output: str | Path, result: TrainResult) -> Path:
    """The local MLflow model folder of a training run (usable as ``classify --model``)."""
    return Path(output) / "models" / result.run_id
