"""Committed notebooks stay clean: no outputs, no execution counts, the course kernel and one
`parameters` cell for papermill, so that diffs show only what an author changed."""

from collections.abc import Iterable
from pathlib import Path

import nbformat

from course.runner import KERNEL


def notebook_problems(path: Path) -> list[str]:
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
    return problems


def check_notebooks(paths: Iterable[Path]) -> list[str]:
    """The problems of every notebook in ``paths`` (a folder stands for its `*.ipynb` files)."""
    files = []
    for path in map(Path, paths):
        files += sorted(path.glob("*.ipynb")) if path.is_dir() else [path]
    return [problem for file in files for problem in notebook_problems(file)]
