"""A managed online endpoint for the bundle: its endpoint, model and deployment YAML, the
serving environment's conda file pinned to the versions installed here, and the names; the
same deployment on an attached Kubernetes cluster, and a daily model monitor.

Endpoint names are unique per Azure region, across every subscription: each carries a
suffix, set in one place (``endpoint_suffix``). ``cloud`` writes its batch endpoint with
these same functions.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from production.azureml_yaml import folder_version, schema, write_yaml
from production.endpoint import SERVER_VARIABLES
from production.lock import closure, normalised, pip_requirement, read_lock
from production.serving import DEFAULT_SCORE_TIMEOUT_S, MONITORED_INPUTS

ROOT = Path(__file__).resolve().parents[1]
ONLINE_ENDPOINT = "digits-endpoint"  # the online endpoint's name, before its suffix
SUFFIX_VARIABLE = "AZUREML_ENDPOINT_SUFFIX"
WORKSPACE_VARIABLES = ("AZURE_SUBSCRIPTION_ID", "AZURE_RESOURCE_GROUP", "AZUREML_WORKSPACE_NAME")
# What names carry when neither is set: valid, but refused by `python -m cloud submit`.
PLACEHOLDER_SUFFIX = "000000"
# A suffix: 4 to 12 lowercase letters or digits, one digit at least (a name is unlikely).
SUFFIX_RULE = re.compile(r"(?=[a-z]*[0-9])[a-z0-9]{4,12}")
# The Azure Arc-enabled or AKS cluster attached to the workspace (az ml compute attach).
KUBERNETES_COMPUTE = "k8s-cluster"
# Each pod's CPU and memory, requested and limited alike (Kubernetes then guarantees them):
# two inference-server workers with their models, with room to spare. Without them a pod
# gets the cluster's defaultinstancetype, a fraction of a CPU: less than one worker.
KUBERNETES_POD = {"cpu": "2", "memory": "2Gi"}
# Model monitoring runs on serverless Spark; the smallest size it supports, the current runtime.
MONITOR_COMPUTE = {"instance_type": "standard_e4s_v3", "runtime_version": "3.4"}
REFERENCE_FOLDER = "reference"  # the monitor's reference data in a bundle, an MLTable folder
MLTABLE_SCHEMA = "https://azuremlschemas.azureedge.net/latest/MLTable.schema.json"
SERVED_CODE = (  # the bundle's code: score.py's package and what it imports, from ROOT
    "production/__init__.py",
    "production/serving",
    "data_science/__init__.py",
    "data_science/preprocessing.py",
)
# A dated tag, not :latest: every build of the environment starts from the same image.
BASE_IMAGE = "mcr.microsoft.com/azureml/openmpi5.0-ubuntu24.04:20260901.v1"
# Exactly what production.serving and the preprocessing import (the collector hands pandas
# frames to azureml-ai-monitoring).
VCPUS = {  # per instance type: one inference-server worker each
    "Standard_DS2_v2": 2,
    "Standard_F2s_v2": 2,
    "Standard_DS3_v2": 4,
    "Standard_F4s_v2": 4,
    "Standard_DS4_v2": 8,
}
# Two vCPUs: one instance needs quota for 4 cores (quota_cores), within the 6 a student or
# free-trial subscription has per region; a 4-vCPU size would need 8.
DEFAULT_INSTANCE_TYPE = "Standard_DS2_v2"
COLOURS = ("blue", "green")  # a blue/green roll-out's two deployments
# The platform's limit on a request sits above score.py's own (DEFAULT_SCORE_TIMEOUT_S,
# set in the deployment's environment): a slow request then gets the script's 503 with the
# reason, not the platform's bare 408. The margin covers decoding and the reply.
REQUEST_TIMEOUT_MS = int((DEFAULT_SCORE_TIMEOUT_S + 2) * 1000)
SERVING_PACKAGES = [
    "azureml-inference-server-http",
    "inference-schema",
    "azureml-ai-monitoring",
    "onnxruntime",
    "numpy",
    "pandas",
    "pillow",
    "prometheus-client",
]


def quota_cores(instance_type: str, count: int) -> int:
    """The cores of quota ``count`` instances of ``instance_type`` need: Azure ML keeps 20 %
    of an online deployment's instances spare for upgrades."""
    return math.ceil(1.2 * count) * VCPUS[instance_type]


