"""Committed notebooks stay clean: no outputs, no execution counts, the course kernel and one
`parameters` cell for papermill, so that diffs show only what an author changed. And their
text types no measured figure: what varies from run to run is printed by code; markdown
says what to expect, with the figures of the expectations file or of the parameters."""

import ast
import re
from collections.abc import Iterable
from pathlib import Path

import nbformat

from course.expectations import (
    FILE_NAME,
    Expectation,
    Expectations,
    ExpectationsError,
    load_expectations,
)
from course.profiles import PROFILES
from course.runner import KERNEL

_CODE = re.compile(r"```.*?```|`[^`]*`", re.S)  # commands and literals, not prose
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z*(])|\n\s*\n|\n\s*[-*] ")
_MEASURED = re.compile(r"measured runs?\b|measured:|\bthis run\b", re.I)
_FIGURE = re.compile(
    r"(?<![\w.,])(\d+(?:,\d{3})*(?:\.\d+)?)"
    r"(\s?%|\s?ms\b|\s(?:s|seconds)\b|\s?(?:req|images|PDFs)/s\b)?"
)


def notebook_problems(path: Path, expectations: Expectations | None = None) -> list[str]:
    """One line per problem, `path: where: what`; empty when the notebook is clean."""
    try:
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
    except (OSError, ValueError, nbformat.ValidationError) as error:
        return [f"{path}: not a valid notebook ({type(error).__name__}: {error})"]
    problems = []
    kernel = nb.metadata.get("kernelspec", {}).get("name")
    if kernel != KERNEL:
        problems.append(f"{path}: kernelspec is {kernel!r}, expected {KERNEL!r}")
    tagged = [i for i, cell in enumerate(nb.cells) if "parameters" in cell.metadata.get("tags", [])]
    if len(tagged) != 1:
        problems.append(f"{path}: {len(tagged)} cells tagged `parameters`, expected exactly 1")
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        if cell.outputs:
            problems.append(f"{path}: cell {index}: has outputs (strip them with nbstripout)")
        if cell.execution_count is not None:
            problems.append(f"{path}: cell {index}: has an execution count")
    if expectations is not None:
        for figure in typed_figures(nb, allowed_figures(nb, expectations.get(path.stem, {}))):
            problems.append(f"{path}: {figure}: a measured figure typed into the text")
    return problems


def typed_figures(nb: nbformat.NotebookNode, allowed: set[float]) -> list[str]:
    """The measured-looking figures in a notebook's markdown that ``allowed`` does not hold:
    a percentage with decimals, a duration or a rate, or any number in a sentence that says
    it was measured. A percentage is compared as a share (97.5 % as 0.975)."""
    found = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        for sentence in _SENTENCE.split(_CODE.sub("", cell.source)):
            measured = bool(_MEASURED.search(sentence))
            for match in _FIGURE.finditer(sentence):
                number, unit = match.group(1), (match.group(2) or "").strip()
                value = float(number.replace(",", "")) / (100 if unit == "%" else 1)
                looks_measured = measured or (unit and unit != "%") or ("." in number and unit)
                if looks_measured and not any(abs(value - bound) < 1e-9 for bound in allowed):
                    found.append(
                        f"cell {index}: {match.group(0).strip()!r} in {sentence.strip()!r}"
                    )
    return found


def allowed_figures(
    nb: nbformat.NotebookNode, rules_by_profile: dict[str, list[Expectation]]
) -> set[float]:
    """The numbers a notebook's text may quote: the bounds of its expectations (any
    profile) and its parameters' values."""
    rules = [rule for rules in rules_by_profile.values() for rule in rules]
    bounds = {bound for rule in rules for bound in (rule.min, rule.max) if bound is not None}
    parameters = [cell.source for cell in nb.cells if "parameters" in cell.metadata.get("tags", [])]
    values = {
        float(node.value)
        for source in parameters
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float)
    }
    return bounds | values


def check_notebooks(paths: Iterable[Path]) -> list[str]:
    """The problems of every notebook in ``paths`` (a folder stands for its `*.ipynb` files)."""
    files = []
    for path in map(Path, paths):
        files += sorted(path.glob("*.ipynb")) if path.is_dir() else [path]
    problems, expectations = [], {}
    for folder in {file.parent for file in files}:
        try:
            expectations[folder] = _expectations(folder)
        except ExpectationsError as error:  # one problem line, the notebooks still checked
            problems.append(str(error))
            expectations[folder] = None
    return problems + [
        problem for file in files for problem in notebook_problems(file, expectations[file.parent])
    ]


def _expectations(folder: Path) -> Expectations | None:
    """A folder's expectations, read once for all its notebooks; None without a file."""
    return load_expectations(folder, set(PROFILES)) if (folder / FILE_NAME).exists() else None
