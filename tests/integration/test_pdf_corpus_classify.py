"""The generated corpus, and batch classification of it from the command line."""

import mlflow
import numpy as np
import pandas as pd
import pytest

from data_science.model import build_cnn
from data_science.pdf.__main__ import main
from data_science.pdf.classify import classify_pdfs, load_classifier, write_classifier_info
from data_science.pdf.corpus import BROKEN_KINDS, CLASSES, generate_corpus
from data_science.pdf.extract import extract_folder
from data_science.tracking import use_tracking

pytestmark = pytest.mark.integration
N_PDFS = 30


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return generate_corpus(tmp_path_factory.mktemp("corpus"), N_PDFS, seed=7, progress=False)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    """An untrained classifier saved as an MLflow model: enough to test the plumbing."""
    path = tmp_path_factory.mktemp("model") / "model"
    model = build_cnn(len(CLASSES), width=4, augment=False)
    mlflow.keras.save_model(model, str(path), pip_requirements=["keras"])
    write_classifier_info(path, CLASSES, "digits")
    return path


def test_corpus_is_seeded_labelled_and_holds_each_broken_kind(corpus, tmp_path):
    assert len(corpus.pdfs) == N_PDFS == len(list(corpus.folder.glob("*.pdf")))
    assert sorted(corpus.pdfs.query("broken != ''")["broken"]) == sorted(BROKEN_KINDS)
    assert set(corpus.labels["label"]) <= set(CLASSES)
    again = generate_corpus(tmp_path, N_PDFS, seed=7, progress=False)
    assert again.labels.equals(corpus.labels) and again.pdfs.equals(corpus.pdfs)


def test_every_label_names_an_extracted_image_and_every_extracted_image_has_one(corpus, tmp_path):
    manifest = extract_folder(corpus.folder, tmp_path, progress=False)
    extracted = set(manifest.query("status == 'ok'")["file"])
    assert extracted == set(corpus.labels["file"])
    failed = manifest[manifest["image"].isna() & (manifest["status"] == "failed")]
    assert len(failed) == len(BROKEN_KINDS) - 1  # the huge image fails alone, not its PDF
    assert set(manifest.query("colorspace.notna()")["colorspace"]) >= {"DeviceGray", "Indexed"}


def test_classification_accounts_for_every_pdf_and_image(corpus, model_dir):
    run = classify_pdfs(corpus.folder, load_classifier(model_dir), workers=2, progress=False)
    assert sorted(run.pdfs["pdf"]) == sorted(corpus.pdfs["pdf"])
    ok = run.images[run.images["status"] == "ok"]
    assert len(ok) == len(corpus.labels)
    assert ok["label"].isin(CLASSES).all() and ok["confidence"].between(0, 1).all()
    decided = run.pdfs[run.pdfs["status"] == "ok"]
    assert decided["label"].isin(CLASSES).all()
    assert len(run.failures()) == len(BROKEN_KINDS)
    assert run.pdfs_per_second > 0


def test_batches_give_the_same_answers_as_one_image_at_a_time(corpus, model_dir):
    classifier = load_classifier(model_dir)
    inputs = np.random.default_rng(0).uniform(0, 255, (7, 28, 28, 1)).astype(np.float32)
    classifier.batch_size = 3
    batched = classifier.probabilities(inputs)
    single = np.concatenate([classifier.model.predict(x[None], verbose=0) for x in inputs])
    np.testing.assert_allclose(batched, single, atol=1e-5)


def test_classify_command_line_with_a_registered_model(corpus, model_dir, tmp_path, capsys):
    with mlflow.start_run(experiment_id=use_tracking(tmp_path, "pdf-images")) as run:
        mlflow.log_artifacts(str(model_dir), "model")
    mlflow.register_model(f"runs:/{run.info.run_id}/model", "pdf-classifier")
    out = tmp_path / "classified.csv"
    model, run_dir = "models:/pdf-classifier/1", str(tmp_path)
    main(
        ["classify", str(corpus.folder), "--model", model, "--run-dir", run_dir, "--out", str(out)]
    )
    table = pd.read_csv(out)
    assert (table["kind"] == "pdf").sum() == N_PDFS
    assert (table.query("kind == 'image' and status == 'ok'")).shape[0] == len(corpus.labels)
    assert f"{N_PDFS - 4} PDFs ok, 4 failed" in capsys.readouterr().out


def test_train_command_registers_a_classifier_that_classifies(tmp_path, monkeypatch, capsys):
    """The cloud job's command, small: PDFs generated, extracted, trained on, registered."""
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    run_dir = tmp_path / "run"
    main(["train", str(run_dir), "--pdfs", "24", "--epochs", "1", "--max-train-samples", "64"])
    assert "registered as models:/pdf-classifier/1" in capsys.readouterr().out
    classifier = load_classifier("models:/pdf-classifier/1", run_dir)
    assert set(classifier.class_names) <= set(CLASSES)  # classifier.json went with the model
    run = classify_pdfs(run_dir / "corpus", classifier, workers=1)
    assert len(run.pdfs) == 24 and (run.pdfs["status"] == "failed").sum() == 4
