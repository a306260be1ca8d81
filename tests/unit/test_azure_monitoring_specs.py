"""The bundle's model monitor and Kubernetes deployment: valid offline, aimed at the bundle's
own endpoint, and their broken forms caught in one line each."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml
from azure.ai.ml.entities import (
    Data,
    KubernetesOnlineDeployment,
    KubernetesOnlineEndpoint,
    MonitorSchedule,
)

from cloud.sdk import loader
from cloud.submit import CLIENT_OPERATIONS, SubmissionError, az_command, loader_name, submit
from cloud.validate import ENDPOINT_NAME, LOADERS, UNIQUE_SUFFIX, validate_file, validate_folder
from production.azureml_yaml import folder_version, schema_kind
from production.deployment import (
    DEFAULT_INSTANCE_TYPE,
    KUBERNETES_POD,
    SUFFIX_VARIABLE,
    WORKSPACE_VARIABLES,
    endpoint_name,
    kubernetes_endpoint_name,
    monitor_spec,
    quota_cores,
)
from production.serving import MONITORED_INPUTS

ENTITIES = {
    "reference-data.yml": Data,
    "monitor.yml": MonitorSchedule,
    "kubernetes-endpoint.yml": KubernetesOnlineEndpoint,
    "kubernetes-deployment.yml": KubernetesOnlineDeployment,
}


@pytest.fixture
def bundle(tmp_path, monkeypatch, bundle_specs) -> Path:
    """A bundle's Azure ML files (two instances) beside its code and model folders;
    placeholder suffix, for the whole test."""
    for name in (SUFFIX_VARIABLE, *WORKSPACE_VARIABLES):
        monkeypatch.delenv(name, raising=False)
    return bundle_specs(tmp_path, count=2)


def read(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def load(path: Path):
    return loader(LOADERS[schema_kind(read(path))])(path)


def test_the_bundle_validates_clean(bundle):
    assert [str(problem) for problem in validate_folder(bundle)] == []


@pytest.mark.parametrize("file", ENTITIES)
def test_each_new_file_loads_into_its_entity(file, bundle):
    assert isinstance(load(bundle / file), ENTITIES[file])


def test_the_monitor_watches_the_bundles_deployment(bundle):
    endpoint, deployment = read(bundle / "endpoint.yml"), read(bundle / "deployment.yml")
    target = load(bundle / "monitor.yml").create_monitor.monitoring_target
    assert target.endpoint_deployment_id == f"azureml:{endpoint['name']}:{deployment['name']}"
    signals = read(bundle / "monitor.yml")["create_monitor"]["monitoring_signals"]
    kinds = {"data_drift", "prediction_drift", "data_quality"}
    assert {signal["type"] for signal in signals.values()} == kinds


def test_every_signal_compares_named_columns_with_the_bundles_reference(bundle):
    reference = read(bundle / "reference-data.yml")
    assert reference["type"] == "mltable" and (bundle / reference["path"] / "MLTable").is_file()
    columns = set(pd.read_csv(bundle / reference["path"] / "reference.csv").columns)
    uri = f"azureml:{reference['name']}:{reference['version']}"
    for signal in read(bundle / "monitor.yml")["create_monitor"]["monitoring_signals"].values():
        assert signal["reference_data"]["input_data"] == {"path": uri, "type": "mltable"}
        assert set(signal.get("features", [])) <= set(MONITORED_INPUTS) <= columns
        assert signal["alert_enabled"] and signal["metric_thresholds"]


def test_alerts_go_to_the_addresses_given_and_to_nobody_by_default(bundle, tmp_path):
    assert "alert_notification" not in read(bundle / "monitor.yml")["create_monitor"]
    spec = monitor_spec("digits-endpoint-000000", "blue", "azureml:ref:1", ["ops@example.com"])
    (tmp_path / "monitor.yml").write_text(yaml.safe_dump(spec))
    notification = load(tmp_path / "monitor.yml").create_monitor.alert_notification
    assert notification.emails == ["ops@example.com"]


def test_the_kubernetes_deployment_serves_like_the_managed_one(bundle):
    managed = read(bundle / "deployment.yml")
    cluster = read(bundle / "kubernetes-deployment.yml")
    assert cluster["endpoint_name"] == read(bundle / "kubernetes-endpoint.yml")["name"]
    for key in ("model", "code_configuration", "environment", "data_collector"):
        assert cluster[key] == managed[key], key
    for key in ("liveness_probe", "readiness_probe", "instance_count"):
        assert cluster[key] == managed[key], key
    # each pod states its CPU and memory, guaranteed (requests = limits), and runs a worker
    # per CPU: not the cluster's defaultinstancetype, a fraction of a CPU
    assert "instance_type" not in cluster
    assert cluster["resources"]["requests"] == cluster["resources"]["limits"] == KUBERNETES_POD
    workers = cluster["environment_variables"]["WORKER_COUNT"]
    assert workers == KUBERNETES_POD["cpu"] == "2"
    assert str(cluster["request_settings"]["max_concurrent_requests_per_instance"]) == workers
    assert load(bundle / "kubernetes-deployment.yml").resources.requests.cpu == "2"


@pytest.mark.parametrize("file", ["deployment.yml", "kubernetes-deployment.yml"])
def test_the_platforms_timeout_outlasts_the_scripts_own(file, bundle):
    spec = read(bundle / file)
    script_seconds = float(spec["environment_variables"]["SCORE_TIMEOUT_S"])
    assert spec["request_settings"]["request_timeout_ms"] > script_seconds * 1000


def test_the_default_instance_fits_a_students_quota(tmp_path, bundle_specs):
    spec = read(bundle_specs(tmp_path) / "deployment.yml")
    assert spec["instance_type"] == DEFAULT_INSTANCE_TYPE and spec["instance_count"] == 1
    assert quota_cores(spec["instance_type"], 1) == 4 <= 6  # ceil(1.2 × 1) × 2 cores
    assert quota_cores("Standard_DS3_v2", 1) == 8  # the former default: over a student's 6


@pytest.mark.parametrize("suffix", ["000000", "jd2026", "abcdef123456"])  # 12: the longest
def test_the_kubernetes_endpoint_name_keeps_the_rules(suffix, monkeypatch):
    monkeypatch.setenv(SUFFIX_VARIABLE, suffix)
    managed = endpoint_name()
    name = kubernetes_endpoint_name(managed)
    assert name != managed
    assert name.endswith(f"-{suffix}")
    assert ENDPOINT_NAME.fullmatch(name) and UNIQUE_SUFFIX.fullmatch(name)


def test_the_new_files_submit_with_their_commands(bundle):
    assert az_command(bundle / "monitor.yml").startswith("az ml schedule create -f ")
    assert CLIENT_OPERATIONS[loader_name(bundle / "monitor.yml")] == (
        "schedules",
        "begin_create_or_update",
    )
    with pytest.raises(SubmissionError, match="ends with the placeholder suffix"):
        submit(bundle / "kubernetes-endpoint.yml")


def set_key(spec: dict, dotted: str, value) -> None:
    *parents, last = dotted.split(".")
    for part in parents:
        spec = spec[part]
    spec[last] = value


BROKEN = {  # name: (file, dotted key, value, the key the one problem line names)
    "traffic at creation": ("kubernetes-endpoint.yml", "traffic", {"blue": 100}, "traffic"),
    "workers differ from concurrency": (
        "kubernetes-deployment.yml",
        "environment_variables.WORKER_COUNT",
        "1",
        "environment_variables.WORKER_COUNT",
    ),
    "no uniqueness suffix": ("kubernetes-endpoint.yml", "name", "digits-endpoint-k8s", "name"),
    "unpinned image": (
        "kubernetes-deployment.yml",
        "environment.image",
        "mcr.microsoft.com/azureml/openmpi5.0-ubuntu24.04:latest",
        "environment.image",
    ),
    "no instances": ("kubernetes-deployment.yml", "instance_count", 0, "instance_count"),
    "the platform's timeout first": (
        "deployment.yml",
        "request_settings.request_timeout_ms",
        5000,  # Azure's default, below score.py's 10 s
        "request_settings.request_timeout_ms",
    ),
    "a column the collector does not write": (
        "monitor.yml",
        "create_monitor.monitoring_signals.input_drift.features",
        ["pixels"],
        "create_monitor.monitoring_signals.input_drift.features",
    ),
    "reference data nothing creates": (
        "monitor.yml",
        "create_monitor.monitoring_signals.input_quality.reference_data.input_data.path",
        "azureml:training-digits:1",
        "create_monitor.monitoring_signals.input_quality.reference_data.input_data.path",
    ),
    "unknown signal type": (
        "monitor.yml",
        "create_monitor.monitoring_signals.prediction_drift.type",
        "prediction_drfit",
        "create_monitor.monitoring_signals.prediction_drift.type",
    ),
}


@pytest.mark.parametrize("case", BROKEN)
def test_a_broken_spec_is_caught_in_one_line(case, bundle):
    file, key, value, named = BROKEN[case]
    spec = read(bundle / file)
    set_key(spec, key, value)
    (bundle / file).write_text(yaml.safe_dump(spec, sort_keys=False))
    problems = [str(problem) for problem in validate_file(bundle / file)]
    assert len(problems) == 1 and problems[0].startswith(f"{file}: {named}: "), problems


def test_an_autoscaled_kubernetes_deployment_needs_no_instance_count(bundle):
    spec = read(bundle / "kubernetes-deployment.yml")
    del spec["instance_count"]
    spec["scale_settings"] = {"type": "target_utilization", "min_instances": 1}
    (bundle / "kubernetes-deployment.yml").write_text(yaml.safe_dump(spec, sort_keys=False))
    assert validate_file(bundle / "kubernetes-deployment.yml") == []


def test_the_model_version_follows_the_model_so_a_second_bundle_never_clashes(
    tmp_path, bundle_specs
):
    first = bundle_specs(tmp_path / "a")
    (tmp_path / "b" / "model").mkdir(parents=True)
    (tmp_path / "b" / "model" / "model.onnx").write_bytes(b"another model")
    second = bundle_specs(tmp_path / "b")
    versions = [read(bundle / "model.yml")["version"] for bundle in (first, second)]
    assert versions[0] == folder_version(first / "model") and versions[0] != versions[1]
    assert read(first / "deployment.yml")["model"].endswith(f":{versions[0]}")
