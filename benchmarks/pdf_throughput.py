"""PDFs per second: extraction alone, and extraction + classification, in the same run.

    python benchmarks/pdf_throughput.py [--pdfs 10000] [--model MODEL] [--workers 2]

Generates the corpus into a temporary folder (not timed), trains a small classifier on a
separate small corpus unless --model is given, then times both passes over the same PDFs.
Targets: end to end >= 300 PDFs/s on 2 cores, and >= 70% of the extraction-only rate.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from data_science.pdf.classify import BATCH_SIZE, classify_pdfs, load_classifier
from data_science.pdf.corpus import generate_corpus
from data_science.pdf.dataset import build_dataset
from data_science.pdf.extract import PdfImages, extract_folder, find_pdfs, iter_extract
from data_science.pdf.labels import read_labels_csv
from data_science.pdf.train import model_folder, train_classifier
from data_science.train import TrainConfig

TRAIN_PDFS = 800
MODEL_WIDTH = 12  # a narrower CNN than notebook 01's 24: a quarter of the work per image


def keep_pixels(result: PdfImages) -> PdfImages:
    """Extraction alone delivers every image's pixel array to the caller."""
    return result


def quick_model(folder: Path) -> str:
    """A classifier trained for two epochs on a small corpus of its own (other seed)."""
    corpus = generate_corpus(folder / "pdfs", TRAIN_PDFS, seed=1, progress=False)
    extract_folder(corpus.folder, folder / "images", progress=False)
    labels = read_labels_csv(corpus.labels_file)
    dataset = build_dataset(folder / "images", labels, folder / "dataset", progress=False)
    result = train_classifier(
        dataset.folder,
        TrainConfig(epochs=2, batch_size=32, width=MODEL_WIDTH),
        folder / "run",
        progress=False,
    )
    accuracy, images = result.evaluation.accuracy, len(dataset.manifest)
    print(f"classifier: test accuracy {accuracy:.2%}, data set of {images} images")
    return str(model_folder(folder / "run", result))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pdfs", type=int, default=10_000)
    parser.add_argument("--model", help="MLflow model folder or URI (default: train one)")
    parser.add_argument("--run-dir", help="run folder whose MLflow store holds --model")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        corpus = generate_corpus(folder / "corpus", args.pdfs, seed=0)
        classifier = load_classifier(args.model or quick_model(folder / "model"), args.run_dir)
        classifier.batch_size = args.batch_size
        paths = find_pdfs(corpus.folder)

        started = time.perf_counter()
        results = iter_extract(paths, finish=keep_pixels, workers=args.workers)
        images = sum(image.pixels is not None for result in results for image in result.images)
        extraction_rate = len(paths) / (time.perf_counter() - started)

        run = classify_pdfs(paths, classifier, args.workers, progress=False)
        failed = (run.pdfs["status"] == "failed").sum()

    print(f"{len(paths):,} PDFs, {images:,} images, {failed} failed PDFs, {args.workers} workers")
    print(f"extraction only:             {extraction_rate:8.1f} PDFs/s")
    print(f"extraction + classification: {run.pdfs_per_second:8.1f} PDFs/s")
    print(f"ratio end-to-end / extraction: {run.pdfs_per_second / extraction_rate:.0%}")


if __name__ == "__main__":
    main()
