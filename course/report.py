"""Run results and their report.json / report.md renderings."""

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any


class Status(StrEnum):
    PASSED = "passed"  # executed, and every expected result holds
    RESULTS_OFF = "results off"  # executed, but one or more expected results do not hold
    FAILED = "failed"
    TIMEOUT = "timeout"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class CellError:
    cell_index: int | None  # 0-based, in the source notebook (papermill's own cells not counted)
    execution_count: int | None
    ename: str
    evalue: str


@dataclass(frozen=True)
class SlowCell:
    cell_index: int  # 0-based, in the source notebook, as CellError's
    seconds: float
    first_line: str  # of the cell's source


@dataclass(frozen=True)
class NotebookResult:
    name: str
    status: Status
    duration: float  # seconds
    parameters: dict[str, Any]
    error: CellError | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    stderr_lines: int = 0  # lines the notebook's cells wrote to stderr
    expected: dict[str, str] = field(default_factory=dict)  # metric -> its rule, described
    results_off: list[str] = field(default_factory=list)  # each expectation that does not hold
    skip_reason: str | None = None  # why a skipped notebook did not run
    slowest_cells: list[SlowCell] = field(default_factory=list)  # the slowest first

    @property
    def failed(self) -> bool:
        return self.status in (Status.FAILED, Status.TIMEOUT)


@dataclass(frozen=True)
class RunReport:
    profile: str
    started: str  # ISO 8601, local time with offset
    duration: float  # seconds
    python: str
    papermill: str
    run_dir: Path
    notebooks: list[NotebookResult]
    kit_commit: str = "unknown"
    kit_dirty: bool | None = None  # None: not a git checkout
    versions: dict[str, str] = field(default_factory=dict)
    jobs: int = 1  # notebooks run at once
    overrides: dict[str, Any] = field(default_factory=dict)  # -p values, reused by --resume
    plan: list[str] = field(default_factory=list)  # what the runner added, and why

    @property
    def failed(self) -> bool:
        return any(result.failed for result in self.notebooks)

    @property
    def results_off(self) -> bool:
        return any(result.status == Status.RESULTS_OFF for result in self.notebooks)


def format_line(result: NotebookResult) -> str:
    """One line of progress for a finished notebook."""
    line = f"{result.name:<32} {result.status:<11} {result.duration:8.1f} s"
    notes = [*result.results_off, *([result.skip_reason] if result.skip_reason else [])]
    return "\n".join([line, *(f"  {note}" for note in notes)])


def write_reports(report: RunReport, comparison: Callable[[], str] | None = None) -> Path:
    """Write report.json and report.md into the run folder; return the report.md path.
    ``comparison`` gives the Markdown of the change since an earlier run, once report.json
    is written."""
    data = json.dumps(asdict(report), indent=2, default=str)
    (report.run_dir / "report.json").write_text(data + "\n", encoding="utf-8")
    markdown = report.run_dir / "report.md"
    change = comparison() if comparison else ""
    markdown.write_text(render_markdown(report) + change, encoding="utf-8")
    return markdown


def render_markdown(report: RunReport) -> str:
    dirty = {True: " (with uncommitted changes)", False: "", None: ""}[report.kit_dirty]
    versions = ", ".join(f"{name} {number}" for name, number in report.versions.items())
    lines = [
        "# Course run report",
        "",
        f"- Profile: {report.profile}, {report.jobs} notebook(s) at a time",
        f"- Kit: commit `{report.kit_commit}`{dirty}",
        f"- Started: {report.started}",
        f"- Duration: {report.duration:.1f} s",
        f"- Python {report.python}, papermill {report.papermill}",
        f"- Versions: {versions or 'unknown'}",
        f"- Run folder: `{report.run_dir}`",
        *(f"- {line}" for line in report.plan),
        "",
        "| Notebook | Status | Duration (s) | Stderr lines | Key metrics (expected) | Files |",
        "| --- | --- | ---: | ---: | --- | --- |",
        *(_table_row(result) for result in report.notebooks),
        "",
        "## Parameters passed",
        "",
        *(_parameters_line(result) for result in report.notebooks),
        "",
        "## Results off",
        "",
    ]
    off = [result for result in report.notebooks if result.results_off]
    lines += [
        f"- {result.name}: {problem}" for result in off for problem in result.results_off
    ] or ["None."]
    lines += ["", "## Failures", ""]
    failures = [result for result in report.notebooks if result.failed]
    lines += [line for result in failures for line in _failure(result)] or ["None.", ""]
    skipped = [result for result in report.notebooks if result.skip_reason]
    if skipped:
        lines += ["## Skipped", ""]
        lines += [f"- {result.name}: {result.skip_reason}" for result in skipped] + [""]
    lines += ["## Where the time goes", "", "The slowest cells of each notebook.", ""]
    lines += [line for result in report.notebooks for line in _slowest(result)]
    return "\n".join(lines)


def _slowest(result: NotebookResult) -> list[str]:
    if not result.slowest_cells:
        return []
    cells = [
        f"  - cell {cell.cell_index}: {cell.seconds:.1f} s `{cell.first_line}`"
        for cell in result.slowest_cells
    ]
    return [f"- {result.name} ({result.duration:.1f} s):", *cells, ""]


def _table_row(result: NotebookResult) -> str:
    metrics = ", ".join(
        f"{name}={format_value(value)}"
        + (f" ({result.expected[name]})" if name in result.expected else "")
        for name, value in result.metrics.items()
    )
    files = (
        f"[notebook](notebooks/{result.name}.ipynb), [HTML](html/{result.name}.html)"
        if result.status != Status.SKIPPED
        else ""
    )
    cells = [result.name, result.status, f"{result.duration:.1f}", str(result.stderr_lines)]
    return markdown_row([*cells, metrics, files])


def _parameters_line(result: NotebookResult) -> str:
    values = ", ".join(f"`{name}={value!r}`" for name, value in result.parameters.items())
    return f"- {result.name}: {values or 'none'}"


def markdown_row(cells: list[str]) -> str:
    """One row of a Markdown table, with any `|` in a cell escaped."""
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"


def format_value(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _failure(result: NotebookResult) -> list[str]:
    error = result.error or CellError(None, None, "Error", "no details recorded")
    return [
        f"### {result.name}: {result.status} {_location(error)}",
        "",
        f"Executed copy: `notebooks/{result.name}.ipynb`, readable offline: "
        f"`html/{result.name}.html`.",
        "",
        "```text",
        f"{error.ename}: {error.evalue}",
        "```",
        "",
    ]


def _location(error: CellError) -> str:
    if error.cell_index is None:
        return "outside any cell"
    count = "" if error.execution_count is None else f", In [{error.execution_count}]"
    return f"at cell index {error.cell_index}{count}"
