"""The submission rehearsed: every file the kit writes goes through the real azure-ai-ml
``MLClient`` to the in-memory stand-in workspace, and nothing reaches the network."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from cloud.__main__ import main
from cloud.rehearse import deployer_order, offline, rehearse, workspace_client
from cloud.standin import StandInWorkspace
from cloud.submit import create

pytestmark = pytest.mark.integration


def test_every_file_is_created_in_the_stand_in_through_the_command_line(
    azureml_folder, tmp_path, capsys
):
    record = tmp_path / "requests.jsonl"
    code = main(["rehearse", str(azureml_folder), "--record", str(record)])
    out, err = capsys.readouterr()
    assert code == 0, out + err
    files = deployer_order([azureml_folder])
    assert len(files) == len(list(azureml_folder.glob("*.yml"))) - 1  # all but conda.yml
    for file in files:
        (row,) = [line for line in out.splitlines() if line.startswith(file.name + " ")]
        assert " created " in row, row
    assert f"{len(files)} files rehearsed, 0 failed, 0 rule(s) broken" in out
    assert "0 network connections" in out
    sent = [json.loads(line) for line in record.read_text().splitlines()]
    puts = [request for request in sent if request["method"] == "PUT" and request["body"]]
    assert all(request["api_version"] for request in puts)
    uploads = [request for request in sent if request["host"].endswith(".blob.core.windows.net")]
    assert any(request["size"] > 0 for request in uploads)  # the job code went up


@pytest.fixture
def stand_in():
    workspace = StandInWorkspace()
    with offline() as attempts, workspace_client(workspace) as client:
        yield workspace, client
    assert attempts == []


def test_every_file_submitted_twice_creates_each_job_once(stand_in, azureml_folder):
    workspace, client = stand_in
    files = deployer_order([azureml_folder])
    first = [create(client, file).name for file in files]
    again = [create(client, file).name for file in files]
    assert again == first
    jobs = [file for file in files if "Job" in yaml.safe_load(file.read_text())["$schema"]]
    job_puts = [
        sent for sent in workspace.sent if sent.method == "PUT" and sent.path.startswith("/jobs/")
    ]
    assert len(job_puts) == len(jobs) == 5  # train, PDF train, two sweeps, pipeline


def test_a_deployment_naming_a_model_nothing_registered_fails(bundle_specs, tmp_path):
    folder = bundle_specs(tmp_path)
    deployment = folder / "deployment.yml"
    spec = yaml.safe_load(deployment.read_text())
    deployment.write_text(deployment.read_text().replace(spec["model"], spec["model"] + "7"))
    needed = ("model", "endpoint", "deployment", "kubernetes-endpoint", "kubernetes-deployment")
    files = [folder / f"{name}.yml" for name in (*needed, "monitor")]
    outcomes = {Path(row.file).name: row.outcome for row in rehearse(files).rows}
    name, version = spec["model"].removeprefix("azureml:").split(":")
    missing = f"models/{name}/versions/{version}7, which does not exist"
    assert missing in outcomes["deployment.yml"]
    assert outcomes["kubernetes-deployment.yml"] == "created blue"  # names the registered one
    assert "deployments/blue was not found" in outcomes["monitor.yml"]  # it watches the first
