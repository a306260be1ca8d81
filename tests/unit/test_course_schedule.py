"""The runner's schedule: needs respected, up to `jobs` at once, results in course order."""

import threading
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_notebook

from course.errors import UsageError
from course.report import NotebookResult, Status
from course.runner import find_notebooks
from course.schedule import run_when_ready


@dataclass(frozen=True)
class Fake:
    prefix: str
    needs: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return f"{self.prefix}_fake"


def result(notebook: Fake, status: Status = Status.PASSED) -> NotebookResult:
    return NotebookResult(notebook.name, status, 0.0, {})


def skip(notebook: Fake) -> NotebookResult:
    return result(notebook, Status.SKIPPED)


def test_a_notebook_starts_only_after_what_it_needs_and_results_keep_course_order():
    notebooks = [Fake("01"), Fake("02", ("01",)), Fake("03"), Fake("04", ("02", "03"))]
    finished, lock = set(), threading.Lock()

    def run(notebook: Fake) -> NotebookResult:
        with lock:
            assert set(notebook.needs) <= finished, f"{notebook.prefix} started too early"
        with lock:
            finished.add(notebook.prefix)
        return result(notebook)

    results = run_when_ready(notebooks, run, skip, jobs=2)
    assert [r.name for r in results] == [n.name for n in notebooks]
    assert all(r.status == Status.PASSED for r in results)


def test_independent_notebooks_run_at_the_same_time():
    both_started = threading.Barrier(2, timeout=10)  # broken if the two never overlap

    def run(notebook: Fake) -> NotebookResult:
        both_started.wait()
        return result(notebook)

    results = run_when_ready([Fake("01"), Fake("02")], run, skip, jobs=2)
    assert [r.status for r in results] == [Status.PASSED, Status.PASSED]


def test_one_job_runs_in_course_order():
    order = []

    def run(notebook: Fake) -> NotebookResult:
        order.append(notebook.prefix)
        return result(notebook)

    run_when_ready([Fake("01"), Fake("02"), Fake("03", ("01",))], run, skip, jobs=1)
    assert order == ["01", "02", "03"]


def test_after_a_failure_what_has_not_started_is_skipped_unless_keep_going():
    notebooks = [Fake("01"), Fake("02", ("01",)), Fake("03", ("02",))]

    def run(notebook: Fake) -> NotebookResult:
        return result(notebook, Status.FAILED if notebook.prefix == "01" else Status.PASSED)

    stopped = run_when_ready(notebooks, run, skip, jobs=2)
    assert [r.status for r in stopped] == [Status.FAILED, Status.SKIPPED, Status.SKIPPED]
    going = run_when_ready(notebooks, run, skip, jobs=2, keep_going=True)
    assert [r.status for r in going] == [Status.FAILED, Status.PASSED, Status.PASSED]


def test_a_need_outside_the_selection_counts_as_met():
    ran = run_when_ready([Fake("05", ("03",))], result, skip, jobs=1)
    assert ran[0].status == Status.PASSED


def write_notebook(folder: Path, name: str, needs) -> None:
    notebook = new_notebook(metadata={"course": {"needs": needs}})
    nbformat.write(notebook, folder / name)


def test_needs_are_read_from_the_notebook_metadata(tmp_path: Path):
    write_notebook(tmp_path, "01_a.ipynb", [])
    write_notebook(tmp_path, "02_b.ipynb", ["01"])
    assert [n.needs for n in find_notebooks(tmp_path)] == [(), ("01",)]


@pytest.mark.parametrize("needs", [["03"], ["02"], [1]])
def test_a_need_that_is_not_an_earlier_notebook_is_a_clear_error(tmp_path: Path, needs):
    write_notebook(tmp_path, "02_b.ipynb", needs)
    with pytest.raises(UsageError, match=r"02_b.ipynb: 'needs' must list earlier notebooks"):
        find_notebooks(tmp_path)
