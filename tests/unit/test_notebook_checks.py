"""Committed notebooks are clean, and the pre-commit hook's nbstripout makes them so."""

import shlex
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from course.cli import main
from course.expectations import load_expectations
from course.notebook_checks import (
    allowed_figures,
    check_notebooks,
    notebook_problems,
    typed_figures,
)
from course.profiles import PROFILES
from course.runner import NOTEBOOKS_DIR, REPO_ROOT


def clean_notebook() -> nbformat.NotebookNode:
    parameters = new_code_cell("epochs = 1", metadata={"tags": ["parameters"]})
    nb = new_notebook(cells=[new_markdown_cell("# Learn"), parameters, new_code_cell("epochs")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    return nb


def executed_notebook() -> nbformat.NotebookNode:
    """What papermill leaves: outputs, execution counts and its own metadata."""
    nb = clean_notebook()
    for count, cell in enumerate(nb.cells[1:], start=1):
        cell.execution_count = count
        cell.outputs = [new_output("execute_result", {"text/plain": "1"}, execution_count=count)]
        cell.metadata["papermill"] = {"status": "completed", "duration": 0.1}
    nb.metadata["papermill"] = {"parameters": {"epochs": 1}}
    return nb


def write(nb: nbformat.NotebookNode, path: Path) -> Path:
    nbformat.write(nb, path)
    return path


def test_the_course_notebooks_are_clean():
    assert check_notebooks([NOTEBOOKS_DIR]) == []


def test_a_clean_notebook_has_no_problems(tmp_path):
    assert notebook_problems(write(clean_notebook(), tmp_path / "ok.ipynb")) == []


def test_outputs_and_execution_counts_are_reported_per_cell(tmp_path):
    path = write(executed_notebook(), tmp_path / "run.ipynb")
    assert notebook_problems(path) == [
        f"{path}: cell 1: has outputs (strip them with nbstripout)",
        f"{path}: cell 1: has an execution count",
        f"{path}: cell 2: has outputs (strip them with nbstripout)",
        f"{path}: cell 2: has an execution count",
    ]


def test_kernel_and_parameters_cell_are_checked(tmp_path):
    nb = clean_notebook()
    nb.metadata["kernelspec"]["name"] = "conda-env-course"
    nb.cells[1].metadata["tags"] = []
    path = write(nb, tmp_path / "nb.ipynb")
    assert notebook_problems(path) == [
        f"{path}: kernelspec is 'conda-env-course', expected 'python3'",
        f"{path}: 0 cells tagged `parameters`, expected exactly 1",
    ]


def test_a_file_that_is_not_a_notebook_is_one_problem(tmp_path):
    path = tmp_path / "broken.ipynb"
    path.write_text('{"cells": [')
    [problem] = notebook_problems(path)
    assert problem.startswith(f"{path}: not a valid notebook")


@pytest.mark.slow  # a subprocess
def test_the_pre_commit_strip_hook_leaves_a_clean_notebook(tmp_path):
    config = yaml.safe_load((REPO_ROOT / ".pre-commit-config.yaml").read_text())
    [hook] = [h for repo in config["repos"] for h in repo["hooks"] if h["id"] == "nbstripout"]
    command = shlex.split(hook["entry"])
    command[0] = str(Path(sys.executable).with_name("nbstripout"))
    path = write(executed_notebook(), tmp_path / "run.ipynb")

    subprocess.run([*command, str(path)], check=True)

    assert notebook_problems(path) == []
    stripped = nbformat.read(path, as_version=4)
    assert "papermill" not in stripped.metadata
    assert stripped.cells[1].metadata == {"tags": ["parameters"]}


@pytest.mark.parametrize("notebook, code", [(clean_notebook, 0), (executed_notebook, 1)])
def test_cli_exit_code(tmp_path, capsys, notebook, code):
    path = write(notebook(), tmp_path / "nb.ipynb")
    assert main(["check-notebooks", str(tmp_path)]) == code
    assert (str(path) in capsys.readouterr().out) == bool(code)


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        ("Expect 1.10 ms per image.", ["1.10 ms"]),
        ("Accuracy reached 97.9 % on the test set.", ["97.9 %"]),
        ("Nine in ten (the measured run: 87 % at a threshold of 0.50).", ["87 %", "0.50"]),
        ("Expect agreement of 99.5 % or more.", []),  # a bound of the expectations
        ("200s resume within 5 s; 1,000 digits, 10 % of them foreign.", []),  # 5: a parameter
        ("Run `serve --timeout 2.5 s` first.", []),  # code, not prose
    ],
)
def test_a_measured_figure_typed_into_markdown_is_flagged_unless_expected(text, flagged):
    nb = new_notebook(cells=[new_markdown_cell(text)])
    found = typed_figures(nb, allowed={0.995, 5})
    assert [problem.split("'")[1] for problem in found] == flagged


def test_the_figures_a_notebook_may_quote_are_its_bounds_and_parameters(tmp_path):
    nb = clean_notebook()  # parameters: epochs = 1
    nb.cells.append(new_code_cell('record_metrics(run_dir, "01_learn", {"accuracy": 0.7})'))
    nbformat.write(nb, tmp_path / "01_learn.ipynb")
    (tmp_path / "expectations.yml").write_text("01_learn:\n  smoke:\n    accuracy: {min: 0.5}\n")
    expectations = load_expectations(tmp_path, set(PROFILES))
    assert allowed_figures(nb, expectations["01_learn"]) == {0.5, 1.0}


def test_an_expectation_of_a_metric_never_recorded_is_one_problem_line(tmp_path):
    nb = clean_notebook()
    nb.cells.append(new_code_cell('record_metrics(run_dir, "01_learn", {"accuracy": 0.7})'))
    nbformat.write(nb, tmp_path / "01_learn.ipynb")
    (tmp_path / "expectations.yml").write_text("01_learn:\n  smoke:\n    loss: {max: 1}\n")
    (problem,) = check_notebooks([tmp_path])
    assert "01_learn.smoke.loss: expected a metric the notebook records" in problem
