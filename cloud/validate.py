"""Offline validation of a folder of Azure ML YAML: the SDK's loaders, then what they miss.

The loaders (``load_job``, ``load_component`` …) and the entities' ``_validate()`` catch
unknown keys, wrong types and many missing fields. They do not notice a
``${{inputs.x}}`` that no input declares, a pipeline step bound to an output its component
does not have, a missing scoring script or conda file, an environment that has drifted
from ``environment.yml``, an asset that nothing creates, or the service's own rules
(traffic at creation, endpoint names, workers, grids, objectives, a monitor's columns);
the checks here do, on
the YAML as plain data, and each names the rule it enforces.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from cloud.assets import CONDA_FILE
from cloud.sdk import entity_errors, kept_fields, loader
from data_science.search_space import LOGGED_METRICS
from production.azureml_yaml import schema_kind
from production.deployment import SUFFIX_RULE
from production.serving import DEFAULT_SCORE_TIMEOUT_S, MONITORED_INPUTS

LOADERS = {  # $schema kind -> name of the azure.ai.ml loader
    "model": "load_model",
    "environment": "load_environment",
    "data": "load_data",
    "commandJob": "load_job",
    "sweepJob": "load_job",
    "pipelineJob": "load_job",
    "commandComponent": "load_component",
    "pipelineComponent": "load_component",
    "managedOnlineEndpoint": "load_online_endpoint",
    "managedOnlineDeployment": "load_online_deployment",
    "kubernetesOnlineEndpoint": "load_online_endpoint",
    "kubernetesOnlineDeployment": "load_online_deployment",
    "monitorSchedule": "load_schedule",
    "batchEndpoint": "load_batch_endpoint",
    "batchDeployment": "load_batch_deployment",
    "pipelineComponentBatchDeployment": "load_pipeline_component_batch_deployment",
}
BINDING = re.compile(r"\$\{\{\s*([\w.]+)\s*\}\}")
# Azure's rule for endpoint names (they become part of a URL): 3-32 characters.
ENDPOINT_NAME = re.compile(r"[A-Za-z][A-Za-z0-9-]{1,30}[A-Za-z0-9]")
# Names are unique per region across all subscriptions: the kit's end in -<suffix>, 4 to 12
# lowercase letters or digits with at least one digit (production.deployment.endpoint_suffix).
UNIQUE_SUFFIX = re.compile(rf".+-{SUFFIX_RULE.pattern}")
ASSET_REFERENCE = re.compile(r"azureml:(?!//)([\w.-]+?)(?:@latest|:([\w.-]+))?")
REGISTERS_MODEL = re.compile(r"--model-name\s+([\w.-]+)")  # what a training command registers
CURATED_PREFIX = "AzureML-"  # Azure's curated environments: azureml:AzureML-…@latest
CREATED_KINDS = ("model", "environment", "data")
ONLINE_ENDPOINTS = ("managedOnlineEndpoint", "kubernetesOnlineEndpoint")
ONLINE_DEPLOYMENTS = ("managedOnlineDeployment", "kubernetesOnlineDeployment")
REMOTE = ("azureml:", "http://", "https://", "wasbs://", "abfss://", "git+")


@dataclass(frozen=True)
class Problem:
    file: str
    key: str  # dotted path inside the YAML, or "-" for the file as a whole
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.key}: {self.message}"


def validate_folder(folder: str | Path) -> list[Problem]:
    """Every problem of every ``*.yml`` in ``folder``, one per line-worthy finding."""
    files = sorted(Path(folder).glob("*.yml"))
    if not files:
        return [Problem(str(folder), "-", "no .yml files to validate")]
    created = created_assets(Path(folder))
    return [problem for path in files for problem in validate_file(path, created)]


def validate_file(path: Path, created: dict | None = None) -> list[Problem]:
    """The problems of one file; assets it uses must be created by a file beside it
    (``created``, read from its folder when not given) or be curated by Azure."""
    try:
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "-"
        return [Problem(path.name, where, f"YAML syntax error: {getattr(error, 'problem', error)}")]
    if not isinstance(spec, dict):
        return [Problem(path.name, "-", "expected a mapping at the top level")]
    kind = schema_kind(spec)
    if kind is None:
        if "dependencies" in spec:  # a conda file, checked where it is used
            return []
        return [Problem(path.name, "$schema", "missing: cannot tell what kind of asset this is")]
    if kind not in LOADERS:
        return [Problem(path.name, "$schema", f"unknown kind {kind!r}")]
    # The kit's own checks first: where both see a key, theirs names the rule.
    created = created_assets(path.parent) if created is None else created
    problems = extra_problems(path, spec, kind, created) + sdk_problems(path, spec, kind)
    return unique(problems)


def unique(problems: list[Problem]) -> list[Problem]:
    """One line per (file, key): the SDK and the extra checks may both see a problem."""
    seen: dict[tuple[str, str], Problem] = {}
    for problem in problems:
        seen.setdefault((problem.file, problem.key), problem)
    return list(seen.values())


# --- the SDK's loaders -----------------------------------------------------------------


def sdk_problems(path: Path, spec: dict, kind: str) -> list[Problem]:
    """The loader's complaints, the entity's own validation, and the keys the loader
    accepts but the entity drops."""
    try:
        entity = loader(LOADERS[kind])(path)
    except Exception as error:  # the loaders raise several unrelated exception types
        if isinstance(error, NotImplementedError):  # load_schedule, reporting a schema error,
            error = error.__context__ or error  # trips over MonitorSchedule's missing schema
        return [
            Problem(path.name, key, " ".join(message.split()))
            for key, message in sdk_messages(error)
        ]
    dropped = [Problem(path.name, key, DROPPED) for key in dropped_keys(spec, entity)]
    errors = entity_errors(entity).items()
    return dropped + [Problem(path.name, key, message) for key, message in errors]


DROPPED = (
    "accepted by the SDK's loader but not kept by its entity, so never sent to Azure ML: "
    "check the key's name and place in the YAML reference"
)


def dropped_keys(spec: dict, entity: Any) -> list[str]:
    """Keys of the YAML that the loaded entity does not hold: the request the SDK sends is
    built from the entity, so they never reach the service. (The entity's own dump is the
    comparison: the REST body itself renames, converts and resolves too much to compare
    with: names go in the URL, ``5000`` ms becomes ``PT5S``, ``ro_mount`` ReadOnlyMount.)"""
    kept = set(key_paths(kept_fields(entity)))
    return [key for key in key_paths(spec) if key != "$schema" and key not in kept]


def key_paths(node: Any, prefix: str = "") -> Iterator[str]:
    """Every dotted key of a mapping, nested ones included; empty values count as absent."""
    if isinstance(node, dict):
        for name, value in node.items():
            if value in ({}, [], None):
                continue
            key = f"{prefix}.{name}" if prefix else str(name)
            yield key
            yield from key_paths(value, key)


def sdk_messages(error: Exception | str) -> list[tuple[str, str]]:
    """(key, message) pairs from a loader's error, whose text embeds a JSON object of
    marshmallow errors between prose (sometimes a report whose ``errors`` embed another);
    anything else becomes a single line."""
    text = str(error)
    start, end = text.find("{"), text.rfind("}")
    try:
        details = json.loads(text[start : end + 1]) if start >= 0 else None
    except json.JSONDecodeError:
        details = None
    if not isinstance(details, dict):
        return [("-", " ".join(text.split())[:300])]
    if isinstance(details.get("errors"), list):
        return [
            pair for item in details["errors"] for pair in sdk_messages(item.get("message", ""))
        ]
    return list(flatten_errors(details))


def flatten_errors(node: Any, key: str = "") -> Iterator[tuple[str, str]]:
    """Leaf messages of a marshmallow error tree; for a union field, its first alternative."""
    if isinstance(node, str):
        yield key or "-", node
    elif isinstance(node, list) and node:
        yield from flatten_errors(node[0], key)
    elif isinstance(node, dict):
        for name, child in node.items():
            child_key = key if name in ("_schema", "value") else ".".join(filter(None, [key, name]))
            yield from flatten_errors(child, child_key)


# --- the checks the SDK misses ---------------------------------------------------------


def extra_problems(path: Path, spec: dict, kind: str, created: dict) -> list[Problem]:
    checks = [path_problems(path, spec), missing_asset_problems(spec, created)]
    if kind in ("commandJob", "commandComponent"):
        checks.append(binding_problems(spec, spec.get("command"), "command"))
    if kind == "sweepJob":
        trial = spec.get("trial") or {}
        checks.append(binding_problems(spec, trial.get("command"), "trial.command"))
    if kind in ("pipelineJob", "pipelineComponent"):
        checks.append(pipeline_problems(path, spec))
    if kind == "environment":
        checks.append(environment_problems(path, spec))
    if kind == "sweepJob":
        checks.append(objective_problems(spec))
    if kind == "sweepJob" and spec.get("sampling_algorithm") == "grid":
        checks.append(grid_problems(spec))
    if kind == "environment" or kind in ONLINE_DEPLOYMENTS:
        checks.append(image_problems(spec))
    if kind in ONLINE_DEPLOYMENTS:
        checks += [instance_problems(spec), worker_problems(spec), timeout_problems(spec)]
    if kind == "pipelineComponentBatchDeployment":
        checks.append(batch_input_problems(path, spec))
    if kind in ONLINE_ENDPOINTS and "traffic" in spec:
        message = "cannot be set when an endpoint is created: create a deployment with "
        message += "--all-traffic, then split it with `az ml online-endpoint update --traffic`"
        checks.append([("traffic", message)])
    if kind in (*ONLINE_ENDPOINTS, "batchEndpoint"):
        checks.append(endpoint_name_problems(spec))
    if kind == "monitorSchedule":
        checks.append(monitor_problems(spec))
    return [Problem(path.name, key, message) for check in checks for key, message in check]


def binding_problems(spec: dict, command: Any, key: str) -> Iterator[tuple[str, str]]:
    if not isinstance(command, str) or not command.strip():
        yield key, "missing: the job has no command to run"
        return
    declared = {
        "inputs": spec.get("inputs") or {},
        "outputs": spec.get("outputs") or {},
        "search_space": spec.get("search_space") or {},
    }
    for reference in BINDING.findall(command):
        section, _, name = reference.partition(".")
        if section not in declared:
            yield key, f"${{{{{reference}}}}}: cannot bind {section!r} in a command"
        elif name not in declared[section]:
            known = ", ".join(declared[section]) or "none"
            yield key, f"${{{{{reference}}}}}: no {section} named {name!r} (declared: {known})"


def pipeline_problems(path: Path, spec: dict) -> Iterator[tuple[str, str]]:
    jobs = spec.get("jobs") or {}
    components = {name: step_component(path, job) for name, job in jobs.items()}
    for name, job in jobs.items():
        component = components[name]
        for section in ("inputs", "outputs"):
            for port, value in ((job or {}).get(section) or {}).items():
                key = f"jobs.{name}.{section}.{port}"
                if component is not None and port not in (component.get(section) or {}):
                    yield key, f"the step's component declares no {section[:-1]} {port!r}"
                if isinstance(value, str):
                    yield from reference_problems(spec, jobs, components, key, value)


def step_component(path: Path, job: Any) -> dict | None:
    """A step's component spec when it is a local file (or inline), else None."""
    component = (job or {}).get("component")
    if isinstance(component, dict):
        return component
    if not isinstance(component, str) or component.startswith(REMOTE):
        return None
    file = path.parent / component
    return yaml.safe_load(file.read_text(encoding="utf-8")) if file.is_file() else None