def serving_environment(name: str) -> dict[str, Any]:
    """A conda file that pins the serving packages and everything they pull in, at the
    kit's pins (constraints.txt): Azure's image build installs exactly what was tested
    here, not whatever the index resolves on the day it builds."""
    roots = {normalised(package) for package in SERVING_PACKAGES}
    locked = read_lock(ROOT / "constraints.txt")
    pins = [pip_requirement(pin) for pin in closure(roots, locked)]
    return {
        "name": name,
        "channels": ["conda-forge"],
        "dependencies": ["python=3.11", "pip", {"pip": pins}],
    }


def idle_colour(live: str) -> str:
    """The deployment that does not take the traffic: where the next model goes, so that
    the live one keeps serving until the new one has proved itself."""
    if live not in COLOURS:
        raise ValueError(f"deployment {live!r}: a blue/green roll-out knows {COLOURS}")
    return COLOURS[1 - COLOURS.index(live)]


def endpoint_suffix() -> str:
    """``$AZUREML_ENDPOINT_SUFFIX`` when set; else six digits derived from the workspace
    (``$AZURE_SUBSCRIPTION_ID``, ``$AZURE_RESOURCE_GROUP``, ``$AZUREML_WORKSPACE_NAME``), the
    same on every run against it; else the placeholder."""
    chosen = os.environ.get(SUFFIX_VARIABLE, "").strip().lower()
    if chosen and not SUFFIX_RULE.fullmatch(chosen):
        raise ValueError(
            f"{SUFFIX_VARIABLE}={chosen!r}: a suffix is 4 to 12 lowercase letters or digits, "
            "one digit at least (e.g. jd2026)"
        )
    if chosen:
        return chosen
    workspace = [os.environ.get(name, "").strip().lower() for name in WORKSPACE_VARIABLES]
    if not all(workspace):
        return PLACEHOLDER_SUFFIX
    digest = hashlib.sha256("/".join(workspace).encode()).hexdigest()
    return f"{int(digest, 16) % 10**6:06d}"


def endpoint_name(base: str = ONLINE_ENDPOINT) -> str:
    """``base`` with the suffix: ``digits-endpoint-123456``."""
    return f"{base}-{endpoint_suffix()}"


def model_spec(name: str, version: str, path: str, description: str) -> dict[str, Any]:
    """A model asset registered from a local folder, as ``az ml model create -f`` takes it."""
    return {
        "$schema": schema("model"),
        "name": name,
        "version": str(version),
        "type": "custom_model",
        "path": path,
        "description": description,
    }


def endpoint_spec(endpoint: str) -> dict[str, Any]:
    """The endpoint as created: a name and key authentication. Traffic cannot be set at
    creation; the first deployment takes it all (``--all-traffic``), later splits are
    ``az ml online-endpoint update --traffic``."""
    return {
        "$schema": schema("managedOnlineEndpoint"),
        "name": endpoint,
        "auth_mode": "key",
        "description": "Handwritten digit classifier (MLOps course kit)",
    }


def deployment_spec(
    endpoint: str,
    deployment: str,
    instance_type: str | None,
    count: int,
    model: str,
    workers: int | None = None,
    code: str = "code",
    scoring_script: str = "score.py",
    conda_file: str = "conda.yml",
) -> dict[str, Any]:
    """A managed online deployment of the score.py bundle serving the registered ``model``
    (``azureml:NAME:VERSION``); paths relative to the YAML file (the defaults are the
    bundle's own layout).

    One inference-server worker per vCPU (a request uses one thread: ONNX Runtime runs
    single-threaded per worker), and as many requests in flight per instance as there are
    workers: Azure ML answers 429 beyond that instead of queueing behind a busy worker.
    Application Insights receives the endpoint's logs and request metrics. The server runs
    with the local endpoint's settings (``production.endpoint.SERVER_VARIABLES``).
    """
    workers = workers or VCPUS.get(instance_type, 1)
    probe = {"initial_delay": 10, "period": 10, "timeout": 2, "failure_threshold": 30}
    return {
        "$schema": schema("managedOnlineDeployment"),
        "name": deployment,
        "endpoint_name": endpoint,
        "model": model,
        "code_configuration": {"code": code, "scoring_script": scoring_script},
        "environment": {"image": BASE_IMAGE, "conda_file": conda_file},
        "instance_type": instance_type,
        "instance_count": count,
        "app_insights_enabled": True,
        "request_settings": {
            "request_timeout_ms": REQUEST_TIMEOUT_MS,
            "max_concurrent_requests_per_instance": workers,
        },
        "liveness_probe": dict(probe),
        "readiness_probe": dict(probe),
        "environment_variables": {
            **SERVER_VARIABLES,
            "WORKER_COUNT": str(workers),
            "SCORE_MAX_BATCH": "256",
            "SCORE_TIMEOUT_S": f"{DEFAULT_SCORE_TIMEOUT_S:g}",
        },
        "data_collector": {
            "collections": {
                "model_inputs": {"enabled": "true"},
                "model_outputs": {"enabled": "true"},
            }
        },
    }


