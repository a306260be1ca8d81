"""Submission to an Azure ML workspace, only when one is configured, and never a hang.

The workspace comes from the environment (``AZURE_SUBSCRIPTION_ID``,
``AZURE_RESOURCE_GROUP``, ``AZUREML_WORKSPACE_NAME``) or a ``config.json`` downloaded from
the workspace's page in the studio (git-ignored). Without one, or without a way to sign in,
submission stops at once with what to set and the equivalent ``az ml`` command.
"""

from __future__ import annotations

import json
import os
import re
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from cloud.assets import JOB_CODE, ROOT
from cloud.sdk import loader as sdk_loader
from cloud.validate import LOADERS
from production.azureml_yaml import content_version, folder_version, schema_kind
from production.deployment import PLACEHOLDER_SUFFIX, SUFFIX_VARIABLE, WORKSPACE_VARIABLES

CONFIG_KEYS = ("subscription_id", "resource_group", "workspace_name")
SIGN_IN_SECONDS = 20
PLACEHOLDER_NAME = re.compile(rf"[\w-]+-{PLACEHOLDER_SUFFIX}\b")
NAMED_YAML = re.compile(r"component:\s*(\S+\.ya?ml)")  # a pipeline's step components
AZ_COMMANDS = {  # loader -> the az ml command that creates the same asset
    "load_model": "az ml model create",
    "load_job": "az ml job create",
    "load_component": "az ml component create",
    "load_environment": "az ml environment create",
    "load_data": "az ml data create",
    "load_online_endpoint": "az ml online-endpoint create",
    "load_online_deployment": "az ml online-deployment create",
    "load_batch_endpoint": "az ml batch-endpoint create",
    "load_batch_deployment": "az ml batch-deployment create",
    "load_pipeline_component_batch_deployment": "az ml batch-deployment create",
    "load_schedule": "az ml schedule create",
}
CLIENT_OPERATIONS = {  # loader -> (MLClient attribute, method)
    "load_model": ("models", "create_or_update"),
    "load_job": ("jobs", "create_or_update"),
    "load_component": ("components", "create_or_update"),
    "load_environment": ("environments", "create_or_update"),
    "load_data": ("data", "create_or_update"),
    "load_online_endpoint": ("online_endpoints", "begin_create_or_update"),
    "load_online_deployment": ("online_deployments", "begin_create_or_update"),
    "load_batch_endpoint": ("batch_endpoints", "begin_create_or_update"),
    "load_batch_deployment": ("batch_deployments", "begin_create_or_update"),
    "load_pipeline_component_batch_deployment": ("batch_deployments", "begin_create_or_update"),
    "load_schedule": ("schedules", "begin_create_or_update"),
}


class SubmissionError(Exception):
    """Submission cannot go ahead; the message says why and what to do instead."""


class NotConfigured(SubmissionError):
    """No workspace is configured."""


@dataclass(frozen=True)
class Workspace:
    subscription_id: str
    resource_group: str
    workspace_name: str
    source: str  # where the settings came from (never their values in messages)


def find_workspace(config_dirs: tuple[Path, ...] = (Path.cwd(), ROOT)) -> Workspace | None:
    """The workspace from the environment variables, else the first ``config.json``."""
    values = [os.environ.get(name, "").strip() for name in WORKSPACE_VARIABLES]
    if all(values):
        return Workspace(*values, source="environment variables")
    for folder in config_dirs:
        path = Path(folder) / "config.json"
        if path.is_file():
            config = json.loads(path.read_text(encoding="utf-8"))
            if all(config.get(key) for key in CONFIG_KEYS):
                return Workspace(*(config[key] for key in CONFIG_KEYS), source=str(path))
    return None


def loader_name(file: Path) -> str:
    kind = schema_kind(yaml.safe_load(file.read_text(encoding="utf-8")) or {})
    if kind not in LOADERS:
        raise SubmissionError(f"{file}: $schema is missing or not an Azure ML asset kind")
    return LOADERS[kind]


