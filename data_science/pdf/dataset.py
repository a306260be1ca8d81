"""A versioned data set of extracted images: split by PDF, stratified, deterministic.

All images of one PDF land on the same side (pages of one document look alike, so a PDF on
both sides would leak test answers into training). The folder holds ``<split>/<label>/*.png``
and ``manifest.csv``; its version is a content digest of every file and label.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image
from tqdm.auto import tqdm

from data_science.pdf.extract import MANIFEST_FILE
from data_science.pdf.labels import LabelSet
from data_science.pdf.preprocess import model_input
from data_science.train import TrainingSet

SPLITS = ("train", "test")
INFO_FILE = "dataset.json"


@dataclass(frozen=True)
class DatasetVersion:
    """A written data set and what did not make it in."""

    folder: Path
    manifest: pd.DataFrame  # file, label, split, pdf
    digest: str
    unlabelled: list[str]  # extracted images without a label
    missing: list[str]  # labelled files that were not among the extracted images
    conflicts: list[str]  # files left out because annotators disagreed

    def counts(self) -> pd.DataFrame:
        """Images per label and split."""
        return pd.crosstab(self.manifest["label"], self.manifest["split"])[list(SPLITS)]


def most_common(labels: pd.Series) -> str:
    """The most frequent label; ties go to the first in sorted order."""
    return labels.value_counts().sort_index().idxmax()


def split_by_pdf(images: pd.DataFrame, test_fraction: float = 0.2, seed: int = 0) -> pd.Series:
    """``train`` or ``test`` for each image (rows with ``pdf`` and ``label``), by PDF.

    PDFs are stratified by their most common label; the same input and seed always give the
    same split, whatever order the rows come in.
    """
    pdf_label = images.groupby("pdf")["label"].agg(most_common)
    rng = np.random.default_rng(seed)
    test_pdfs: list[str] = []
    for _, pdfs in sorted(pdf_label.groupby(pdf_label), key=lambda item: item[0]):
        shuffled = rng.permutation(sorted(pdfs.index))
        test_pdfs += list(shuffled[: round(len(shuffled) * test_fraction)])
    return images["pdf"].isin(test_pdfs).map({True: "test", False: "train"})


def dataset_digest(folder: Path, manifest: pd.DataFrame) -> str:
    """SHA-256 over every (split, label, file) and the file's bytes, in a fixed order."""
    digest = hashlib.sha256()
    for row in manifest.sort_values(["split", "label", "file"]).itertuples():
        digest.update(f"{row.split}/{row.label}/{row.file};".encode())
        digest.update((folder / row.split / row.label / row.file).read_bytes())
    return digest.hexdigest()


def build_dataset(
    extracted: str | Path,
    labels: LabelSet,
    out_dir: str | Path,
    test_fraction: float = 0.2,
    seed: int = 0,
    progress: bool = True,
) -> DatasetVersion:
    """Join the extraction manifest with the labels, split by PDF and write the data set."""
    extracted, folder = Path(extracted), Path(out_dir)
    found = pd.read_csv(extracted / MANIFEST_FILE, dtype={"file": str})
    found = found[(found["status"] == "ok") & found["file"].notna()]
    images = found[["file", "pdf"]].merge(labels.labels, on="file", how="inner")
    images["split"] = split_by_pdf(images, test_fraction, seed)
    for split in SPLITS:
        shutil.rmtree(folder / split, ignore_errors=True)
    for row in tqdm(
        images.itertuples(), total=len(images), desc="writing data set", disable=not progress
    ):
        target = folder / row.split / row.label
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(extracted / row.file, target / row.file)
    manifest = images[["file", "label", "split", "pdf"]].sort_values("file", ignore_index=True)
    manifest.to_csv(folder / MANIFEST_FILE, index=False)
    version = DatasetVersion(
        folder=folder,
        manifest=manifest,
        digest=dataset_digest(folder, manifest),
        unlabelled=sorted(
            set(found["file"]) - set(labels.labels["file"]) - set(labels.conflicts["file"])
        ),
        missing=sorted(set(labels.labels["file"]) - set(found["file"])),
        conflicts=sorted(labels.conflicts["file"]),
    )
    info = {"digest": version.digest, "test_fraction": test_fraction, "seed": seed}
    (folder / INFO_FILE).write_text(json.dumps({**info, "images": len(manifest)}, indent=2) + "\n")
    return version


def read_images(paths: list[Path]) -> list[np.ndarray]:
    arrays = []
    for path in paths:
        with Image.open(path) as image:
            arrays.append(np.asarray(image))
    return arrays


def load_dataset(
    folder: str | Path,
    preprocessing: str = "digits",
    max_train_samples: int | None = None,
    seed: int = 0,
) -> TrainingSet:
    """The data set as model inputs for ``train_on``, through the named preprocessing.

    Classes are the labels in sorted order; the training images are shuffled with ``seed``.
    """
    folder = Path(folder)
    manifest = pd.read_csv(folder / MANIFEST_FILE, dtype=str)
    digest = json.loads((folder / INFO_FILE).read_text())["digest"]
    class_names = sorted(manifest["label"].unique())
    arrays = {}
    for split in SPLITS:
        rows = manifest[manifest["split"] == split]
        if split == "train":
            rows = rows.sample(frac=1.0, random_state=seed)[:max_train_samples]
        paths = [
            folder / split / label / file
            for file, label in zip(rows["file"], rows["label"], strict=True)
        ]
        arrays[split] = (
            model_input(read_images(paths), preprocessing),
            rows["label"].map(class_names.index).to_numpy(np.int64),
        )
    return TrainingSet(
        *arrays["train"],
        *arrays["test"],
        class_names=class_names,
        source=f"pdf:{folder.name}",
        digest=digest,
    )
