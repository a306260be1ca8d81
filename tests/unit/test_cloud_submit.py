"""Submission without a workspace fails, says what to set and never reaches Azure."""

from __future__ import annotations

import subprocess
import sys

import pytest

from cloud.assets import REFERENCE_DIR, ROOT
from cloud.submit import SubmissionError, az_command, find_workspace, submit
from production.deployment import WORKSPACE_VARIABLES


def test_no_workspace_without_settings(monkeypatch, tmp_path):
    for name in WORKSPACE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    assert find_workspace((tmp_path,)) is None


def test_workspace_from_config_json(monkeypatch, tmp_path):
    for name in WORKSPACE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "config.json").write_text(
        '{"subscription_id": "s", "resource_group": "g", "workspace_name": "w"}'
    )
    workspace = find_workspace((tmp_path,))
    assert (workspace.subscription_id, workspace.workspace_name) == ("s", "w")


def test_az_command_matches_the_asset_kind(azureml_folder):
    assert az_command(REFERENCE_DIR / "train-job.yml").startswith("az ml job create -f ")
    endpoint = az_command(REFERENCE_DIR / "batch-endpoint.yml")
    assert endpoint.startswith("az ml batch-endpoint create -f ")
    assert az_command(azureml_folder / "model.yml").startswith("az ml model create -f ")


@pytest.mark.parametrize(
    "file", ["endpoint.yml", "deployment.yml", "batch-deployment.yml", "monitor.yml"]
)
def test_names_with_the_placeholder_suffix_are_never_submitted(file, azureml_folder):
    with pytest.raises(SubmissionError, match="ends with the placeholder suffix: set"):
        submit(azureml_folder / file)  # refused before any workspace or network is asked


@pytest.mark.slow  # a subprocess
def test_submit_without_workspace_fails_clearly(tmp_path):
    environment = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}  # no Azure settings
    done = subprocess.run(
        [sys.executable, "-m", "cloud", "submit", str(REFERENCE_DIR / "train-job.yml")],
        cwd=tmp_path,
        env={**environment, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    for expected in (*WORKSPACE_VARIABLES, "config.json", "az ml job create -f "):
        assert expected in done.stderr