def reference_problems(
    spec: dict, jobs: dict, components: dict, key: str, value: str
) -> Iterator[tuple[str, str]]:
    for reference in BINDING.findall(value):
        parts = reference.split(".")
        if parts[:2] in (["parent", "inputs"], ["parent", "outputs"]) and len(parts) == 3:
            if parts[2] not in (spec.get(parts[1]) or {}):
                yield key, f"${{{{{reference}}}}}: the pipeline has no {parts[1][:-1]} {parts[2]!r}"
        elif parts[:2] == ["parent", "jobs"] and len(parts) == 5:
            step, section, port = parts[2:]
            if step not in jobs:
                yield key, f"${{{{{reference}}}}}: no step named {step!r}"
            elif components[step] is not None and port not in (components[step].get(section) or {}):
                yield key, f"${{{{{reference}}}}}: step {step!r} has no {section[:-1]} {port!r}"
        else:
            yield key, f"${{{{{reference}}}}}: not a binding a pipeline step can use"


def local_paths(spec: dict) -> Iterator[tuple[str, str]]:
    """(key, path) of every local file or folder a spec refers to."""
    candidates = [
        ("code", spec.get("code")),
        ("conda_file", spec.get("conda_file")),
        ("trial.code", (spec.get("trial") or {}).get("code")),
        (
            "environment.conda_file",
            (spec.get("environment") or {}).get("conda_file")
            if isinstance(spec.get("environment"), dict)
            else None,
        ),
        (
            "model.path",
            (spec.get("model") or {}).get("path") if isinstance(spec.get("model"), dict) else None,
        ),
        ("component", spec.get("component")),
    ]
    configuration = spec.get("code_configuration") or {}
    if configuration:
        code = configuration.get("code") or "."
        candidates.append(("code_configuration.code", code))
        script = configuration.get("scoring_script")
        candidates.append(("code_configuration.scoring_script", script and f"{code}/{script}"))
    for name, job in (spec.get("jobs") or {}).items():
        candidates.append((f"jobs.{name}.component", (job or {}).get("component")))
    for key, value in candidates:
        if isinstance(value, str) and not value.startswith(REMOTE):
            yield key, value


