"""Run results and their report.json / report.md renderings."""

import json
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any


class Status(StrEnum):
    PASSED = "passed"
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
class NotebookResult:
    name: str
    status: Status
    duration: float  # seconds
    parameters: dict[str, Any]
    error: CellError | None = None
    metrics: dict[str, Any] = field(default_factory=dict)

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

    @property
    def failed(self) -> bool:
        return any(result.failed for result in self.notebooks)


def format_line(result: NotebookResult) -> str:
    """One line of progress for a finished notebook."""
    return f"{result.name:<32} {result.status:<8} {result.duration:8.1f} s"


def write_reports(report: RunReport) -> Path:
    """Write report.json and report.md into the run folder; return the report.md path."""
    data = json.dumps(asdict(report), indent=2, default=str)
    (report.run_dir / "report.json").write_text(data + "\n", encoding="utf-8")
    markdown = report.run_dir / "report.md"
    markdown.write_text(render_markdown(report), encoding="utf-8")
    return markdown


def render_markdown(report: RunReport) -> str:
    lines = [
        "# Course run report",
        "",
        f"- Profile: {report.profile}",
        f"- Started: {report.started}",
        f"- Duration: {report.duration:.1f} s",
        f"- Python {report.python}, papermill {report.papermill}",
        f"- Run folder: `{report.run_dir}`",
        "",
        "| Notebook | Status | Duration (s) | Key metrics |",
        "| --- | --- | ---: | --- |",
        *(_table_row(result) for result in report.notebooks),
        "",
        "## Failures",
        "",
    ]
    failures = [result for result in report.notebooks if result.failed]
    lines += [line for result in failures for line in _failure(result)] or ["None.", ""]
    return "\n".join(lines)


def _table_row(result: NotebookResult) -> str:
    metrics = ", ".join(f"{name}={format_value(value)}" for name, value in result.metrics.items())
    return markdown_row([result.name, result.status, f"{result.duration:.1f}", metrics])


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
