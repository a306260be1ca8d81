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
BASE_IMAGE = "mcr.microsoft.com/azureml/openmpi5.0-ubuntu24.04:latest"
# Exactly what production.serving and the preprocessing import (the collector hands pandas
# frames to azureml-ai-monitoring).
SERVING_PACKAGES = [
    "azureml-inference-server-http",
    "inference-schema",
    "azureml-ai-monitoring",
    "onnxruntime",
    "numpy",
    "pandas",
    "pillow",
]


def serving_environment(name: str) -> dict[str, Any]:
    """A conda file that pins the serving packages at the versions installed here."""
    pins = [f"{package}=={metadata.version(package)}" for package in SERVING_PACKAGES]
    return {
        "name": name,
        "channels": ["conda-forge"],
        "dependencies": ["python=3.11", "pip", {"pip": pins}],
    }


def endpoint_spec(endpoint: str, traffic: dict[str, int] | None = None) -> dict[str, Any]:
    spec = {
        "$schema": schema("managedOnlineEndpoint"),
        "name": endpoint,
        "auth_mode": "key",
        "description": "Handwritten digit classifier (MLOps course kit)",
    }
    return {**spec, "traffic": traffic} if traffic else spec


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
    (the defaults are the bundle's own layout)."""
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
        "request_settings": {"request_timeout_ms": 5000, "max_concurrent_requests_per_instance": 2},
        "liveness_probe": dict(probe),
        "readiness_probe": dict(probe),
        "environment_variables": {"SCORE_MAX_BATCH": "256"},
        "data_collector": {
            "collections": {
                "model_inputs": {"enabled": "true"},
                "model_outputs": {"enabled": "true"},
            }
        },
    }
