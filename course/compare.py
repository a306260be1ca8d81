"""Two course runs side by side: each notebook's status, duration and metrics, with the change.

The Markdown is written for a pull-request comment: the base run (usually main's latest)
on the left, the change on the right, a difference wherever both sides hold a number.
"""

import json
from pathlib import Path
from typing import Any

from course.errors import UsageError
from course.report import format_value, markdown_row

MISSING = "—"


def load_report(run_dir: Path) -> dict[str, Any]:
    """The report.json of a run folder."""
    path = Path(run_dir) / "report.json"
    if not path.is_file():
        raise UsageError(f"no report.json in {run_dir}: is it a `course run` folder?")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise UsageError(f"{path}: not valid JSON ({error})") from error


def compare_runs(base_dir: Path, change_dir: Path) -> str:
    """A Markdown table of both runs' notebooks, one row per status, duration and metric."""
    base, change = load_report(base_dir), load_report(change_dir)
    base_rows, change_rows = _rows(base), _rows(change)
    keys = list(base_rows) + [key for key in change_rows if key not in base_rows]
    lines = [
        "## Course metrics",
        "",
        f"Base: `{Path(base_dir).name}` ({_summary(base)}); "
        f"change: `{Path(change_dir).name}` ({_summary(change)}).",
        "",
    ]
    if base["profile"] != change["profile"]:
        lines += ["**The runs used different profiles: the figures are not comparable.**", ""]
    lines += [
        "| Notebook | Measure | Base | Change | Difference |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    for notebook, measure in keys:
        old, new = base_rows.get((notebook, measure)), change_rows.get((notebook, measure))
        cells = [notebook, measure, _format(old), _format(new), _difference(old, new)]
        lines.append(markdown_row(cells))
    return "\n".join(lines) + "\n"


def _summary(report: dict[str, Any]) -> str:
    return f"profile {report['profile']}, started {report['started']}"


def _rows(report: dict[str, Any]) -> dict[tuple[str, str], Any]:
    rows = {}
    for result in report["notebooks"]:
        name = result["name"]
        rows[name, "status"] = result["status"]
        rows[name, "duration (s)"] = round(result["duration"], 1)
        rows.update(((name, metric), value) for metric, value in result["metrics"].items())
    return rows


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _format(value: Any) -> str:
    return MISSING if value is None else format_value(value)


def _difference(old: Any, new: Any) -> str:
    if old is None or new is None:
        return "new" if old is None else "gone"
    if _is_number(old) and _is_number(new):
        delta = new - old
        relative = f" ({delta / old:+.1%})" if old else ""
        return f"{delta:+.4g}{relative}" if delta else "0"
    return "" if old == new else "changed"
