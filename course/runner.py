"""Executes the course notebooks with papermill, each in its own child process."""

import json
import os
import platform
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import nbformat
import papermill
import yaml
from nbformat import NotebookNode

from course.compare import compare_runs
from course.environment import kit_commit, package_versions, share_cores
from course.errors import UsageError
from course.expectations import Expectations, ExpectationsError, check_results, load_expectations
from course.metrics import metrics_path, read_metrics
from course.offline_html import export_html
from course.profiles import PROFILES, profile_parameters
from course.report import CellError, NotebookResult, RunReport, SlowCell, Status, write_reports
from course.schedule import CHILDREN, run_when_ready

REPO_ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS_DIR = REPO_ROOT / "notebooks"
RUNS_DIR = REPO_ROOT / "runs"
KERNEL = "python3"
# Cells papermill adds to the executed copy; they do not count when locating a failing cell.
PAPERMILL_TAGS = {"injected-parameters", "papermill-error-cell-tag"}


@dataclass(frozen=True)
class Notebook:
    path: Path
    declared: dict[str, dict[str, Any]]  # papermill.inspect_notebook: name -> default, type, help
    needs: tuple[str, ...] = ()  # the NN of earlier notebooks it must run after (metadata)
    alone: bool = False  # runs with no other notebook beside it (metadata: it measures speed)

    @property
    def name(self) -> str:
        return self.path.stem

    @property
    def prefix(self) -> str:
        return _prefix(self.path)


def _prefix(path: Path) -> str:
    return path.name[:2]  # the NN of NN_*.ipynb


def find_notebooks(notebooks_dir: Path) -> list[Notebook]:
    """The `NN_*.ipynb` notebooks in name order."""
    if not notebooks_dir.is_dir():
        raise UsageError(f"notebooks folder not found: {notebooks_dir}")
    paths = sorted(notebooks_dir.glob("[0-9][0-9]_*.ipynb"))
    if not paths:
        raise UsageError(f"no NN_*.ipynb notebooks in {notebooks_dir}")
    prefixes = {_prefix(path) for path in paths}
    return [
        Notebook(path, papermill.inspect_notebook(path), *_scheduling(path, prefixes))
        for path in paths
    ]


def numbered(notebooks: Sequence[Notebook], only: Sequence[str]) -> set[str]:
    """The `only` prefixes, checked against the notebooks."""
    unknown = sorted(set(only) - {notebook.prefix for notebook in notebooks})
    if unknown:
        folder = notebooks[0].path.parent
        raise UsageError(f"no notebook numbered {', '.join(unknown)} in {folder}")
    return set(only)


def plan_selection(
    notebooks: Sequence[Notebook], wanted: set[str], passed: set[str]
) -> tuple[list[Notebook], list[str]]:
    """The notebooks to run for the `wanted` prefixes, and why any others were added: a need
    (or a need's need) runs first when it has not passed in this run folder, or when it
    stands on one that runs again."""
    needs = {notebook.prefix: notebook.needs for notebook in notebooks}

    def chain(prefix: str) -> list[str]:  # everything it stands on, latest first
        found = {need for direct in needs[prefix] for need in [direct, *chain(direct)]}
        return sorted(found, reverse=True)

    stands_on = {need for prefix in wanted for need in chain(prefix)}
    rerun: set[str] = set()
    for prefix in sorted(stands_on - wanted):
        if prefix not in passed or set(needs[prefix]) & (rerun | wanted):
            rerun.add(prefix)
    plan = []
    for prefix in sorted(wanted):
        added = [need for need in chain(prefix) if need in rerun]
        if added:
            which = "them" if added == chain(prefix) else ", ".join(added)
            plan.append(f"{prefix} needs {', '.join(chain(prefix))}: running {which} first")
    chosen = [notebook for notebook in notebooks if notebook.prefix in wanted | rerun]
    return chosen, plan


def not_passed_and_after(notebooks: Sequence[Notebook], records: dict[str, dict]) -> set[str]:
    """What `--resume` runs again: the notebooks recorded in the run folder that did not
    pass, and the recorded ones that stand on them."""
    again: set[str] = set()
    for notebook in notebooks:
        record = records.get(notebook.name)
        if record and (record["status"] != Status.PASSED or set(notebook.needs) & again):
            again.add(notebook.prefix)
    return again