def refuse_placeholder_names(file: Path) -> None:
    """An endpoint named with the placeholder suffix, created or referred to (a deployment's
    endpoint, a monitor's target), would collide with everyone else's."""
    found = PLACEHOLDER_NAME.search(file.read_text(encoding="utf-8"))
    if found:
        raise SubmissionError(
            f"{file}: {found.group(0)!r} ends with the placeholder suffix: set "
            f"{SUFFIX_VARIABLE} (or {', '.join(WORKSPACE_VARIABLES)}) and write the files "
            "again (python -m cloud generate, python -m production bundle), so that the "
            "endpoint's name is yours alone"
        )


def az_command(file: str | Path) -> str:
    """The Azure CLI command that submits ``file`` (``az ml job create -f …`` for a job)."""
    return f"{AZ_COMMANDS[loader_name(Path(file))]} -f {file}"


def not_configured_message(file: str | Path) -> str:
    folders = " or ".join(sorted({str(Path.cwd()), str(ROOT)}))
    return (
        "no Azure ML workspace is configured: set "
        + ", ".join(WORKSPACE_VARIABLES)
        + " or put the workspace's config.json (studio > workspace > Download config file) "
        f"in {folders}. Equivalent command: {az_command(file)}"
        " --resource-group <group> --workspace-name <workspace>"
    )


def signed_in_credential(timeout: float = SIGN_IN_SECONDS):
    """A credential that has proved it can get a token within ``timeout`` seconds."""
    from azure.identity import DefaultAzureCredential

    credential = DefaultAzureCredential(
        exclude_interactive_browser_credential=True, process_timeout=timeout
    )
    pool = ThreadPoolExecutor(max_workers=1)
    try:
        pool.submit(credential.get_token, "https://management.azure.com/.default").result(timeout)
    except FutureTimeout as error:
        raise SubmissionError(
            f"signing in to Azure took over {timeout:.0f} s: no network?"
        ) from error
    except Exception as error:  # azure.identity reports each failed method in one exception
        first_line = (
            str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        )
        raise SubmissionError(
            f"cannot sign in to Azure ({first_line}); run `az login` or set a service principal"
        ) from error
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    return credential


def finished(created: Any) -> Any:
    """What a create call made: the entity, once a long-running operation has finished. Only
    a poller is waited on: a command job has a ``result`` attribute of its own (its output
    named ``result``), which is not a method."""
    from azure.core.polling import LROPoller

    return created.result() if isinstance(created, LROPoller) else created


def submit(file: str | Path, workspace: Workspace | None = None) -> str:
    """Create the asset or job of ``file`` in the workspace; return its name (and, for a
    job, the studio URL to watch it)."""
    file = Path(file)
    loader_name(file)
    refuse_placeholder_names(file)
    workspace = workspace or find_workspace()
    if workspace is None:
        raise NotConfigured(not_configured_message(file))
    import azure.ai.ml as sdk

    client = sdk.MLClient(
        signed_in_credential(),
        workspace.subscription_id,
        workspace.resource_group,
        workspace.workspace_name,
        retry_total=2,
        connection_timeout=15,
        read_timeout=60,
    )
    created = create(client, file)
    url = getattr(created, "studio_url", None)
    return f"{created.name}" + (f": watch it at {url}" if url else "")


def create(client: Any, file: Path) -> Any:
    """What ``file`` makes, made through ``client`` (an ``MLClient``: a workspace's, or the
    stand-in's in a rehearsal); the entity as the service answered. A job is named after
    its file and the code it runs: submitted again unchanged, the job already there is
    answered, not a second one started."""
    loader = loader_name(file)
    entity = sdk_loader(loader)(file)
    if loader == "load_job":
        entity.name = entity.name or job_name(file)
        existing = existing_job(client, entity.name)
        if existing is not None:
            return existing
    operations, method = CLIENT_OPERATIONS[loader]
    return finished(getattr(getattr(client, operations), method)(entity))


def job_name(file: Path) -> str:
    """``<file stem>-<version>``: the content version of the job file, of the YAML files it
    names (its components) and of the job code, so that a change to any of them is a new
    job."""
    named = sorted(set(NAMED_YAML.findall(file.read_text(encoding="utf-8"))))
    files = [file.read_bytes(), *((file.parent / name).read_bytes() for name in named)]
    return f"{file.stem}-{content_version(*files, folder_version(JOB_CODE))}"


def existing_job(client: Any, name: str) -> Any | None:
    from azure.core.exceptions import ResourceNotFoundError

    try:
        return client.jobs.get(name)
    except ResourceNotFoundError:
        return None
