"""A submission rehearsed: every YAML file of some folders sent through the real ``MLClient``
to the stand-in workspace (``cloud.standin``), in the order a deployer creates them.

This is what ``python -m cloud submit`` (and ``az ml … create``) would do with a workspace,
seen without one: the same ``create`` call, only the client differs. What one file creates,
the next can use (``@latest`` lookups, the model a deployment names, the endpoint it joins);
a reference to something nothing created fails as it would in Azure. Nothing may reach the
network: a guard stops any connection the process tries while the rehearsal runs.
"""

from __future__ import annotations

import io
import json
import os
import re
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

from cloud import validate
from cloud.standin import (
    RESOURCE_GROUP,
    SUBSCRIPTION,
    WORKSPACE_NAME,
    Sent,
    StandInCredential,
    StandInWorkspace,
)
from cloud.submit import create
from production.azureml_yaml import schema_kind

DEPLOYER_ORDER = (  # $schema kinds, in the order they are created
    "environment",
    "data",
    "commandComponent",
    "commandJob",
    "sweepJob",
    "pipelineJob",
    "pipelineComponent",  # the batch pipeline: it names the model a job registers
    "batchEndpoint",
    "batchDeployment",
    "pipelineComponentBatchDeployment",
    "model",
    "managedOnlineEndpoint",
    "managedOnlineDeployment",
    "kubernetesOnlineEndpoint",
    "kubernetesOnlineDeployment",
    "monitorSchedule",
)


WORKSPACE_ID = re.compile(r"/subscriptions/[^/]+/resourceGroups/[^\"]+?/workspaces/[^/\"]+")
# Metadata Azure stores and never reads as a location (the SDK records the git remote
# there, which may well be a local path).
FREE_TEXT = re.compile(r"^(?:tags|properties\.(?:tags|properties|description))\b")
LOCAL_PATH = re.compile(r"^(?:file:|/(?!subscriptions/)|[A-Za-z]:[\\/])")
ENDPOINT = re.compile(r"/(?:online|batch)Endpoints/[^/]+")
DEPLOYMENT = re.compile(r"Endpoints/[^/]+/deployments/[^/]+$")
MODEL_VERSION = re.compile(r"/models/[^/]+/versions/[^/]+$")


class NetworkUsed(OSError):
    """Something tried to leave the machine during a rehearsal."""


@dataclass(frozen=True)
class Rehearsed:
    """One file's rehearsal: what the SDK built, what it sent, and how it ended."""

    file: str
    built: str  # the SDK entity's class
    seconds: float
    outcome: str  # "created NAME" or "failed: …"
    sent: list[Sent]
    console: str  # what the SDK printed meanwhile

    @property
    def failed(self) -> bool:
        return self.outcome.startswith("failed")

    @property
    def uploaded(self) -> int:
        """Bytes uploaded."""
        return sum(request.size for request in self.sent if request.is_upload)

    @property
    def final(self) -> str:
        """The last PUT of a resource: its path in the workspace, and its api-version."""
        puts = [r for r in self.sent if r.method == "PUT" and r.body is not None]
        return f"{puts[-1].path} ({puts[-1].api_version})" if puts else "-"


def deployer_order(paths: list[Path]) -> list[Path]:
    """The files, and every YAML file of the folders, that are Azure ML assets, in creation
    order."""
    files = [
        file
        for path in map(Path, paths)
        for file in (sorted(path.glob("*.yml")) if path.is_dir() else [path])
    ]
    kinds = {
        file: schema_kind(yaml.safe_load(file.read_text(encoding="utf-8")) or {}) for file in files
    }
    ordered = [file for file in files if kinds[file] in DEPLOYER_ORDER]
    return sorted(ordered, key=lambda file: DEPLOYER_ORDER.index(kinds[file]))


