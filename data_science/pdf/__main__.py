"""Command line of the PDF image pipeline.

    python -m data_science.pdf generate OUT_DIR [--pdfs 1000] [--seed 0]
    python -m data_science.pdf extract PDF_DIR OUT_DIR [--render-pages-without-images]
    python -m data_science.pdf classify PDF_DIR --model MODEL --out FILE [--run-dir DIR]
    python -m data_science.pdf train OUT_DIR [--pdfs 1200] [--epochs 8] [--model-name NAME]

``extract`` writes the PNGs and ``manifest.csv`` (a row per image, a row per failed PDF);
``classify`` writes a row per image (label, confidence) and a row per PDF (its decision).
``train`` is notebook 02 end to end, as a job runs it: generate labelled PDFs, extract, build
the data set, train, register the classifier (MLflow: the run folder, or the workspace).
Both report failed PDFs with the reason and carry on.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from data_science.pdf.extract import MAX_PIXELS, RENDER_DPI, ExtractOptions

WORKERS = 2


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m data_science.pdf", description=__doc__.split("\n\n")[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)

    generate = commands.add_parser("generate", help="write a PDF corpus with known labels")
    generate.add_argument("out_dir", type=Path)
    generate.add_argument("--pdfs", type=int, default=1000)
    generate.add_argument("--seed", type=int, default=0)
    generate.add_argument("--broken-each", type=int, default=1, help="broken PDFs of each kind")

    train = commands.add_parser("train", help="generate PDFs, train and register a classifier")
    train.add_argument("out_dir", type=Path, help="run folder: PDFs, images, MLflow store")
    train.add_argument("--pdfs", type=int, default=1200)
    train.add_argument("--epochs", type=int, default=8)
    train.add_argument("--max-train-samples", type=int)
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--model-name", default="pdf-classifier")
    train.add_argument("--workers", type=int, default=WORKERS)

    for name, text in (("extract", "PDFs to PNGs and a manifest"), ("classify", "classify PDFs")):
        command = commands.add_parser(name, help=text)
        command.add_argument("pdf_dir", type=Path)
        command.add_argument("--workers", type=int, default=WORKERS)
        command.add_argument("--render-pages-without-images", action="store_true")
        command.add_argument("--render-dpi", type=int, default=RENDER_DPI)
        command.add_argument("--max-pixels", type=int, default=MAX_PIXELS)
        if name == "extract":
            command.add_argument("out_dir", type=Path)
        else:
            command.add_argument("--model", required=True, help="MLflow model folder or URI")
            command.add_argument("--run-dir", type=Path, help="run folder with the MLflow store")
            command.add_argument("--out", type=Path, required=True, help="CSV to write")
    return parser.parse_args(argv)


def summary(statuses, what: str) -> str:
    failed = int((statuses == "failed").sum())
    return f"{len(statuses) - failed} {what} ok, {failed} failed"


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.command == "generate":
        from data_science.pdf.corpus import generate_corpus

        corpus = generate_corpus(args.out_dir, args.pdfs, args.seed, args.broken_each)
        print(f"{len(corpus.pdfs)} PDFs and {corpus.labels_file.name} in {corpus.folder}")
        return
    if args.command == "train":
        from data_science.pdf.train import train_from_generated_pdfs
        from data_science.train import TrainConfig

        config = TrainConfig(
            epochs=args.epochs, max_train_samples=args.max_train_samples, seed=args.seed
        )
        result = train_from_generated_pdfs(
            args.out_dir, args.pdfs, config, args.model_name, args.workers
        )
        print(f"test accuracy {result.evaluation.accuracy:.2%}; registered as {result.model_uri}")
        return
    options = ExtractOptions(args.render_pages_without_images, args.render_dpi, args.max_pixels)
    if args.command == "extract":
        from data_science.pdf.extract import MANIFEST_FILE, extract_folder

        manifest = extract_folder(args.pdf_dir, args.out_dir, options, args.workers)
        images = manifest[manifest["image"].notna()]
        failed_pdfs = manifest[manifest["image"].isna() & (manifest["status"] == "failed")]
        print(
            f"{manifest['pdf'].nunique()} PDFs ({len(failed_pdfs)} failed); "
            f"{summary(images['status'], 'images')}; manifest: {args.out_dir / MANIFEST_FILE}"
        )
        return
    from data_science.pdf.classify import classify_pdfs, load_classifier

    classifier = load_classifier(args.model, args.run_dir)
    run = classify_pdfs(args.pdf_dir, classifier, args.workers, options)
    run.write_csv(args.out)
    print(f"{summary(run.pdfs['status'], 'PDFs')} at {run.pdfs_per_second:.0f} PDFs/s")
    print(f"results: {args.out}")


if __name__ == "__main__":
    main()
