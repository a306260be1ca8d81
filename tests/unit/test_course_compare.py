"""`course compare`: two run folders' reports side by side, as Markdown."""

from pathlib import Path

import pytest

from course.cli import main
from course.compare import compare_runs
from course.report import NotebookResult, RunReport, Status, write_reports


def write_run(folder: Path, profile: str, *results: NotebookResult) -> Path:
    folder.mkdir()
    started = "2026-11-23T10:00:00+00:00"
    write_reports(RunReport(profile, started, 60.0, "3.11", "2.6", folder, [*results]))
    return folder


def result(name: str, status: Status, duration: float, **metrics) -> NotebookResult:
    return NotebookResult(name, status, duration, parameters={}, metrics=metrics)


def rows(markdown: str) -> dict[tuple[str, str], list[str]]:
    """Table rows keyed by (notebook, measure): [base, change, difference]."""
    lines = [line for line in markdown.splitlines() if line.startswith("| ")]
    table = [line.strip("|").split(" | ") for line in lines]
    return {(cells[0].strip(), cells[1]): [c.strip() for c in cells[2:]] for cells in table[1:]}


@pytest.fixture
def runs(tmp_path):
    base = write_run(
        tmp_path / "main",
        "smoke",
        result("01_mnist", Status.PASSED, 40.0, test_accuracy=0.95, promoted=True, digest="ab"),
        result("02_pdf", Status.PASSED, 30.0, pdfs_per_second=100),
    )
    change = write_run(
        tmp_path / "change",
        "smoke",
        result("01_mnist", Status.PASSED, 50.0, test_accuracy=0.97, promoted=False, digest="ab"),
        result("02_pdf", Status.FAILED, 12.5, pages=3),
    )
    return base, change


def test_numbers_get_a_signed_difference_and_a_relative_change(runs):
    table = rows(compare_runs(*runs))
    assert table["01_mnist", "test_accuracy"] == ["0.95", "0.97", "+0.02 (+2.1%)"]
    assert table["01_mnist", "duration (s)"] == ["40", "50", "+10 (+25.0%)"]


def test_other_values_say_whether_they_changed(runs):
    table = rows(compare_runs(*runs))
    assert table["01_mnist", "promoted"] == ["True", "False", "changed"]
    assert table["01_mnist", "digest"] == ["ab", "ab", ""]
    assert table["02_pdf", "status"] == ["passed", "failed", "changed"]


def test_a_measure_on_one_side_only_is_marked(runs):
    table = rows(compare_runs(*runs))
    assert table["02_pdf", "pdfs_per_second"] == ["100", "—", "gone"]
    assert table["02_pdf", "pages"] == ["—", "3", "new"]


def test_different_profiles_are_flagged(tmp_path):
    base = write_run(tmp_path / "a", "smoke", result("01", Status.PASSED, 1.0))
    change = write_run(tmp_path / "b", "default", result("01", Status.PASSED, 1.0))
    assert "different profiles" in compare_runs(base, change)
    assert "different profiles" not in compare_runs(base, base)


def test_cli_writes_the_table_and_rejects_a_folder_without_a_report(runs, tmp_path, capsys):
    out = tmp_path / "comparison.md"
    assert main(["compare", str(runs[0]), str(runs[1]), "--out", str(out)]) == 0
    assert out.read_text() == compare_runs(*runs)

    with pytest.raises(SystemExit) as stopped:
        main(["compare", str(runs[0]), str(tmp_path)])
    assert stopped.value.code == 2
    assert "no report.json" in capsys.readouterr().err
