"""The confidence threshold that splits a day of PDFs between the model and a person."""

import numpy as np
import pandas as pd
import pytest

from data_science.pdf.classify import PDF_COLUMNS, ClassificationRun, lowest_threshold


def day() -> tuple[ClassificationRun, pd.DataFrame]:
    """Five PDFs: three sure and right, one unsure and wrong, one failed."""
    pdfs = pd.DataFrame(
        [
            ("a.pdf", "3", 0.99, 1, 0, "ok", None),
            ("b.pdf", "other", 0.95, 2, 0, "ok", None),
            ("c.pdf", "7", 0.90, 1, 0, "ok", None),
            ("d.pdf", "1", 0.40, 1, 0, "ok", None),  # truly a 7
            ("e.pdf", None, None, 0, 0, "failed", "not a PDF"),
        ],
        columns=PDF_COLUMNS,
    )
    truth = pd.DataFrame(
        {"pdf": [f"{n}.pdf" for n in "abcde"], "label": ["3", "other", "7", "7", "1"]}
    )
    return ClassificationRun(pdfs.iloc[:0], pdfs, 1.0), truth


def test_routing_counts_every_pdf_and_the_accuracy_of_the_automatic_ones():
    run, truth = day()
    routing = run.routing(truth, thresholds=np.array([0.0, 0.5, 0.95]))
    assert routing["decided automatically"].tolist() == pytest.approx([0.8, 0.6, 0.4])
    assert routing["accuracy of those"].tolist() == pytest.approx([0.75, 1.0, 1.0])
    assert routing["to a person"].tolist() == [1, 2, 3]  # the failed PDF always goes to one
    assert routing["mistakes to a person"].tolist() == [0, 1, 1]  # d.pdf, once below
    assert (routing["mistakes"] == 1).all()


def test_a_day_splits_into_the_runs_of_its_pdfs():
    run, truth = day()
    first, second = run.of_pdfs(["a.pdf", "d.pdf"]), run.of_pdfs(["b.pdf", "c.pdf", "e.pdf"])
    assert first.pdfs["pdf"].tolist() == ["a.pdf", "d.pdf"]
    assert (first.seconds, second.seconds) == pytest.approx((0.4, 0.6))
    assert first.routing(truth).loc[0.0, "accuracy of those"] == 0.5
    assert second.routing(truth).loc[0.0, "to a person"] == 1  # its failed PDF
    halves = run.halves()
    assert [half.pdfs["pdf"].tolist() for half in halves] == [
        ["a.pdf", "b.pdf"],
        ["c.pdf", "d.pdf", "e.pdf"],
    ]


def test_the_lowest_threshold_that_reaches_the_target():
    run, truth = day()
    routing = run.routing(truth)
    assert lowest_threshold(routing, 0.99) == pytest.approx(0.41)
    assert lowest_threshold(routing.assign(**{"accuracy of those": 0.5}), 0.99) == 1.0
