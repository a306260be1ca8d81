"""What the kit uses of azure-ai-ml beyond its public API (cloud/sdk.py) is still there, and
submission handles what the SDK hands back: an SDK update that moves any of it fails here,
not silently in a check that stops checking."""

from __future__ import annotations

import azure.ai.ml
import pytest
from azure.core.polling import LROPoller, NoPolling

from cloud.assets import REFERENCE_DIR
from cloud.sdk import UNEXPORTED_LOADERS, entity_errors, kept_fields, loader
from cloud.submit import (
    AZ_COMMANDS,
    CLIENT_OPERATIONS,
    PLACEHOLDER_NAME,
    NotConfigured,
    az_command,
    finished,
    submit,
)
from cloud.validate import LOADERS
from production.deployment import WORKSPACE_VARIABLES


@pytest.mark.parametrize("name", sorted(set(LOADERS.values())))
def test_every_loader_the_kit_uses_exists_and_submit_knows_it(name):
    assert callable(loader(name))
    assert name in AZ_COMMANDS and name in CLIENT_OPERATIONS


@pytest.mark.parametrize("name", UNEXPORTED_LOADERS)
def test_the_unexported_loaders_are_still_unexported(name):
    # Once the SDK exports one, cloud/sdk.py should stop reaching past the public API for it.
    assert not hasattr(azure.ai.ml, name)


def test_a_loaded_job_validates_and_shows_what_the_sdk_keeps():
    job = loader("load_job")(REFERENCE_DIR / "train-job.yml")
    assert entity_errors(job) == {}
    kept = kept_fields(job)
    assert kept["command"].startswith("python -m data_science.train")
    assert set(kept["inputs"]) >= {"mnist", "epochs"}


def test_a_job_is_not_waited_on_although_it_has_a_result_attribute():
    job = loader("load_job")(REFERENCE_DIR / "train-job.yml")
    assert hasattr(job, "result")  # a dynamic attribute: calling it raised after the PUT
    assert finished(job) is job


def test_a_long_running_operation_is_waited_on():
    poller = LROPoller(None, "response", lambda response: f"created from {response}", NoPolling())
    assert finished(poller) == "created from response"


def test_without_a_workspace_every_kind_the_kit_writes_is_not_submitted_with_its_command(
    azureml_folder, monkeypatch, tmp_path
):
    for name in WORKSPACE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no config.json here
    files = [
        path
        for path in sorted(REFERENCE_DIR.glob("*.yml")) + sorted(azureml_folder.glob("*.yml"))
        if not PLACEHOLDER_NAME.search(path.read_text()) and "$schema" in path.read_text()
    ]
    assert {path.name for path in files} >= {"pdf-train-job.yml", "model.yml", "mnist-data.yml"}
    for path in files:
        with pytest.raises(NotConfigured, match=r"Equivalent command: az ml [\w-]+ create -f "):
            submit(path)


def test_the_kinds_that_had_no_command_have_one(azureml_folder):
    batch = az_command(REFERENCE_DIR / "batch-deployment.yml")
    assert batch.startswith("az ml batch-deployment create -f ")
    assert az_command(azureml_folder / "monitor.yml").startswith("az ml schedule create -f ")


def test_the_storage_clients_a_rehearsal_reroutes_are_where_the_sdk_builds_them():
    from azure.storage.blob import BlobServiceClient, ContainerClient

    from cloud.sdk import blob_uploads_through, upload_clients

    assert upload_clients() == (BlobServiceClient, ContainerClient)
    with blob_uploads_through("transport"):
        rerouted = upload_clients()
        assert all(map(issubclass, rerouted, (BlobServiceClient, ContainerClient)))
        assert rerouted != (BlobServiceClient, ContainerClient)
    assert upload_clients() == (BlobServiceClient, ContainerClient)


def test_a_jobs_name_follows_the_code_it_runs_links_included(tmp_path, monkeypatch):
    from cloud import submit

    job = REFERENCE_DIR / "train-job.yml"
    name = submit.job_name(job)
    assert name == submit.job_name(job)  # a retry finds the same job
    # data_science is a link in the job code folder: a change inside it is a new job
    code = tmp_path / "code"
    code.mkdir()
    (code / "data_science").symlink_to(tmp_path / "package", target_is_directory=True)
    (tmp_path / "package").mkdir()
    (tmp_path / "package" / "train.py").write_text("epochs = 1\n")
    monkeypatch.setattr(submit, "JOB_CODE", code)
    before = submit.job_name(job)
    (tmp_path / "package" / "train.py").write_text("epochs = 2\n")
    assert submit.job_name(job) != before != name
