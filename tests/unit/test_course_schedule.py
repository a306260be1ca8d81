"""The runner's schedule: needs respected, up to `jobs` at once, results in course order."""

import threading
from dataclasses import dataclass, replace
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_notebook

from course.errors import UsageError
from course.report import NotebookResult, Status
from course.runner import find_notebooks, not_passed_and_after, plan_selection
from course.schedule import run_when_ready


@dataclass(frozen=True)
class Fake:
    prefix: str
    needs: tuple[str, ...] = ()
    alone: bool = False

    @property
    def name(self) -> str:
        return f"{self.prefix}_fake"


def result(notebook: Fake, status: Status = Status.PASSED) -> NotebookResult:
    return NotebookResult(notebook.name, status, 0.0, {})


def skip(notebook: Fake, reason: str) -> NotebookResult:
    return replace(result(notebook, Status.SKIPPED), skip_reason=reason)


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


def test_a_notebook_that_runs_alone_has_nothing_beside_it():
    # 05 measures latency: 02 must not run beside it, nor 04 start while it runs.
    notebooks = [Fake("02"), Fake("05", alone=True), Fake("04")]
    running, overlaps, lock = set(), [], threading.Lock()

    def run(notebook: Fake) -> NotebookResult:
        with lock:
            overlaps.extend(sorted({notebook.prefix, other}) for other in running)
            running.add(notebook.prefix)
        threading.Event().wait(0.05)
        with lock:
            running.discard(notebook.prefix)
        return result(notebook)

    results = run_when_ready(notebooks, run, skip, jobs=2)
    assert all(r.status == Status.PASSED for r in results)
    assert ["02", "04"] in overlaps  # the others still run side by side
    assert not [pair for pair in overlaps if "05" in pair]


def test_one_job_runs_in_course_order():
    order = []

    def run(notebook: Fake) -> NotebookResult:
        order.append(notebook.prefix)
        return result(notebook)

    run_when_ready([Fake("01"), Fake("02"), Fake("03", ("01",))], run, skip, jobs=1)
    assert order == ["01", "02", "03"]


def test_after_a_failure_what_has_not_started_is_skipped_unless_keep_going():
    notebooks = [Fake("01"), Fake("02"), Fake("03", ("02",))]

    def run(notebook: Fake) -> NotebookResult:
        return result(notebook, Status.FAILED if notebook.prefix == "01" else Status.PASSED)

    stopped = run_when_ready(notebooks, run, skip, jobs=1)
    assert [r.status for r in stopped] == [Status.FAILED, Status.SKIPPED, Status.SKIPPED]
    assert stopped[1].skip_reason == "01_fake failed (--keep-going runs the rest)"
    going = run_when_ready(notebooks, run, skip, jobs=1, keep_going=True)
    assert [r.status for r in going] == [Status.FAILED, Status.PASSED, Status.PASSED]


def test_a_notebook_whose_need_did_not_run_to_its_end_is_skipped_with_the_reason():
    notebooks = [Fake("01"), Fake("02", ("01",)), Fake("03", ("02",)), Fake("04")]

    def run(notebook: Fake) -> NotebookResult:
        return result(notebook, Status.FAILED if notebook.prefix == "01" else Status.PASSED)

    going = run_when_ready(notebooks, run, skip, jobs=2, keep_going=True)
    assert [r.status for r in going] == [
        Status.FAILED,
        Status.SKIPPED,
        Status.SKIPPED,
        Status.PASSED,
    ]
    assert going[1].skip_reason == "needs 01_fake, which did not run to its end"
    assert going[2].skip_reason == "needs 02_fake, which did not run to its end"


COURSE = [
    Fake("01"),
    Fake("02", ("01",)),
    Fake("03", ("01",)),
    Fake("05", ("03",)),
    Fake("06", ("05",)),
]


def planned(wanted: set[str], passed: set[str]) -> tuple[list[str], list[str]]:
    notebooks, plan = plan_selection(COURSE, wanted, passed)
    return [notebook.prefix for notebook in notebooks], plan


def test_a_notebook_alone_in_a_new_folder_runs_after_everything_it_stands_on():
    assert planned({"06"}, set()) == (
        ["01", "03", "05", "06"],
        ["06 needs 05, 03, 01: running them first"],
    )


def test_where_its_needs_passed_only_the_notebook_asked_for_runs():
    assert planned({"06"}, {"01", "02", "03", "05", "06"}) == (["06"], [])
    assert planned({"03", "06"}, {"01", "03", "05"}) == (
        ["03", "05", "06"],
        ["06 needs 05, 03, 01: running 05 first"],
    )


def test_a_need_that_stands_on_one_that_runs_again_runs_again_too():
    assert planned({"06"}, {"01", "05"}) == (
        ["03", "05", "06"],
        ["06 needs 05, 03, 01: running 05, 03 first"],
    )


def test_resume_takes_what_did_not_pass_and_what_stands_on_it():
    records = {
        "01_fake": {"status": "passed"},
        "02_fake": {"status": "passed"},
        "03_fake": {"status": "failed"},
        "05_fake": {"status": "skipped"},
        "06_fake": {"status": "passed"},
    }
    assert not_passed_and_after(COURSE, records) == {"03", "05", "06"}
    assert not_passed_and_after(COURSE, {"01_fake": {"status": "passed"}}) == set()


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
