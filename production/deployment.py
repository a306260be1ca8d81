"""A managed online endpoint for the bundle: its endpoint and deployment YAML and the
serving environment's conda file, pinned to the versions installed here.

``cloud`` writes its reference deployments with these same functions.
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path
from typing import Any

from production.azureml_yaml import schema

ROOT = Path(__file__).resolve().parents[1]
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
VCPUS = {"Standard_DS2_v2": 2, "Standard_DS3_v2": 4, "Standard_DS4_v2": 8, "Standard_F4s_v2": 4}
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


def serving_environment(name: str) -> dict[str, Any]:
    """A conda file that pins the serving packages at the versions installed here."""
    pins = [f"{package}=={metadata.version(package)}" for package in SERVING_PACKAGES]
    return {
        "name": name,
        "channels": ["conda-forge"],
        "dependencies": ["python=3.11", "pip", {"pip": pins}],
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
    instance_type: str,
    count: int,
    model: str = "model",
    code: str = "code",
    scoring_script: str = "score.py",
    conda_file: str = "conda.yml",
) -> dict[str, Any]:
    """A managed online deployment of the score.py bundle; paths relative to the YAML file
    (the defaults are the bundle's own layout).

    One inference-server worker per vCPU (a request uses one thread: ONNX Runtime runs
    single-threaded per worker), and as many requests in flight per instance as there are
    workers: Azure ML answers 429 beyond that instead of queueing behind a busy worker.
    Application Insights receives the endpoint's logs and request metrics.
    """
    workers = VCPUS.get(instance_type, 1)
    probe = {"initial_delay": 10, "period": 10, "timeout": 2, "failure_threshold": 30}
    return {
        "$schema": schema("managedOnlineDeployment"),
        "name": deployment,
        "endpoint_name": endpoint,
        "model": model if model.startswith("azureml:") else {"path": model},
        "code_configuration": {"code": code, "scoring_script": scoring_script},
        "environment": {"image": BASE_IMAGE, "conda_file": conda_file},
        "instance_type": instance_type,
        "instance_count": count,
        "app_insights_enabled": True,
        "request_settings": {
            "request_timeout_ms": 5000,
            "max_concurrent_requests_per_instance": workers,
        },
        "liveness_probe": dict(probe),
        "readiness_probe": dict(probe),
        "environment_variables": {"WORKER_COUNT": str(workers), "SCORE_MAX_BATCH": "256"},
        "data_collector": {
            "collections": {
                "model_inputs": {"enabled": "true"},
                "model_outputs": {"enabled": "true"},
            }
        },
    }