def path_problems(path: Path, spec: dict) -> Iterator[tuple[str, str]]:
    if "code_configuration" in spec and not (spec["code_configuration"] or {}).get(
        "scoring_script"
    ):
        yield "code_configuration.scoring_script", "missing: which script serves requests?"
    for key, value in local_paths(spec):
        if not (path.parent / value).exists():
            yield key, f"{value} does not exist (relative to {path.name})"


def environment_problems(path: Path, spec: dict) -> Iterator[tuple[str, str]]:
    conda_file = spec.get("conda_file")
    if not isinstance(conda_file, str):
        yield "conda_file", f"missing: the environment must use {CONDA_FILE.name}"
        return
    file = path.parent / conda_file
    if file.is_file() and yaml.safe_load(file.read_text()) != yaml.safe_load(
        CONDA_FILE.read_text()
    ):
        yield "conda_file", f"{conda_file} differs from the project's {CONDA_FILE.name}"


def instance_problems(spec: dict) -> Iterator[tuple[str, str]]:
    """A Kubernetes deployment that autoscales (``target_utilization``) sets min and max
    instances instead."""
    if (spec.get("scale_settings") or {}).get("type") == "target_utilization":
        return
    count = spec.get("instance_count")
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        yield "instance_count", f"must be a whole number of at least 1, got {count!r}"


