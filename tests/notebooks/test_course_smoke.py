"""The real course notebooks, executed headless with the smoke profile (one test each).

The whole course runs once, sharing one run folder, as `make course PROFILE=smoke` does;
each notebook's test then reports its own status, so a failure names the notebook. A
notebook passes only if it executes *and* shows the results notebooks/expectations.yml
expects of it on this profile: a regression in what a lesson teaches fails here.
The run folder is temporary unless COURSE_SMOKE_RUN_DIR names one to keep (CI uploads it).
"""

import os
from pathlib import Path

import pytest

from course.offline_html import NETWORK_RESOURCE
from course.report import Status
from course.runner import NOTEBOOKS_DIR, run_notebooks

pytestmark = pytest.mark.notebooks
NOTEBOOKS = sorted(path.stem for path in NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb"))


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory):
    # Earlier tests leave MLflow's last tracking URI in the environment; the notebooks must
    # use their run folder's store, as on a fresh machine.
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("MLFLOW_TRACKING_URI", raising=False)
        out = Path(os.environ.get("COURSE_SMOKE_RUN_DIR") or tmp_path_factory.mktemp("course"))
        return run_notebooks(out=out, profile="smoke", keep_going=True)


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs(smoke_run, name):
    result = next(r for r in smoke_run.notebooks if r.name == name)
    assert result.status == Status.PASSED, f"{name}: {result.error or result.results_off}"
    assert result.metrics, f"{name} recorded no metrics"
    page = (smoke_run.run_dir / "html" / f"{name}.html").read_text(encoding="utf-8")
    assert not NETWORK_RESOURCE.search(page), f"{name}.html loads from the network"


def test_report_lists_every_notebook(smoke_run):
    assert [r.name for r in smoke_run.notebooks] == NOTEBOOKS
    assert (smoke_run.run_dir / "report.md").is_file()