@dataclass(frozen=True)
class Rehearsal:
    rows: list[Rehearsed]
    problems: list[str]  # the service's rules broken by what would be sent
    network_attempts: int
    seconds: float

    @property
    def sent(self) -> list[Sent]:
        return [request for row in self.rows for request in row.sent]

    @property
    def failed(self) -> list[Rehearsed]:
        return [row for row in self.rows if row.failed]

    @property
    def passed(self) -> bool:
        return not (self.failed or self.problems or self.network_attempts)

    def summary(self) -> str:
        return (
            f"{len(self.rows)} files rehearsed, {len(self.failed)} failed, "
            f"{len(self.problems)} rule(s) broken; {len(self.sent)} requests, "
            f"{self.network_attempts} network connections; {self.seconds:.1f} s"
        )


def rehearse(paths: list[str | Path], record: Path | None = None) -> Rehearsal:
    """Submit the files, and every file of the folders, in ``paths`` to a fresh stand-in
    workspace; write every request as JSON lines to ``record`` when given."""
    workspace, started = StandInWorkspace(), time.perf_counter()
    with offline() as attempts, workspace_client(workspace) as client:
        rows = [
            rehearse_file(client, workspace, file)
            for file in deployer_order([Path(path) for path in paths])
        ]
    if record is not None:
        record.parent.mkdir(parents=True, exist_ok=True)
        lines = [json.dumps(asdict(request)) for request in workspace.sent]
        record.write_text("\n".join(lines) + "\n", encoding="utf-8")
    problems = request_problems(workspace.sent)
    return Rehearsal(rows, problems, len(attempts), time.perf_counter() - started)


def rehearse_file(client, workspace: StandInWorkspace, file: Path) -> Rehearsed:
    first, started = len(workspace.sent), time.perf_counter()
    console = io.StringIO()  # the SDK's own prints (a colour reset after every upload…)
    try:
        with redirect_stdout(console), redirect_stderr(console):
            created = create(client, file)
        built, outcome = type(created).__name__, f"created {created.name}"
    except Exception as error:  # the rehearsal reports every failure and goes on
        built, outcome = "-", f"failed: {first_line(error)}"
    return Rehearsed(
        file=str(file),
        built=built,
        seconds=time.perf_counter() - started,
        outcome=outcome,
        sent=workspace.sent[first:],
        console=console.getvalue().strip(),
    )


def request_problems(sent: list[Sent]) -> list[str]:
    """The service's rules, checked on what the SDK would send (what Azure judges)."""
    problems = []
    for request in sent:
        if request.method == "PUT" and request.body is not None:
            problems += [f"{request.path}: {problem}" for problem in body_problems(request)]
    return problems


def body_problems(request: Sent) -> Iterator[str]:
    properties = request.body.get("properties", {})
    for key, value in strings(request.body):
        if LOCAL_PATH.match(value) and not FREE_TEXT.match(key):
            yield f"{key} is a path on this machine ({value}), which Azure cannot read"
    model = properties.get("model")
    if DEPLOYMENT.search(request.path) and model is not None and not MODEL_VERSION.search(model):
        yield f"the model is {properties['model']!r}, not a registered model's version"
    if request.path.startswith("/batchEndpoints/") and DEPLOYMENT.search(request.path):
        settings = (properties.get("deploymentConfiguration") or {}).get("settings") or {}
        if not (properties.get("compute") or settings.get("default_compute")):
            yield "no compute: a batch deployment runs on a cluster it names"
    for key, problem in validator_rules(request.path, properties):
        yield f"{key}: {problem}"


def validator_rules(path: str, properties: dict) -> Iterator[tuple[str, str]]:
    """The validator's service rules, applied to what is sent rather than to the YAML."""
    if ENDPOINT.fullmatch(path):
        yield from validate.endpoint_name_problems({"name": path.rsplit("/", 1)[1]})
    if path.startswith("/environments/"):
        yield from validate.image_problems({"image": properties.get("image")})
    if path.startswith("/onlineEndpoints/") and DEPLOYMENT.search(path):
        admitted = (properties.get("requestSettings") or {}).get("maxConcurrentRequestsPerInstance")
        settings = {"max_concurrent_requests_per_instance": admitted or 1}
        variables = properties.get("environmentVariables") or {}
        yield from validate.worker_problems(
            {"request_settings": settings, "environment_variables": variables}
        )
    if properties.get("jobType") == "Sweep":
        metric = (properties.get("objective") or {}).get("primaryMetric")
        yield from validate.objective_problems({"objective": {"primary_metric": metric}})


