"""The notebook runner, against the small notebooks in tests/fixtures/notebooks."""

import contextlib
import io
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from course import record_metrics
from course import runner as runner_module
from course.cli import main, parse_parameter
from course.metrics import read_metrics
from course.profiles import PROFILES
from course.report import CellError, RunReport, Status
from course.runner import (
    UsageError,
    find_notebooks,
    folder_results,
    notebook_parameters,
    passed_here,
    run_notebooks,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "notebooks"
COURSE = FIXTURES.parent / "course"  # three notebooks, each standing on the one before
TIMEOUT = 8  # seconds per cell: ample for a fixture notebook's cells, too short for 03_sleeps
CliRun = tuple[int, Path, str]  # exit code, run folder, stdout


def statuses(report: RunReport) -> dict[str, Status]:
    return {result.name: result.status for result in report.notebooks}


@pytest.fixture(scope="module")
def stopped_run(tmp_path_factory: pytest.TempPathFactory) -> RunReport:
    """Every fixture notebook, smoke profile, one at a time, no keep-going: 02_fails stops
    the run."""
    out = tmp_path_factory.mktemp("stopped")
    return run_notebooks(notebooks_dir=FIXTURES, out=out, profile="smoke", jobs=1)


@pytest.fixture(scope="module")
def keep_going_run(tmp_path_factory: pytest.TempPathFactory) -> CliRun:
    """03_sleeps times out, 04_params still runs with overrides; through the command line."""
    out = tmp_path_factory.mktemp("keep_going")
    argv = ["run", "--notebooks-dir", str(FIXTURES), "--out", str(out), "--profile", "smoke"]
    argv += ["--only", "03,04", "--keep-going", "--timeout", str(TIMEOUT), "--jobs", "1"]
    argv += ["-p", "epochs=3", "-p", "lr=1e-3", "-p", "data_source=full"]
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        code = main(argv)
    return code, out, stdout.getvalue()


def test_first_failure_skips_the_rest(stopped_run: RunReport) -> None:
    assert statuses(stopped_run) == {
        "01_passes": Status.PASSED,
        "02_fails": Status.FAILED,
        "03_sleeps": Status.SKIPPED,
        "04_params": Status.SKIPPED,
    }
    assert stopped_run.failed


def test_failure_names_the_failing_cell(stopped_run: RunReport) -> None:
    failed = stopped_run.notebooks[1]
    # Index 3 in the source notebook, although papermill adds cells to the executed copy;
    # In [4] because the injected parameters cell runs as In [2].
    assert failed.error == CellError(3, 4, "ValueError", "expected failure, total=2")


def test_recorded_metrics_reach_the_report(stopped_run: RunReport) -> None:
    metrics = stopped_run.notebooks[0].metrics
    assert metrics == {"accuracy": 0.5, "samples": 42, "model": "tiny"}
    assert isinstance(metrics["samples"], int)


def test_only_declared_parameters_are_injected(stopped_run: RunReport) -> None:
    run_dir = str(stopped_run.run_dir)
    passes, _, _, params = stopped_run.notebooks
    assert passes.parameters == {"run_dir": run_dir}
    smoke = PROFILES["smoke"]["parameters"]
    declared = {"data_source", "epochs", "lr", "max_train_samples", "batch_size"}
    expected = {name: value for name, value in smoke.items() if name in declared}
    assert params.parameters == {**expected, "run_dir": run_dir}


def test_outputs_exist_for_executed_notebooks_only(stopped_run: RunReport) -> None:
    run_dir = stopped_run.run_dir
    for name in ("01_passes", "02_fails"):
        assert (run_dir / "notebooks" / f"{name}.ipynb").is_file()
        assert (run_dir / "html" / f"{name}.html").is_file()
    assert "expected failure, total=2" in (run_dir / "html" / "02_fails.html").read_text()
    assert not (run_dir / "html" / "03_sleeps.html").exists()


def test_report_json(stopped_run: RunReport) -> None:
    data = json.loads((stopped_run.run_dir / "report.json").read_text())
    assert data["profile"] == "smoke"
    assert data["papermill"] == "2.7.0"
    assert data["python"].startswith("3.11")
    assert data["versions"]["papermill"] == "2.7.0" and "tensorflow" in str(data["versions"])
    assert isinstance(data["kit_dirty"], bool) and len(data["kit_commit"]) == 12
    assert data["jobs"] == 1 and data["duration"] >= sum(nb["duration"] for nb in data["notebooks"])
    failed = data["notebooks"][1]
    assert failed["status"] == "failed"
    assert failed["error"] == {
        "cell_index": 3,
        "execution_count": 4,
        "ename": "ValueError",
        "evalue": "expected failure, total=2",
    }
    assert data["notebooks"][0]["metrics"]["model"] == "tiny"


def test_report_markdown(stopped_run: RunReport) -> None:
    markdown = (stopped_run.run_dir / "report.md").read_text()
    assert "- Profile: smoke" in markdown
    row = (
        r"^\| 01_passes \| passed \| [\d.]+ \| 0 \| accuracy=0.5, samples=42, model=tiny \| "
        r"\[notebook\]\(notebooks/01_passes.ipynb\), \[HTML\]\(html/01_passes.html\) \|$"
    )
    assert re.search(row, markdown, re.M)
    assert "| 03_sleeps | skipped | 0.0 | 0 |  |  |" in markdown
    assert re.search(r"^- Kit: commit `[0-9a-f]{12}`", markdown, re.M)
    assert re.search(r"^- Versions: .*keras \d.*mlflow \d", markdown, re.M)
    assert f"- 01_passes: `run_dir='{stopped_run.run_dir}'`" in markdown
    failures = markdown.split("## Failures")[1].split("## Skipped")[0]
    assert "### 02_fails: failed at cell index 3, In [4]" in failures
    assert "ValueError: expected failure, total=2" in failures
    assert "01_passes" not in failures


def test_timeout_stops_the_notebook_and_the_run_goes_on(keep_going_run: CliRun) -> None:
    code, out, stdout = keep_going_run
    report = json.loads((out / "report.json").read_text())
    sleeps, params = report["notebooks"]
    assert code == 1
    assert (sleeps["status"], params["status"]) == ("timeout", "passed")
    assert sleeps["duration"] >= TIMEOUT  # it ran until the timeout stopped it
    assert sleeps["error"]["cell_index"] == 1
    assert (out / "html" / "03_sleeps.html").is_file()
    assert re.search(r"^03_sleeps +timeout +\d+\.\d s$", stdout, re.M)
    assert stdout.rstrip().endswith(f"Report: {out.resolve() / 'report.md'}")


def test_notebook_receives_profile_values_and_typed_overrides(keep_going_run: CliRun) -> None:
    _, out, _ = keep_going_run
    echoed = read_metrics(out, "04_params")
    assert echoed == {
        "run_dir": str(out.resolve()),
        "data_source": "full",  # -p over the profile
        "epochs": 3,  # -p, parsed as an int
        "lr": 0.001,  # -p 1e-3, parsed as a float
        "max_train_samples": PROFILES["smoke"]["parameters"]["max_train_samples"],
        "batch_size": PROFILES["smoke"]["parameters"].get("batch_size", 32),  # else its default
    }
    assert isinstance(echoed["epochs"], int)


def test_passing_run_exits_zero_into_a_timestamped_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(runner_module, "RUNS_DIR", tmp_path)
    assert main(["run", "--notebooks-dir", str(FIXTURES), "--only", "01"]) == 0
    (run_dir,) = tmp_path.iterdir()
    assert re.fullmatch(r"\d{8}-\d{6}", run_dir.name)
    assert f"Report: {run_dir / 'report.md'}" in capsys.readouterr().out
    report = json.loads((run_dir / "report.json").read_text())
    assert [nb["status"] for nb in report["notebooks"]] == ["passed"]


def test_undeclared_override_is_rejected_before_running(tmp_path: Path) -> None:
    out = tmp_path / "run"
    with pytest.raises(UsageError, match="learning_rate") as error:
        run_notebooks(notebooks_dir=FIXTURES, out=out, overrides={"learning_rate": 0.1})
    assert "04_params declares run_dir, data_source, epochs" in str(error.value)
    assert "02_fails declares run_dir;" in str(error.value)
    assert not out.exists()


def test_needs_run_first_a_failed_need_skips_and_resume_finishes_the_chain(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    out.mkdir()
    (out / "break-02").touch()  # 02 fails until the file goes
    argv = ["run", "--notebooks-dir", str(COURSE), "--profile", "smoke", "--keep-going"]
    assert main([*argv, "--out", str(out), "--only", "03"]) == 1
    assert "03 needs 02, 01: running them first" in capsys.readouterr().out
    broken = json.loads((out / "report.json").read_text())
    assert [nb["status"] for nb in broken["notebooks"]] == ["passed", "failed", "skipped"]
    skipped = broken["notebooks"][2]["skip_reason"]
    assert skipped == "needs 02_second, which did not run to its end"
    assert f"- 03_third: {skipped}" in (out / "report.md").read_text()

    (out / "break-02").unlink()
    assert main(["run", "--notebooks-dir", str(COURSE), "--resume", str(out)]) == 0
    resumed = json.loads((out / "report.json").read_text())
    assert resumed["profile"] == "smoke"  # the folder's, not the command line's default
    assert [nb["name"] for nb in resumed["notebooks"]] == ["02_second", "03_third"]
    assert read_metrics(out, "03_third") == {"chain": "01,02,03"}

    again = run_notebooks(notebooks_dir=COURSE, out=out, only=["03"], profile="smoke")
    assert statuses(again) == {"03_third": Status.PASSED} and again.plan == []
    assert passed_here(folder_results(out), "default") == set()  # another profile's lesson
    capsys.readouterr()
    assert main(["run", "--notebooks-dir", str(COURSE), "--resume", str(out)]) == 0
    assert "nothing to resume" in capsys.readouterr().out


def test_the_report_shows_where_the_time_goes(stopped_run: RunReport) -> None:
    (slowest, *_) = stopped_run.notebooks[0].slowest_cells
    assert slowest.cell_index in (2, 3) and slowest.seconds > 0
    assert "## Where the time goes" in (stopped_run.run_dir / "report.md").read_text()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--profile", "huge"], "invalid choice: 'huge'"),
        (["--only", "01,99"], "no notebook numbered 99"),
        (["--notebooks-dir", "/nonexistent"], "notebooks folder not found: /nonexistent"),
        (["-p", "epochs"], "expected NAME=VALUE, got 'epochs'"),
        (["--jobs", "0"], "expected a whole number from 1 up, got '0'"),
        (["--only", "01", "-p", "epochs=2"], "no selected notebook declares epochs"),
    ],
)
def test_bad_invocation_exits_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    if "--notebooks-dir" not in argv:
        argv = [*argv, "--notebooks-dir", str(FIXTURES)]
    with pytest.raises(SystemExit) as exit_info:
        main(["run", *argv])
    assert exit_info.value.code == 2
    last_line = capsys.readouterr().err.strip().splitlines()[-1]
    assert re.match(r"course( run)?: error: ", last_line)
    assert message in last_line


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("epochs=3", ("epochs", 3)),
        ("data_source=full", ("data_source", "full")),
        ("lr=1e-3", ("lr", 0.001)),
        ("lr=0.5", ("lr", 0.5)),
        ("augment=true", ("augment", True)),
        ("cutoff=2024-01-31", ("cutoff", "2024-01-31")),  # papermill reads dates as strings
        ("limit=null", ("limit", None)),
    ],
)
def test_parse_parameter(text: str, expected: tuple[str, object]) -> None:
    name, value = parse_parameter(text)
    assert (name, value) == expected
    assert type(value) is type(expected[1])


