"""Batch classification of PDFs: extraction workers across PDFs, one batching classifier.

Workers (processes) open the PDFs, decode the images and apply the model's preprocessing;
the main process stacks their inputs into batches and calls the model once per batch. Each
image gets a label and a confidence; each PDF gets a decision (the label with the most
confidence summed over its images), or the reason it failed.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from data_science import registry
from data_science.pdf.extract import (
    DEFAULT_OPTIONS,
    ExtractOptions,
    PdfImages,
    find_pdfs,
    iter_extract,
)
from data_science.pdf.preprocess import model_input
from data_science.tracking import local_tracking_uri

INFO_FILE = "classifier.json"  # beside the MLflow model: classes and preprocessing
BATCH_SIZE = 512
IMAGE_COLUMNS = ["pdf", "image", "page", "label", "confidence", "status", "reason"]
PDF_COLUMNS = ["pdf", "label", "confidence", "images", "failed_images", "status", "reason"]


def write_classifier_info(
    model_dir: str | Path, class_names: list[str], preprocessing: str
) -> Path:
    path = Path(model_dir) / INFO_FILE
    path.write_text(json.dumps({"classes": class_names, "preprocessing": preprocessing}, indent=2))
    return path


@dataclass
class Classifier:
    """A Keras model with the class names and preprocessing it was trained with."""

    model: object  # keras.Model
    class_names: list[str]
    preprocessing: str
    batch_size: int = BATCH_SIZE

    def __post_init__(self) -> None:
        import tensorflow as tf

        # One graph for any batch length, traced once here rather than on the first batch.
        shape = (None, *self.model.input_shape[1:])
        self._call = tf.function(
            lambda x: self.model(x, training=False),
            input_signature=[tf.TensorSpec(shape, tf.float32)],
        )
        self._call(np.zeros((1, *shape[1:]), np.float32))

    def probabilities(self, inputs: np.ndarray) -> np.ndarray:
        """Class probabilities for prepared inputs, ``batch_size`` at a time."""
        batches = [
            np.asarray(self._call(inputs[start : start + self.batch_size]))
            for start in range(0, len(inputs), self.batch_size)
        ]
        return np.concatenate(batches) if batches else np.zeros((0, len(self.class_names)))


def load_classifier(model: str | Path, run_dir: str | Path | None = None) -> Classifier:
    """A classifier from a local MLflow model folder or an MLflow model URI
    (``models:/pdf-classifier@champion``; the store is ``run_dir``'s unless
    ``MLFLOW_TRACKING_URI`` is set)."""
    path = Path(model)
    if not path.is_dir():
        if run_dir is not None and not os.environ.get("MLFLOW_TRACKING_URI"):
            mlflow.set_tracking_uri(local_tracking_uri(run_dir))
            mlflow.set_registry_uri(local_tracking_uri(run_dir))
        path = Path(mlflow.artifacts.download_artifacts(registry.concrete_uri(str(model))))
    if not (path / INFO_FILE).is_file():
        raise FileNotFoundError(f"{path} has no {INFO_FILE}: not a model trained for PDF images")
    info = json.loads((path / INFO_FILE).read_text())
    return Classifier(mlflow.keras.load_model(str(path)), info["classes"], info["preprocessing"])


def prepare_inputs(result: PdfImages, preprocessing: str) -> PdfImages:
    """In a worker: swap each decoded image's pixels for its model input."""
    decoded = [image for image in result.images if image.pixels is not None]
    inputs = iter(model_input([image.pixels for image in decoded], preprocessing))
    return replace(
        result,
        images=[
            replace(i, pixels=next(inputs) if i.pixels is not None else None) for i in result.images
        ],
    )


def image_rows(result: PdfImages, probabilities: np.ndarray, class_names: list[str]) -> list[dict]:
    rows, decoded = [], iter(probabilities)
    for image in result.images:
        row = {"pdf": result.pdf, "image": image.name, "page": image.page}
        if image.pixels is None:
            rows.append({**row, "status": "failed", "reason": image.error})
            continue
        scores = next(decoded)
        rows.append(
            {
                **row,
                "label": class_names[scores.argmax()],
                "confidence": float(scores.max()),
                "status": "ok",
            }
        )
    return rows


def pdf_decision(result: PdfImages, rows: list[dict]) -> dict:
    """The PDF's label: the one with the most confidence summed over its images."""
    decided = [row for row in rows if row["status"] == "ok"]
    decision = {
        "pdf": result.pdf,
        "images": len(rows),
        "failed_images": len(rows) - len(decided),
        "status": "ok" if result.ok else "failed",
    }
    if not result.ok:
        return {**decision, "reason": result.error}
    if not decided:
        return {**decision, "reason": "no image could be classified"}
    confidences: dict[str, list[float]] = {}
    for row in decided:
        confidences.setdefault(row["label"], []).append(row["confidence"])
    label = max(confidences, key=lambda name: sum(confidences[name]))
    return {**decision, "label": label, "confidence": float(np.mean(confidences[label]))}