def strings(node: Any, key: str = "") -> Iterator[tuple[str, str]]:
    """Every string in a JSON body, with its dotted key."""
    if isinstance(node, dict):
        for name, value in node.items():
            yield from strings(value, f"{key}.{name}" if key else name)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from strings(value, f"{key}[{index}]")
    elif isinstance(node, str):
        yield key, node


def described(sent: list[Sent]) -> list[str]:
    """One line per request, consecutive uploads in one: what the SDK did, in order."""
    lines: list[str] = []
    uploads: list[Sent] = []
    for request in [*sent, None]:
        if request is not None and request.is_upload:
            uploads.append(request)
            continue
        if uploads:
            folder = os.path.commonpath([upload.path for upload in uploads])
            size = sum(upload.size for upload in uploads)
            lines.append(f"PUT    {len(uploads)} files, {size / 1e3:.0f} kB, to {folder}/…")
            uploads = []
        if request is not None:
            version = f" ({request.api_version})" if request.api_version else ""
            lines.append(f"{request.method:<6} {request.path}{version} → {request.status}")
    return lines


def readable(body: dict, keys: tuple[str, ...]) -> str:
    """The ``keys`` (dotted: ``inputs.mnist``) of a request body's properties as JSON, ids
    relative to the workspace."""
    shown = {}
    for key in keys:
        value = body["properties"]
        for part in key.split("."):
            value = value[part]
        shown[key] = value
    return WORKSPACE_ID.sub("", json.dumps(shown, indent=1))


def first_line(error: BaseException) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text.splitlines()[0] if text else ''}"


@contextmanager
def workspace_client(workspace: StandInWorkspace) -> Iterator:
    """The real ``MLClient`` and the SDK's blob uploads, both talking to ``workspace``."""
    import azure.ai.ml as sdk
    import requests
    from azure.core.pipeline.transport import RequestsTransport

    from cloud.sdk import blob_uploads_through

    session = requests.Session()
    session.mount("https://", workspace)
    session.mount("http://", workspace)
    transport = RequestsTransport(session=session, session_owner=False)
    client = sdk.MLClient(
        StandInCredential(),
        SUBSCRIPTION,
        RESOURCE_GROUP,
        WORKSPACE_NAME,
        transport=transport,
        show_progress=False,
        enable_telemetry=False,  # in a notebook the SDK would send telemetry to Azure
    )
    with blob_uploads_through(transport):
        yield client


class _Guard:  # audit hooks cannot be removed: one is installed once, then switched
    installed = False
    attempts: list[str] | None = None  # while on: what tried to connect


def _refuse_network(event: str, args: tuple) -> None:
    if _Guard.attempts is None or event not in ("socket.connect", "socket.getaddrinfo"):
        return
    address = args[1] if event == "socket.connect" else args[:2]
    if event == "socket.connect" and not isinstance(address, tuple):
        return  # a local (Unix) socket
    _Guard.attempts.append(f"{event} {address}")
    raise NetworkUsed(f"the rehearsal tried to reach the network: {event} {address}")


@contextmanager
def offline() -> Iterator[list[str]]:
    """Any connection this process attempts inside is refused with ``NetworkUsed``; yields
    the list of attempts."""
    if not _Guard.installed:
        sys.addaudithook(_refuse_network)
        _Guard.installed = True
    _Guard.attempts = attempts = []
    try:
        yield attempts
    finally:
        _Guard.attempts = None


def table(rows: list[Rehearsed]) -> str:
    """The rehearsal as a plain-text table."""
    header = ("file", "built", "requests", "uploaded", "final PUT (api-version)", "s", "outcome")
    lines = [
        (
            Path(row.file).name,
            row.built,
            str(len(row.sent)),
            f"{row.uploaded / 1e3:.0f} kB" if row.uploaded else "-",
            row.final,
            f"{row.seconds:.2f}",
            row.outcome,
        )
        for row in rows
    ]
    widths = [max(len(line[i]) for line in [header, *lines]) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in [header, *lines]
    )