def test_profile_layers(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(PROFILES["smoke"]["notebooks"], "04", {"epochs": 2})
    params = next(notebook for notebook in find_notebooks(FIXTURES) if notebook.prefix == "04")
    assert notebook_parameters(params, "smoke", {}, tmp_path)["epochs"] == 2
    overridden = notebook_parameters(params, "smoke", {"epochs": 3, "run_dir": "x"}, tmp_path)
    assert overridden["epochs"] == 3
    assert overridden["run_dir"] == str(tmp_path)
    assert notebook_parameters(params, "default", {}, tmp_path) == {
        "data_source": "sample",
        "run_dir": str(tmp_path),
    }


def test_record_metrics_converts_numpy_scalars(tmp_path: Path) -> None:
    shown = record_metrics(tmp_path, "07_x", {"loss": np.float32(0.25), "n": np.int64(7), "s": "a"})
    path = tmp_path / "metrics" / "07_x.json"
    assert json.loads(path.read_text()) == {"loss": 0.25, "n": 7, "s": "a"}
    assert shown.to_dict() == {"loss": 0.25, "n": 7, "s": "a"} and shown.name.endswith("07_x.json")
    with pytest.raises(TypeError, match="numbers or strings"):
        record_metrics(tmp_path, "07_x", {"weights": object()})


def test_list_shows_parameters_and_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", "--notebooks-dir", str(FIXTURES)]) == 0
    blocks = capsys.readouterr().out.strip().split("\n\n")
    assert [block.splitlines()[0] for block in blocks] == [
        "01_passes.ipynb",
        "02_fails.ipynb",
        "03_sleeps.ipynb",
        "04_params.ipynb",
    ]
    assert blocks[3].splitlines()[1:3] == [
        '  run_dir = "."',
        '  data_source = "sample"  # sample or full',
    ]


@pytest.mark.parametrize(
    ("rule", "described", "allow", "status", "code"),
    [
        ("{min: 0.4, max: 0.6}", "0.4 to 0.6", False, "passed", 0),
        ("{min: 0.9}", ">= 0.9", False, "results off", 1),
        ("{min: 0.9}", ">= 0.9", True, "results off", 0),
    ],
)
def test_results_are_checked_against_the_expectations(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], rule, described, allow, status, code
) -> None:
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    shutil.copy(FIXTURES / "01_passes.ipynb", notebooks)
    (notebooks / "expectations.yml").write_text(f"01_passes:\n  smoke:\n    accuracy: {rule}\n")
    argv = ["run", "--notebooks-dir", str(notebooks), "--out", str(tmp_path / "run")]
    argv += ["--profile", "smoke", *(["--allow-results-off"] if allow else [])]
    assert main(argv) == code
    [result] = json.loads((tmp_path / "run" / "report.json").read_text())["notebooks"]
    assert (result["status"], result["expected"]) == (status, {"accuracy": described})
    markdown = (tmp_path / "run" / "report.md").read_text()
    assert f"accuracy=0.5 ({described})" in markdown
    if status == "results off":
        off = "accuracy: expected >= 0.9, got 0.5"
        assert result["results_off"] == [off]
        assert f"- 01_passes: {off}" in markdown and f"  {off}" in capsys.readouterr().out


def test_the_report_shows_the_change_since_the_last_run_of_the_profile(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    run_notebooks(notebooks_dir=FIXTURES, out=first, profile="smoke", only=["01"])
    assert "## Course metrics" not in (first / "report.md").read_text()
    run_notebooks(notebooks_dir=FIXTURES, out=second, profile="smoke", only=["01"])
    change = (second / "report.md").read_text().split("## Course metrics")[1]
    assert "Base: `first`" in change and "| 01_passes | accuracy | 0.5 | 0.5 | 0 |" in change
