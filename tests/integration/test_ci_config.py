"""The kit's own CI/CD configuration: workflows that actionlint accepts, valid hooks."""

import subprocess
import sys
from pathlib import Path

from course.runner import REPO_ROOT

BIN = Path(sys.executable).parent


def actionlint(*files: Path) -> subprocess.CompletedProcess:
    command = [str(BIN / "actionlint"), "-no-color", *map(str, files)]
    return subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True)


def test_workflows_pass_actionlint():
    workflows = sorted((REPO_ROOT / ".github" / "workflows").glob("*.yml"))
    assert {path.stem for path in workflows} == {"test", "course", "azureml"}
    checked = actionlint(*workflows)
    assert checked.returncode == 0, checked.stdout


def test_actionlint_catches_a_broken_workflow(tmp_path):
    workflow = (REPO_ROOT / ".github" / "workflows" / "test.yml").read_text()
    broken = tmp_path / "broken.yml"
    broken.write_text(workflow.replace("steps.main.outputs.found", "steps.mian.outputs.found"))
    checked = actionlint(broken)
    assert checked.returncode == 1
    assert 'property "mian" is not defined' in checked.stdout


def test_pre_commit_config_is_valid():
    config = REPO_ROOT / ".pre-commit-config.yaml"
    checked = subprocess.run(
        [str(BIN / "pre-commit"), "validate-config", str(config)], capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_make_stops_at_once_on_an_unsupported_platform():
    for platform, supported in [("Darwin-x86_64", False), ("Linux-aarch64", True)]:
        command = ["make", "-n", "install", f"PLATFORM={platform}"]
        done = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True)
        assert (done.returncode == 0) == supported, done.stderr
        if not supported:
            assert f"unsupported platform {platform}: the kit runs on Linux" in done.stderr
            assert len(done.stderr.strip().splitlines()) == 1