@dataclass(frozen=True)
class ClassificationRun:
    """What a batch run decided, per image and per PDF, and how fast."""

    images: pd.DataFrame  # IMAGE_COLUMNS
    pdfs: pd.DataFrame  # PDF_COLUMNS
    seconds: float

    @property
    def pdfs_per_second(self) -> float:
        return len(self.pdfs) / self.seconds if self.seconds else float("nan")

    def of_pdfs(self, names: Iterable[str]) -> ClassificationRun:
        """The same run for the PDFs ``names`` only, with their share of its time."""
        chosen = set(names)
        pdfs = self.pdfs[self.pdfs["pdf"].isin(chosen)]
        images = self.images[self.images["pdf"].isin(chosen)]
        return ClassificationRun(images, pdfs, self.seconds * len(pdfs) / max(1, len(self.pdfs)))

    def halves(self) -> tuple[ClassificationRun, ClassificationRun]:
        """The run split in two by PDF name, as two days of an inbox."""
        names = sorted(self.pdfs["pdf"])
        middle = len(names) // 2
        return self.of_pdfs(names[:middle]), self.of_pdfs(names[middle:])

    def failures(self) -> pd.DataFrame:
        """Every PDF and image that could not be classified, with the reason."""
        failed_pdfs = self.pdfs[self.pdfs["status"] == "failed"].assign(image=None)
        failed_images = self.images[self.images["status"] == "failed"]
        return pd.concat([failed_pdfs, failed_images])[["pdf", "image", "reason"]].reset_index(
            drop=True
        )

    def decision_accuracy(self, truth: pd.DataFrame) -> float:
        """Share of the PDFs that were decided whose decision matches ``truth`` (pdf, label)."""
        decided = self.pdfs[self.pdfs["status"] == "ok"].merge(
            truth, on="pdf", suffixes=("", "_true")
        )
        return float((decided["label"] == decided["label_true"]).mean())

    def routing(self, truth: pd.DataFrame, thresholds: np.ndarray | None = None) -> pd.DataFrame:
        """What a confidence threshold does to the indexers' day: per threshold, the share
        of PDFs decided automatically (decided, with confidence at or above it) and the
        accuracy of those decisions against ``truth`` (pdf, label). Every other PDF, failed
        ones included, goes to a person, and with it the model's mistakes below it."""
        thresholds = np.linspace(0, 1, 101) if thresholds is None else thresholds
        decided = self.pdfs[self.pdfs["status"] == "ok"].merge(
            truth, on="pdf", suffixes=("", "_true")
        )
        right = (decided["label"] == decided["label_true"]).to_numpy()
        confidence = decided["confidence"].to_numpy()
        rows = []
        for threshold in thresholds:
            automatic = confidence >= threshold
            rows.append(
                {
                    "threshold": threshold,
                    "decided automatically": automatic.sum() / len(self.pdfs),
                    "accuracy of those": right[automatic].mean() if automatic.any() else np.nan,
                    "to a person": len(self.pdfs) - automatic.sum(),
                    "mistakes to a person": (~right & ~automatic).sum(),
                    "mistakes": (~right).sum(),
                }
            )
        return pd.DataFrame(rows).set_index("threshold")

    def write_csv(self, path: str | Path) -> Path:
        """One file: a row per image (``kind=image``) and a row per PDF (``kind=pdf``)."""
        both = pd.concat([self.pdfs.assign(kind="pdf"), self.images.assign(kind="image")])
        columns = [
            "kind",
            "pdf",
            "image",
            "page",
            "label",
            "confidence",
            "images",
            "failed_images",
            "status",
            "reason",
        ]
        both[columns].to_csv(path, index=False)
        return Path(path)


def lowest_threshold(routing: pd.DataFrame, target_accuracy: float) -> float:
    """The lowest threshold of a ``routing`` curve whose automatic decisions reach
    ``target_accuracy`` (its highest, nearly nothing automatic, when none does)."""
    meets = routing.index[routing["accuracy of those"] >= target_accuracy]
    return float(meets.min() if len(meets) else routing.index.max())


def classify_pdfs(
    pdfs: str | Path | list[Path],
    classifier: Classifier,
    workers: int = 2,
    options: ExtractOptions = DEFAULT_OPTIONS,
    progress: bool = True,
) -> ClassificationRun:
    """Classify every image of every PDF (a folder or a list of files)."""
    paths = find_pdfs(pdfs) if isinstance(pdfs, str | Path) else list(pdfs)
    started = time.perf_counter()
    finish = partial(prepare_inputs, preprocessing=classifier.preprocessing)
    results = iter_extract(paths, options, finish, workers)
    image_table, pdf_table, pending = [], [], []

    def flush() -> None:
        inputs = [i.pixels for result in pending for i in result.images if i.pixels is not None]
        probabilities = classifier.probabilities(np.stack(inputs)) if inputs else np.zeros((0, 1))
        offset = 0
        for result in pending:
            count = sum(i.pixels is not None for i in result.images)
            rows = image_rows(
                result, probabilities[offset : offset + count], classifier.class_names
            )
            offset += count
            image_table.extend(rows)
            pdf_table.append(pdf_decision(result, rows))
        pending.clear()

    for result in tqdm(
        results, total=len(paths), desc="classifying", unit="pdf", disable=not progress
    ):
        pending.append(result)
        if sum(len(r.images) for r in pending) >= classifier.batch_size:
            flush()
    flush()
    return ClassificationRun(
        pd.DataFrame(image_table, columns=IMAGE_COLUMNS),
        pd.DataFrame(pdf_table, columns=PDF_COLUMNS),
        time.perf_counter() - started,
    )