def passed_here(records: dict[str, dict], profile: str) -> set[str]:
    """The notebooks (by NN) whose latest result in the run folder passed on ``profile``:
    one that passed on another profile taught another lesson."""
    return {
        name[:2]
        for name, record in records.items()
        if record["status"] == Status.PASSED and record["profile"] == profile
    }


def record_result(run_dir: Path, result: NotebookResult, profile: str, overrides: dict) -> None:
    """A notebook's latest result in this run folder, with how it was run."""
    path = run_dir / "results" / f"{result.name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    finished = datetime.now().astimezone().isoformat()
    record = {"profile": profile, "overrides": overrides, "finished": finished, **asdict(result)}
    path.write_text(json.dumps(record, indent=2, default=str) + "\n", encoding="utf-8")


def folder_results(run_dir: Path) -> dict[str, dict]:
    """Each notebook's latest result recorded in the run folder, by notebook name."""
    paths = sorted((run_dir / "results").glob("*.json"))
    return {path.stem: json.loads(path.read_text(encoding="utf-8")) for path in paths}


def _scheduling(path: Path, prefixes: set[str]) -> tuple[tuple[str, ...], bool]:
    """The notebook's `needs` and whether it runs `alone`, from its metadata."""
    course = nbformat.read(path, as_version=4).metadata.get("course", {})
    needs = course.get("needs", [])
    earlier = {prefix for prefix in prefixes if prefix < _prefix(path)}
    if not set(needs) <= earlier:
        raise UsageError(f"{path.name}: 'needs' must list earlier notebooks' NN, got {needs}")
    return tuple(needs), bool(course.get("alone", False))


def check_overrides(notebooks: Sequence[Notebook], overrides: Mapping[str, Any]) -> None:
    """Reject overrides that no selected notebook declares in its parameters cell."""
    declared = set().union(*(notebook.declared for notebook in notebooks))
    unknown = sorted(set(overrides) - declared)
    if unknown:
        listing = "; ".join(
            f"{notebook.name} declares {', '.join(notebook.declared) or 'nothing'}"
            for notebook in notebooks
        )
        raise UsageError(f"no selected notebook declares {', '.join(unknown)} ({listing})")


def notebook_parameters(
    notebook: Notebook, profile: str, overrides: Mapping[str, Any], run_dir: Path
) -> dict[str, Any]:
    """Profile values, then overrides, then run_dir: those the notebook declares."""
    values = {
        **profile_parameters(profile, notebook.prefix),
        **overrides,
        "run_dir": str(run_dir),
    }
    return {name: value for name, value in values.items() if name in notebook.declared}