def kubernetes_endpoint_name(endpoint: str) -> str:
    """The managed ``endpoint``'s name with ``-k8s`` before its suffix (``endpoint_suffix``):
    ``digits-endpoint-k8s-123456``. Endpoint names are unique per region, so both endpoints
    can exist at once; the suffix stays last, where the uniqueness rule looks for it."""
    return endpoint_name(f"{endpoint.removesuffix(f'-{endpoint_suffix()}')}-k8s")


def kubernetes_endpoint_spec(endpoint: str) -> dict[str, Any]:
    """``endpoint_spec`` on the attached cluster (``compute`` is what makes an online
    endpoint a Kubernetes one); no traffic at creation, as for the managed endpoint."""
    return {
        **endpoint_spec(endpoint),
        "$schema": schema("kubernetesOnlineEndpoint"),
        "compute": f"azureml:{KUBERNETES_COMPUTE}",
    }


def kubernetes_deployment_spec(
    endpoint: str, deployment: str, count: int, model: str
) -> dict[str, Any]:
    """``deployment_spec`` on the attached cluster: each pod states its CPU and memory
    (``KUBERNETES_POD``, requests equal to limits) instead of naming an instance type, and
    runs a worker per CPU; the same probes and collector, on ``count`` pods
    (``scale_settings.type: default``; Kubernetes would otherwise autoscale).

    ``type: kubernetes`` is what loads it as a Kubernetes deployment.
    """
    workers = int(KUBERNETES_POD["cpu"])
    spec = deployment_spec(endpoint, deployment, None, count, model, workers)
    del spec["instance_type"]
    return {
        **spec,
        "$schema": schema("kubernetesOnlineDeployment"),
        "type": "kubernetes",
        "resources": {"requests": dict(KUBERNETES_POD), "limits": dict(KUBERNETES_POD)},
        "scale_settings": {"type": "default"},
    }


def reference_spec(name: str, version: str) -> dict[str, Any]:
    """The monitor's reference data, registered from the bundle's MLTable folder."""
    return {
        "$schema": schema("data"),
        "name": name,
        "version": version,
        "type": "mltable",
        "path": REFERENCE_FOLDER,
        "description": "What the collector records for clean digits the model never saw: "
        "the monitor's reference",
    }


def write_reference(folder: Path, table) -> None:
    """``table`` (a pandas DataFrame) as an MLTable folder: the CSV and the file that tells
    Azure ML how to read it."""
    folder.mkdir(parents=True)
    table.to_csv(folder / "reference.csv", index=False)
    mltable = {
        "paths": [{"file": "./reference.csv"}],
        "transformations": [
            {
                "read_delimited": {
                    "delimiter": ",",
                    "header": "all_files_same_headers",
                    "encoding": "utf8",
                }
            }
        ],
    }
    write_yaml(folder / "MLTable", {"$schema": MLTABLE_SCHEMA, **mltable})


def monitor_name(endpoint: str, deployment: str) -> str:
    return f"{endpoint}-{deployment}-monitor"


