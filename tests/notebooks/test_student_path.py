"""The course as a student runs it, re-runs included.

The real notebooks are executed from a copy of the notebooks folder, with the kernel in
that folder and the notebooks' own default `run_dir` (so everything lands in
`runs/notebooks/` beside the copy, as in Jupyter), the smoke profile's parameters injected:
01 → 06 in order, then 06 and 03 again (after 06 promoted or kept its challenger), then 05
again; 02 and 04, which nothing later stands on, each run beside the step after them. Every
execution must pass and show what notebooks/expectations.yml expects on the smoke
profile; and a re-run must start from what the notebook it stands on handed over, whatever
a later notebook did to the registry since. The run folder gets the runner's report.md and
report.json; it is kept in `<COURSE_SMOKE_RUN_DIR>/runs/notebooks` when that variable
names a folder (CI uploads it and compares it with main's).
"""

import os
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import pytest

from course.expectations import load_expectations
from course.handover import handed_over
from course.offline_html import NETWORK_RESOURCE
from course.profiles import PROFILES, profile_parameters
from course.report import NotebookResult, Status
from course.runner import (
    NOTEBOOKS_DIR,
    execute_notebook,
    find_notebooks,
    judge_results,
    report_of,
    write_run_report,
)

pytestmark = pytest.mark.notebooks
PROFILE = "smoke"
STEPS = ("01", "02", "03", "04", "05", "06", "06", "03", "05")
BESIDE = ("02", "04")  # nothing later stands on them: each runs beside the next step


@pytest.fixture(scope="module")
def student(tmp_path_factory) -> tuple[Path, list[NotebookResult], dict[str, list[dict]]]:
    """The run folder, each step's result, and each notebook's handover after each run."""
    kept = os.environ.get("COURSE_SMOKE_RUN_DIR")
    root = Path(kept) if kept else tmp_path_factory.mktemp("student")
    shutil.copytree(NOTEBOOKS_DIR, root / "notebooks", dirs_exist_ok=True)
    run_dir = root / "runs" / "notebooks"  # where the notebooks' default run_dir points
    notebooks = {notebook.prefix: notebook for notebook in find_notebooks(root / "notebooks")}
    expectations = load_expectations(root / "notebooks", set(PROFILES))

    def step(prefix: str) -> NotebookResult:
        notebook = notebooks[prefix]
        values = profile_parameters(PROFILE, prefix)  # the smoke values; run_dir: its default
        parameters = {name: value for name, value in values.items() if name in notebook.declared}
        result = execute_notebook(notebook, run_dir, parameters, PROFILES[PROFILE]["timeout"])
        return judge_results(result, expectations, PROFILE)

    outcomes, handovers = [], {}
    started, clock = datetime.now().astimezone(), time.monotonic()
    # Earlier tests leave MLflow's last tracking URI in the environment; the notebooks must
    # use their run folder's store, as on a fresh machine.
    with pytest.MonkeyPatch.context() as patch, ThreadPoolExecutor(1) as beside:
        patch.delenv("MLFLOW_TRACKING_URI", raising=False)
        for prefix in STEPS:
            if prefix in BESIDE:
                outcomes.append(beside.submit(step, prefix))
                continue
            outcomes.append(step(prefix))
            name = notebooks[prefix].name
            handovers.setdefault(name, []).append(handed_over(run_dir, name))
    results = [
        outcome if isinstance(outcome, NotebookResult) else outcome.result() for outcome in outcomes
    ]
    write_run_report(report_of(results, PROFILE, started, clock, run_dir))
    return run_dir, results, handovers


def step_id(index: int) -> str:
    again = STEPS[:index].count(STEPS[index])
    return STEPS[index] + (" again" if again else "")


@pytest.mark.parametrize("index", range(len(STEPS)), ids=step_id)
def test_each_step_passes_with_the_expected_results(student, index):
    run_dir, results, _ = student
    result = results[index]
    assert result.status == Status.PASSED, f"{result.name}: {result.error or result.results_off}"
    assert result.metrics, f"{result.name} recorded no metrics"
    assert "run_dir" not in result.parameters  # the notebook's own default
    page = (run_dir / "html" / f"{result.name}.html").read_text(encoding="utf-8")
    assert not NETWORK_RESOURCE.search(page), f"{result.name}.html loads from the network"


def metrics_of(results: list[NotebookResult], name: str) -> list[dict]:
    return [result.metrics for result in results if result.name == name]


def test_06_again_watches_and_challenges_the_same_champion(student):
    _, results, _ = student
    first, again = metrics_of(results, "06_production_drift")
    # Same model, same data: a re-run that started from 06's own promotion would read
    # Devanagari far better.
    assert again["champion_foreign_accuracy"] == first["champion_foreign_accuracy"]
    assert again["false_alarm_rate_novelty"] == first["false_alarm_rate_novelty"]


def test_03_again_measures_against_01s_version_not_06s(student):
    _, results, handovers = student
    first, again = metrics_of(results, "03_experiments_tuning")
    assert again["champion_test_accuracy"] == first["champion_test_accuracy"]
    (from_01,) = handovers["01_mnist_local"]
    assert again["promoted"] or handovers["03_experiments_tuning"][1]["model"] == from_01["model"]


def test_05_again_serves_what_03_handed_over(student):
    run_dir, _, handovers = student
    served = handovers["05_score_endpoint"][-1]
    assert served["model"] == handovers["03_experiments_tuning"][-1]["model"]
    assert (run_dir / "bundles" / served["bundle"] / "code" / "score.py").is_file()