def worker_problems(spec: dict) -> Iterator[tuple[str, str]]:
    """Azure ML admits ``max_concurrent_requests_per_instance`` requests to an instance at
    once; the inference server runs ``WORKER_COUNT`` workers (default 1). Fewer workers
    queue requests behind a busy one; more sit idle."""
    settings = spec.get("request_settings") or {}
    admitted = settings.get("max_concurrent_requests_per_instance", 1)
    workers = (spec.get("environment_variables") or {}).get("WORKER_COUNT", "1")
    if str(workers) != str(admitted):
        yield (
            "environment_variables.WORKER_COUNT",
            f"{workers} inference-server workers for {admitted} concurrent requests per "
            "instance (request_settings.max_concurrent_requests_per_instance): make them equal",
        )


def timeout_problems(spec: dict) -> Iterator[tuple[str, str]]:
    """The platform answers 408 at ``request_timeout_ms`` (5 s unless set); score.py's own
    limit (``SCORE_TIMEOUT_S``) must run out first, or its 503 with a reason never arrives."""
    platform = (spec.get("request_settings") or {}).get("request_timeout_ms", 5000)
    variables = spec.get("environment_variables") or {}
    script = float(variables.get("SCORE_TIMEOUT_S", DEFAULT_SCORE_TIMEOUT_S))
    if platform <= script * 1000:
        yield (
            "request_settings.request_timeout_ms",
            f"{platform} ms ends before score.py's own limit of {script:g} s (SCORE_TIMEOUT_S): "
            "the caller would get the platform's bare 408, never the script's 503 with its "
            "reason; make it longer",
        )