def run_notebooks(
    notebooks_dir: Path = NOTEBOOKS_DIR,
    out: Path | None = None,
    profile: str = "default",
    only: Sequence[str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    keep_going: bool = False,
    timeout: float | None = None,
    jobs: int | None = None,
    on_result: Callable[[NotebookResult], None] | None = None,
    resume: bool = False,
    on_plan: Callable[[str], None] | None = None,
) -> RunReport:
    """Execute the notebooks, write the reports into the run folder and return them.

    A notebook runs after what it needs; a need that has not passed in the run folder (on
    this profile) runs first (``plan_selection``). With ``resume`` the run folder's profile
    and overrides are used again and only what did not pass runs, with what stands on it.
    Up to `jobs` notebooks (default: the profile's) run at once (``course.schedule``).
    Without `keep_going` the notebooks not yet started at the first failure or timeout are
    skipped. A notebook that executes is checked against the folder's expected results.
    """
    everything = find_notebooks(notebooks_dir)
    run_dir = (out or RUNS_DIR / datetime.now().strftime("%Y%m%d-%H%M%S")).resolve()
    records = folder_results(run_dir)
    if resume:
        if not records:
            raise UsageError(f"nothing to resume in {run_dir}: no notebook has run there")
        latest = max(records.values(), key=lambda record: record["finished"])
        profile, overrides = latest["profile"], latest["overrides"]
        wanted = not_passed_and_after(everything, records)
    else:
        wanted = numbered(everything, only or [notebook.prefix for notebook in everything])
    if profile not in PROFILES:
        raise UsageError(f"unknown profile {profile!r} (choose from {', '.join(PROFILES)})")
    overrides = dict(overrides or {})
    notebooks, plan = plan_selection(everything, wanted, passed_here(records, profile))
    if resume and not notebooks:
        plan = [f"nothing to resume: every notebook recorded in {run_dir} passed"]
    check_overrides(notebooks, overrides)
    try:
        expectations = load_expectations(notebooks_dir, set(PROFILES))
    except ExpectationsError as error:
        raise UsageError(str(error)) from None
    for line in plan if on_plan else []:
        on_plan(line)
    started = datetime.now().astimezone()
    clock = time.monotonic()
    run_dir.mkdir(parents=True, exist_ok=True)
    limit = PROFILES[profile]["timeout"] if timeout is None else timeout

    def parameters(notebook: Notebook) -> dict[str, Any]:
        return notebook_parameters(notebook, profile, overrides, run_dir)

    def recorded(result: NotebookResult) -> NotebookResult:
        record_result(run_dir, result, profile, overrides)
        return result

    def run(notebook: Notebook) -> NotebookResult:
        result = execute_notebook(notebook, run_dir, parameters(notebook), limit)
        return recorded(judge_results(result, expectations, profile))

    def skip(notebook: Notebook, reason: str) -> NotebookResult:
        skipped = NotebookResult(notebook.name, Status.SKIPPED, 0.0, parameters(notebook))
        return recorded(replace(skipped, skip_reason=reason))

    jobs = PROFILES[profile]["jobs"] if jobs is None else jobs
    share_cores(jobs)
    results = run_when_ready(notebooks, run, skip, jobs, keep_going, on_result)
    report = RunReport(
        **_run_facts(profile, started, clock, run_dir),
        notebooks=results,
        jobs=jobs,
        overrides=overrides,
        plan=plan,
    )
    return write_run_report(report)


def _run_facts(profile: str, started: datetime, clock: float, run_dir: Path) -> dict[str, Any]:
    commit, dirty = kit_commit(REPO_ROOT)
    return {
        "profile": profile,
        "started": started.isoformat(timespec="seconds"),
        "duration": round(time.monotonic() - clock, 2),
        "python": platform.python_version(),
        "papermill": papermill.__version__,
        "run_dir": run_dir,
        "kit_commit": commit,
        "kit_dirty": dirty,
        "versions": package_versions(),
    }


def report_of(
    results: list[NotebookResult], profile: str, started: datetime, clock: float, run_dir: Path
) -> RunReport:
    """The report of notebooks executed one by one (``execute_notebook``), not by
    ``run_notebooks``: since ``started`` (``clock``: ``time.monotonic()`` then)."""
    return RunReport(**_run_facts(profile, started, clock, run_dir), notebooks=results)


def write_run_report(report: RunReport) -> RunReport:
    """Write report.json and report.md, with the change since the latest earlier run of
    the same profile beside it."""
    earlier = earlier_run(report.run_dir, report.profile, report.started)
    write_reports(report, earlier and (lambda: "\n" + compare_runs(earlier, report.run_dir)))
    return report


def earlier_run(run_dir: Path, profile: str, started: str) -> Path | None:
    """The latest run folder beside ``run_dir`` of the same profile that started before it."""
    earlier = []
    for folder in run_dir.parent.iterdir():
        try:
            report = json.loads((folder / "report.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        same_profile = folder != run_dir and report.get("profile") == profile
        if same_profile and report.get("started", "") < started:
            earlier.append((report["started"], folder))
    return max(earlier)[1] if earlier else None


def judge_results(result: NotebookResult, expectations: Expectations, profile: str):
    """The result with its expectations; ``results off`` if it executed and one fails."""
    rules = expectations.get(result.name, {}).get(profile, [])
    expected = {rule.metric: rule.describe() for rule in rules}
    off = check_results(expectations, result.name, profile, result.metrics)
    status = Status.RESULTS_OFF if off and result.status == Status.PASSED else result.status
    return replace(result, status=status, expected=expected, results_off=off)


def execute_notebook(
    notebook: Notebook, run_dir: Path, parameters: Mapping[str, Any], timeout: float
) -> NotebookResult:
    """Run one notebook into `<run_dir>/notebooks/` and export it to `<run_dir>/html/`.

    papermill's own output (cell outputs included) goes to `<run_dir>/logs/<name>.log`.
    """
    executed = run_dir / "notebooks" / f"{notebook.name}.ipynb"
    log = run_dir / "logs" / f"{notebook.name}.log"
    for folder in (executed.parent, log.parent, run_dir / "html"):
        folder.mkdir(parents=True, exist_ok=True)
    # The run folder may be reused: metrics from an earlier run must not show up as this one's.
    metrics_path(run_dir, notebook.name).unlink(missing_ok=True)
    clock = time.monotonic()
    returncode = _papermill(notebook.path, executed, parameters, log, timeout)
    duration = round(time.monotonic() - clock, 2)
    nb = _read_notebook(executed)
    if nb is not None:
        (run_dir / "html" / f"{notebook.name}.html").write_text(export_html(nb), "utf-8")
    status, error = _outcome(returncode, nb, log, timeout)
    metrics = read_metrics(run_dir, notebook.name)
    result = NotebookResult(notebook.name, status, duration, dict(parameters), error, metrics)
    return replace(result, stderr_lines=stderr_lines(nb), slowest_cells=slowest_cells(nb))


def slowest_cells(nb: NotebookNode | None, count: int = 3) -> list[SlowCell]:
    """The notebook's `count` slowest code cells, by the durations papermill records."""
    timed = [
        SlowCell(index, round(duration, 2), cell.source.strip().partition("\n")[0][:70])
        for index, cell in enumerate(_source_cells(nb))
        if (duration := cell.metadata.get("papermill", {}).get("duration")) is not None
    ]
    return sorted(timed, key=lambda cell: cell.seconds, reverse=True)[:count]


def stderr_lines(nb: NotebookNode | None) -> int:
    """Lines the notebook's cells wrote to stderr (warnings, logging): a clean lesson has few."""
    outputs = [output for cell in _source_cells(nb) for output in cell.get("outputs", [])]
    return sum(
        len(output.text.splitlines())
        for output in outputs
        if output.output_type == "stream" and output.name == "stderr"
    )


def _papermill(
    source: Path, executed: Path, parameters: Mapping[str, Any], log: Path, timeout: float
) -> int | None:
    """Exit code of papermill run as a child process, or None if it ran past `timeout`."""
    command = [
        sys.executable, "-m", "course.execute", str(source), str(executed),
        KERNEL, str(source.parent), yaml.safe_dump(dict(parameters)),
    ]  # fmt: skip
    with log.open("w", encoding="utf-8") as output:
        # A session of its own, so the timeout (or Ctrl-C here) can end the whole group.
        child = subprocess.Popen(
            command, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
        CHILDREN.add(child)
        try:
            return child.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        finally:
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()
            CHILDREN.discard(child)


def _outcome(
    returncode: int | None, nb: NotebookNode | None, log: Path, timeout: float
) -> tuple[Status, CellError | None]:
    if returncode == 0:
        return Status.PASSED, None
    if returncode is None:
        return Status.TIMEOUT, _timeout_error(nb, timeout)
    return Status.FAILED, _cell_error(nb) or _log_error(log)


def _read_notebook(path: Path) -> NotebookNode | None:
    # Missing if papermill failed before writing it; truncated if killed while saving it.
    try:
        return nbformat.read(path, as_version=4)
    except (FileNotFoundError, ValueError):
        return None


def _source_cells(nb: NotebookNode | None) -> list[NotebookNode]:
    cells = nb.cells if nb is not None else []
    return [cell for cell in cells if not PAPERMILL_TAGS & set(cell.metadata.get("tags", []))]


def _cell_error(nb: NotebookNode | None) -> CellError | None:
    for index, cell in enumerate(_source_cells(nb)):
        for output in cell.get("outputs", []):
            if output.output_type == "error":
                return CellError(index, cell.execution_count, output.ename, output.evalue)
    return None


def _timeout_error(nb: NotebookNode | None, timeout: float) -> CellError:
    message = f"stopped after {timeout:g} s"
    for index, cell in enumerate(_source_cells(nb)):
        if cell.metadata.get("papermill", {}).get("status") == "running":
            return CellError(index, cell.execution_count, "Timeout", message)
    return CellError(None, None, "Timeout", message)


def _log_error(log: Path) -> CellError:
    # No cell holds the error (e.g. the kernel died or never started): papermill's log does.
    lines = [line for line in log.read_text(encoding="utf-8").splitlines() if line.strip()]
    return CellError(None, None, "PapermillError", lines[-1] if lines else "no output")