def monitor_spec(
    endpoint: str, deployment: str, reference: str, alert_emails: Sequence[str] = ()
) -> dict[str, Any]:
    """A daily model monitor of the deployment, on the scalar columns its collector writes
    (``production.serving.collect``): drift of the inputs' ink share and brightness, drift
    of the predictions (label, confidence, novelty), and the inputs' data quality, each
    against ``reference`` (``azureml:NAME:VERSION``, the bundle's reference data: clean
    digits the model never saw, as the collector records them); alerts go to
    ``alert_emails``.

    No signal names its production data: ``az ml schedule create`` fills in the
    collections the deployment's data collector gathers (``model_inputs``,
    ``model_outputs``), the last day of each.
    """
    data = {"input_data": {"path": reference, "type": "mltable"}, "data_context": "validation"}
    against_reference = {"reference_data": data, "alert_enabled": True}

    # Azure's out-of-box thresholds for drift; no missing or mistyped value at all, and at
    # most 2 % of a day's images outside the range the reference spans.
    drift = {"normalized_wasserstein_distance": 0.1}
    quality = {"null_value_rate": 0.0, "data_type_error_rate": 0.0, "out_of_bounds_rate": 0.02}
    signals = {
        "input_drift": {
            "type": "data_drift",
            **against_reference,
            "features": list(MONITORED_INPUTS),
            "metric_thresholds": {"numerical": dict(drift)},
        },
        "prediction_drift": {
            "type": "prediction_drift",
            **against_reference,
            "metric_thresholds": {
                "numerical": dict(drift),
                "categorical": {"jensen_shannon_distance": 0.1},
            },
        },
        "input_quality": {
            "type": "data_quality",
            **against_reference,
            "features": list(MONITORED_INPUTS),
            "metric_thresholds": {"numerical": quality},
        },
    }
    monitor = {
        "compute": dict(MONITOR_COMPUTE),
        "monitoring_target": {
            "ml_task": "classification",
            "endpoint_deployment_id": f"azureml:{endpoint}:{deployment}",
        },
        "monitoring_signals": signals,
    }
    if alert_emails:
        monitor["alert_notification"] = {"emails": list(alert_emails)}
    return {
        "$schema": schema("monitorSchedule"),
        "name": monitor_name(endpoint, deployment),
        "description": f"Drift and data quality of {endpoint}/{deployment} in production",
        "trigger": {
            "type": "recurrence",
            "frequency": "day",
            "interval": 1,
            "schedule": {"hours": 3, "minutes": 15},
        },
        "create_monitor": monitor,
    }


def write_azureml_files(
    out: Path,
    info: dict,
    endpoint: str,
    deployment: str,
    instance_type: str,
    count: int,
    alert_emails: Sequence[str] = (),
) -> None:
    """The bundle's Azure ML YAML, in the order a deployer creates them: the ONNX model as
    a registered model (model.yml), the endpoint, the deployment serving that model, the
    monitor's reference data (reference-data.yml, from the bundle's ``REFERENCE_FOLDER``)
    and the monitor (monitor.yml, alerts to ``alert_emails``); the same endpoint and
    deployment on an attached Kubernetes cluster (kubernetes-*.yml); and the serving
    environment's conda file."""
    write_yaml(out / "conda.yml", serving_environment(f"{endpoint}-env"))
    precision = info.get("quantization", {}).get("precision", "float32")
    served = model_spec(
        f"{info['name']}-onnx",
        folder_version(out / "model"),
        "model",
        f"ONNX ({precision}) of MLflow model {info['name']} version {info['version']}, "
        "with its class names (labels.json)",
    )
    write_yaml(out / "model.yml", served)
    write_yaml(out / "endpoint.yml", endpoint_spec(endpoint))
    model = f"azureml:{served['name']}:{served['version']}"
    spec = deployment_spec(endpoint, deployment, instance_type, count, model)
    write_yaml(out / "deployment.yml", spec)
    reference = reference_spec(
        f"{served['name']}-reference", folder_version(out / REFERENCE_FOLDER)
    )
    write_yaml(out / "reference-data.yml", reference)
    reference_uri = f"azureml:{reference['name']}:{reference['version']}"
    write_yaml(out / "monitor.yml", monitor_spec(endpoint, deployment, reference_uri, alert_emails))
    cluster = kubernetes_endpoint_name(endpoint)
    write_yaml(out / "kubernetes-endpoint.yml", kubernetes_endpoint_spec(cluster))
    spec = kubernetes_deployment_spec(cluster, deployment, count, model)
    write_yaml(out / "kubernetes-deployment.yml", spec)