def monitor_signals(spec: dict) -> dict[str, dict]:
    monitor = spec.get("create_monitor") or {}
    signals = monitor.get("monitoring_signals") or {}
    return {name: signal for name, signal in signals.items() if isinstance(signal, dict)}


def monitor_problems(spec: dict) -> Iterator[tuple[str, str]]:
    """A signal that names a feature compares that column of the collected model inputs:
    the collector must write it (``MONITORED_INPUTS``), or the signal computes nothing.
    An alert goes to an email address."""
    for name, signal in monitor_signals(spec).items():
        features = signal.get("features")
        for feature in features if isinstance(features, list) else []:
            if feature not in MONITORED_INPUTS:
                yield (
                    f"create_monitor.monitoring_signals.{name}.features",
                    f"{feature!r} is not a column the deployment's collector writes "
                    f"(production.serving.collect writes {', '.join(MONITORED_INPUTS)})",
                )
    emails = ((spec.get("create_monitor") or {}).get("alert_notification") or {}).get("emails")
    for email in emails or []:
        if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", str(email)):
            yield "create_monitor.alert_notification.emails", f"{email!r} is not an email address"


def image_problems(spec: dict) -> Iterator[tuple[str, str]]:
    environment = spec.get("environment")
    key, image = (
        ("environment.image", environment.get("image"))
        if isinstance(environment, dict)
        else ("image", spec.get("image"))
    )
    if not isinstance(image, str):
        return
    tag = image.rsplit("/", 1)[-1].partition(":")[2]
    if tag in ("", "latest") and "@sha256:" not in image:
        yield key, f"{image}: unpinned; use a dated tag (e.g. :20260901.v1) or a digest"


INVOCATION_TYPES = {"uri_folder", "uri_file", "string", "integer", "number", "boolean"}


def batch_input_problems(path: Path, spec: dict) -> Iterator[tuple[str, str]]:
    """A pipeline batch deployment is invoked with data and literal inputs only."""
    component = step_component(path, {"component": spec.get("component")}) or {}
    for name, declared in (component.get("inputs") or {}).items():
        kind = (declared or {}).get("type")
        if kind not in INVOCATION_TYPES:
            yield (
                "component",
                f"input {name!r} is {kind}: a pipeline batch deployment is invoked with data "
                "and literal inputs only; bind it inside the pipeline",
            )


def objective_problems(spec: dict) -> Iterator[tuple[str, str]]:
    metric = (spec.get("objective") or {}).get("primary_metric")
    if metric not in LOGGED_METRICS:
        yield (
            "objective.primary_metric",
            f"{metric!r} is not logged by the training entry point "
            f"(it logs {', '.join(LOGGED_METRICS)}): no trial would ever be the best",
        )


def grid_problems(spec: dict) -> Iterator[tuple[str, str]]:
    space = spec.get("search_space") or {}
    sizes = [len(d.get("values") or []) for d in space.values() if isinstance(d, dict)]
    points = math.prod(sizes)
    budget = (spec.get("limits") or {}).get("max_total_trials")
    if isinstance(budget, int) and points > budget:
        yield (
            "limits.max_total_trials",
            f"{budget} trials for a grid of {points} points: "
            f"{points - budget} would never be tried",
        )


