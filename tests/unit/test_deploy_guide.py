"""The deployment guide's commands run as printed: each file they read is in the bundle or
written by an earlier command, each name follows Azure's rules, the endpoint is named with
a suffix of the student's own, and what it costs comes with its source."""

import json
import shlex
from pathlib import Path

import pytest

from cloud.deploy import (
    HOURS_PER_MONTH,
    LIST_PRICES,
    LIST_PRICES_SOURCE,
    Workspace,
    cost_lines,
    deployment_guide,
    guide_problems,
    hourly_price,
    personal_suffix,
)
from production.deployment import DEFAULT_INSTANCE_TYPE, PLACEHOLDER_SUFFIX


@pytest.fixture
def bundle(tmp_path, bundle_specs) -> Path:
    folder = bundle_specs(tmp_path / "runs" / "bundles" / "120000")
    model = folder / "model" / "mnist-cnn" / "3"
    model.mkdir(parents=True)
    (model / "model.onnx").write_bytes(b"")
    (model / "model-info.json").write_text(json.dumps({"model_uri": "models:/mnist-cnn/3"}))
    (folder / "sample-request.json").write_text("{}")
    return folder


def commands(guide: dict[str, list[str]]) -> list[str]:
    return [command for step in guide.values() for command in step]


def test_the_guide_goes_from_sign_in_to_tear_down_and_its_files_exist(bundle):
    guide = deployment_guide(bundle, run_dir=bundle.parents[1])
    assert guide_problems(guide, Workspace()) == []
    every = commands(guide)
    assert every[0] == "az login"
    assert every[-1] == "az group delete --name mlops-course-rg --yes"
    assert any(command.startswith("az ml online-endpoint invoke") for command in every)
    assert any("get-logs" in command for command in every)


def test_a_placeholder_endpoint_is_renamed_with_a_suffix_of_ones_own(bundle):
    guide = deployment_guide(bundle)
    suffix = personal_suffix()
    assert suffix != PLACEHOLDER_SUFFIX
    assert f"export AZUREML_ENDPOINT_SUFFIX={suffix}" in guide["sign in and set up"]
    every = " ".join(commands(guide))
    assert f"digits-endpoint-{suffix}" in every
    assert f"-{PLACEHOLDER_SUFFIX} " not in every
    # The renamed bundle does not exist yet: an earlier command writes it.
    (created,) = [c for c in commands(guide) if c.startswith("cd ")]
    assert not Path(shlex.split(created)[1]).exists()


def test_a_missing_file_and_bad_names_are_each_one_problem(bundle):
    workspace = Workspace(resource_group="rg.", name="x", region="East US")
    problems = guide_problems(deployment_guide(bundle, workspace), workspace)
    assert [problem.split(" name ")[0] for problem in problems] == [
        "invalid resource group",
        "invalid workspace",
        "invalid region",
    ]
    broken = {"call it": ["az ml online-endpoint invoke --name digits-endpoint-000000"]}
    broken["create"] = [f"cd {bundle}", "az ml model create -f missing.yml"]
    problems = guide_problems(broken, Workspace())
    assert problems == [
        "az ml online-endpoint invoke --name digits-endpoint-000000: "
        "invalid endpoint name 'digits-endpoint-000000'",
        "az ml model create -f missing.yml: missing.yml does not exist",
    ]


def test_offline_the_cost_is_the_embedded_list_price_with_its_source(bundle, monkeypatch):
    def unreachable(*args, **kwargs):
        raise OSError("no route to host")

    monkeypatch.setattr("urllib.request.urlopen", unreachable)
    price = hourly_price(DEFAULT_INSTANCE_TYPE, "eastus")
    assert (price.usd_per_hour, price.source) == (
        LIST_PRICES[DEFAULT_INSTANCE_TYPE],
        LIST_PRICES_SOURCE,
    )
    assert price.per_month(2) == pytest.approx(2 * HOURS_PER_MONTH * price.usd_per_hour)
    quota, cost = cost_lines(bundle)
    assert "quota for 4 cores of standardDSv2Family (8 during a blue/green roll-out)" in quota
    assert f"${price.usd_per_hour:.3f} per hour" in cost and LIST_PRICES_SOURCE in cost


def test_online_the_cost_is_todays_linux_pay_as_you_go_price(monkeypatch):
    items = [
        {
            "productName": "Virtual Machines DSv2 Series Windows",
            "skuName": "DS2 v2",
            "retailPrice": 0.3,
            "effectiveStartDate": "2026-01-01T00:00:00Z",
        },
        {
            "productName": "Virtual Machines DSv2 Series",
            "skuName": "DS2 v2 Spot",
            "retailPrice": 0.02,
            "effectiveStartDate": "2026-01-01T00:00:00Z",
        },
        {
            "productName": "Virtual Machines DSv2 Series",
            "skuName": "DS2 v2",
            "retailPrice": 0.14,
            "effectiveStartDate": "2025-01-01T00:00:00Z",
        },
        {
            "productName": "Virtual Machines DSv2 Series",
            "skuName": "DS2 v2",
            "retailPrice": 0.15,
            "effectiveStartDate": "2026-06-01T00:00:00Z",
        },
    ]

    class Reply:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def read(self, *args):
            return json.dumps({"Items": items}).encode()

    asked = []
    monkeypatch.setattr("urllib.request.urlopen", lambda url, timeout: asked.append(url) or Reply())
    price = hourly_price("Standard_DS2_v2", "westeurope")
    assert (price.usd_per_hour, price.source) == (
        0.15,
        "Azure Retail Prices API (westeurope, from 2026-06-01)",
    )
    assert "armSkuName+eq+%27Standard_DS2_v2%27" in asked[0]