def endpoint_name_problems(spec: dict) -> Iterator[tuple[str, str]]:
    name = spec.get("name")
    if not isinstance(name, str) or not ENDPOINT_NAME.fullmatch(name):
        yield (
            "name",
            f"invalid endpoint name {name!r}: 3-32 letters, digits or hyphens, "
            "starting with a letter and not ending with a hyphen",
        )
    elif not UNIQUE_SUFFIX.fullmatch(name):
        yield (
            "name",
            f"{name!r} has no uniqueness suffix: endpoint names are unique per Azure region "
            "across all subscriptions; end it with -<suffix> (4-12 lowercase letters or "
            "digits, one digit at least): set AZUREML_ENDPOINT_SUFFIX and write the files "
            "again (python -m cloud generate, python -m production bundle)",
        )


# --- assets: what the folder creates, what its files use ------------------------------


def created_assets(folder: Path) -> dict[tuple[str, str], set[str | None]]:
    """(kind, name) -> versions of every model, environment and data asset the folder's
    YAML creates, and of every model its commands register (``--model-name NAME``, any
    version: None)."""
    created: dict[tuple[str, str], set[str | None]] = {}
    for file in folder.glob("*.yml"):
        try:
            spec = yaml.safe_load(file.read_text(encoding="utf-8"))
        except yaml.YAMLError:
            continue  # reported with the file itself
        if not isinstance(spec, dict):
            continue
        kind = schema_kind(spec)
        if kind in CREATED_KINDS and isinstance(spec.get("name"), str):
            version = spec.get("version")
            created.setdefault((kind, spec["name"]), set()).add(
                None if version is None else str(version)
            )
        for command in (spec.get("command"), (spec.get("trial") or {}).get("command")):
            for name in REGISTERS_MODEL.findall(command if isinstance(command, str) else ""):
                created.setdefault(("model", name), set()).add(None)
    return created


def asset_references(spec: dict) -> Iterator[tuple[str, str, str]]:
    """(key, kind, reference) of every registered asset a spec uses by name."""
    trial = spec.get("trial") or {}
    for key, value in (
        ("environment", spec.get("environment")),
        ("trial.environment", trial.get("environment")),
        ("model", spec.get("model")),
    ):
        if isinstance(value, str):
            yield key, key.rpartition(".")[2], value
    for name, signal in monitor_signals(spec).items():
        path = ((signal.get("reference_data") or {}).get("input_data") or {}).get("path")
        if isinstance(path, str):
            key = f"create_monitor.monitoring_signals.{name}.reference_data.input_data.path"
            yield key, "data", path
    ports = [("inputs", spec.get("inputs"))]
    ports += [
        (f"jobs.{n}.inputs", (j or {}).get("inputs")) for n, j in (spec.get("jobs") or {}).items()
    ]
    for prefix, inputs in ports:
        for name, value in (inputs or {}).items():
            if isinstance(value, dict) and isinstance(value.get("path"), str):
                kind = "model" if str(value.get("type", "")).endswith("_model") else "data"
                yield f"{prefix}.{name}.path", kind, value["path"]


def missing_asset_problems(spec: dict, created: dict) -> Iterator[tuple[str, str]]:
    for key, kind, reference in asset_references(spec):
        match = ASSET_REFERENCE.fullmatch(reference)
        if match is None:
            continue  # a local path (checked as a path) or a URL
        name, version = match.groups()
        if kind == "environment" and name.startswith(CURATED_PREFIX):
            continue
        versions = created.get((kind, name))
        if versions is None:
            yield (
                key,
                (
                    f"{reference}: no {kind} named {name!r} is created by a file in this "
                    "folder (nor registered by a command's --model-name): add its YAML"
                ),
            )
        elif version is not None and None not in versions and version not in versions:
            yield key, f"{reference}: this folder creates {name!r} version(s) {sorted(versions)}"
