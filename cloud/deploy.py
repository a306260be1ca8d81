"""The ``az`` commands that take a score.py bundle to a managed online endpoint, call it,
roll a new model out beside it and tear it all down. They are written for one bundle (its
folder, its endpoint's name, its deployment) so that each runs as printed, and checked
offline: every file a command reads exists or is written by an earlier command, and every
name follows Azure's rules. What the deployment costs comes from Azure's Retail Prices API,
or from the list prices embedded here when the machine is offline.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import re
import shlex
import socket
import urllib.parse
import urllib.request
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import yaml

from cloud.validate import endpoint_name_problems
from production.deployment import (
    PLACEHOLDER_SUFFIX,
    SUFFIX_VARIABLE,
    idle_colour,
    monitor_name,
    quota_cores,
)
from production.endpoint import served_model_info

RESOURCE_GROUP = re.compile(r"[-\w.()]{0,89}[-\w()]")  # 1-90 characters, no final period
WORKSPACE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{2,32}")  # 3-33 characters
REGION = re.compile(r"[a-z][a-z0-9]+")  # as `az account list-locations` names them
# The quota family `az ml compute list-usage` counts each instance type's cores in.
QUOTA_FAMILY = {
    "Standard_DS2_v2": "standardDSv2Family",
    "Standard_DS3_v2": "standardDSv2Family",
    "Standard_DS4_v2": "standardDSv2Family",
    "Standard_F2s_v2": "standardFSv2Family",
    "Standard_F4s_v2": "standardFSv2Family",
}
RETAIL_PRICES = "https://prices.azure.com/api/retail/prices"
# The offline fallback: pay-as-you-go Linux prices in USD per hour in East US, as Azure
# listed them through 2024-2025. Online, the Retail Prices API gives today's, per region.
LIST_PRICES = {
    "Standard_DS2_v2": 0.146,
    "Standard_DS3_v2": 0.293,
    "Standard_DS4_v2": 0.585,
    "Standard_F2s_v2": 0.085,
    "Standard_F4s_v2": 0.169,
}
LIST_PRICES_SOURCE = (
    "the kit's list price for East US, 2024-2025: Azure's price API is out of reach"
)
HOURS_PER_MONTH = 730  # Azure's convention: 365 × 24 / 12
READS_A_FILE = ("-f", "--file", "--request-file")


@dataclass(frozen=True)
class Workspace:
    """Where the endpoint goes: a resource group and a workspace in one region."""

    resource_group: str = "mlops-course-rg"
    name: str = "mlops-course"
    region: str = "eastus"

    def problems(self) -> list[str]:
        rules = [
            (
                RESOURCE_GROUP,
                self.resource_group,
                "resource group",
                "1-90 letters, digits or -_.(), not ending with a period",
            ),
            (
                WORKSPACE,
                self.name,
                "workspace",
                "3-33 letters, digits, - or _, starting with a letter or a digit",
            ),
            (REGION, self.region, "region", "lowercase, as az account list-locations names it"),
        ]
        return [
            f"invalid {kind} name {value!r}: {rule}"
            for pattern, value, kind, rule in rules
            if not pattern.fullmatch(value)
        ]


@dataclass(frozen=True)
class Price:
    usd_per_hour: float  # one instance
    source: str

    def per_month(self, instances: int) -> float:
        return self.usd_per_hour * instances * HOURS_PER_MONTH


def hourly_price(instance_type: str, region: str, timeout: float = 5) -> Price:
    """One instance's pay-as-you-go Linux price, from Azure's Retail Prices API (public, no
    sign-in), or the embedded list price when the API cannot be reached."""
    query = (
        f"serviceName eq 'Virtual Machines' and armSkuName eq '{instance_type}' and "
        f"armRegionName eq '{region}' and priceType eq 'Consumption'"
    )
    url = f"{RETAIL_PRICES}?{urllib.parse.urlencode({'$filter': query})}"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as reply:
            items = json.load(reply)["Items"]
    except OSError:
        return Price(LIST_PRICES[instance_type], LIST_PRICES_SOURCE)
    linux = [
        item
        for item in items
        if "Windows" not in item["productName"]
        and not any(kind in item["skuName"] for kind in ("Spot", "Low Priority"))
    ]
    if not linux:
        return Price(LIST_PRICES[instance_type], LIST_PRICES_SOURCE)
    latest = max(linux, key=lambda item: item["effectiveStartDate"])
    effective = latest["effectiveStartDate"][:10]
    return Price(latest["retailPrice"], f"Azure Retail Prices API ({region}, from {effective})")


def deployment_spec(bundle: str | Path) -> dict:
    """The bundle's deployment.yml, as a mapping."""
    return yaml.safe_load((Path(bundle) / "deployment.yml").read_text())


def personal_suffix() -> str:
    """Six digits from this user and machine, the same on every run: endpoint names are
    unique per region across all subscriptions, so two students' must differ."""
    owner = f"{getpass.getuser()}@{socket.gethostname()}"
    return f"{int(hashlib.sha256(owner.encode()).hexdigest(), 16) % 10**6:06d}"


def deployment_guide(
    bundle: Path, workspace: Workspace = Workspace(), run_dir: Path | None = None
) -> dict[str, list[str]]:
    """Every command from an empty subscription to a torn-down one, by step, for ``bundle``
    (a bundle is written again from the store in ``run_dir``, by default the newest run
    folder that has its model). A bundle whose endpoint still carries the placeholder
    suffix is first written again under a name of the student's own."""
    bundle = Path(bundle).resolve()
    deployment = deployment_spec(bundle)
    endpoint, live = deployment["endpoint_name"], deployment["name"]
    family = QUOTA_FAMILY[deployment["instance_type"]]
    group, name, region = workspace.resource_group, workspace.name, workspace.region
    source = f"--model {served_model_info(bundle)['model_uri']}"
    source += f" --run-dir {shlex.quote(str(Path(run_dir).resolve()))}" if run_dir else ""
    setup = [
        "az login",
        "az extension add --name ml --upgrade",
        f"az group create --name {group} --location {region}",
        f"az ml workspace create --name {name} --resource-group {group} --location {region}",
        f"az configure --defaults group={group} workspace={name} location={region}",
    ]
    if endpoint.endswith(f"-{PLACEHOLDER_SUFFIX}"):
        suffix = personal_suffix()
        endpoint = endpoint.removesuffix(PLACEHOLDER_SUFFIX) + suffix
        bundle = bundle.with_name(f"{bundle.name}-{suffix}")
        setup += [
            f"export {SUFFIX_VARIABLE}={suffix}",
            f"python -m production bundle {source} --deployment {live} "
            f"--out {shlex.quote(str(bundle))}",
        ]
    new = idle_colour(live)
    new_bundle = shlex.quote(str(bundle.with_name(f"{bundle.name}-{new}")))
    uri = f"$(az ml online-endpoint show --name {endpoint} --query scoring_uri -o tsv)"
    key = f"$(az ml online-endpoint get-credentials --name {endpoint} --query primaryKey -o tsv)"
    return {
        "sign in and set up": setup,
        "check the quota": [
            f"az ml compute list-usage --query \"[?name.value=='{family}']\" -o table",
        ],
        "create the endpoint and its deployment": [
            f"cd {shlex.quote(str(bundle))}",
            "python -m cloud validate .",
            "az ml model create -f model.yml",
            "az ml online-endpoint create -f endpoint.yml",
            "az ml online-deployment create -f deployment.yml --all-traffic",
            "az ml data create -f reference-data.yml",
            "az ml schedule create -f monitor.yml",
        ],
        "call it": [
            f"az ml online-endpoint invoke --name {endpoint} --request-file sample-request.json",
            f'curl -H "Authorization: Bearer {key}" -H "Content-Type: application/json" '
            f'-d @sample-request.json "{uri}"',
        ],
        "read its logs": [
            f"az ml online-deployment get-logs --name {live} --endpoint-name {endpoint} "
            "--lines 100",
        ],
        "roll a new model out beside it": [
            f"python -m production bundle {source} --deployment {new} --out {new_bundle}",
            f"az ml model create -f {new_bundle}/model.yml",
            f"az ml online-deployment create -f {new_bundle}/deployment.yml",
            f'az ml online-endpoint update --name {endpoint} --traffic "{live}=90 {new}=10"',
            f'az ml online-endpoint update --name {endpoint} --traffic "{live}=0 {new}=100"',
            f"az ml data create -f {new_bundle}/reference-data.yml",
            f"az ml schedule create -f {new_bundle}/monitor.yml",
            f"az ml schedule disable --name {monitor_name(endpoint, live)}",
            f"az ml online-deployment delete --name {live} --endpoint-name {endpoint} --yes",
        ],
        "tear it all down": [
            f"az ml schedule disable --name {monitor_name(endpoint, new)}",
            f"az ml online-endpoint delete --name {endpoint} --yes",
            f"az group delete --name {group} --yes",
        ],
    }


def guide_problems(guide: dict[str, list[str]], workspace: Workspace) -> list[str]:
    """What would stop the guide's commands, found offline: a file read that neither exists
    nor is written by an earlier command, a name Azure refuses."""
    problems, folder, written = workspace.problems(), Path.cwd(), []
    for command in (command for commands in guide.values() for command in commands):
        words = shlex.split(command)
        if words[0] == "cd":
            folder = Path(words[1])
        names_endpoint = {"--endpoint-name"} | ({"--name"} if "online-endpoint" in words else set())
        for option, value in pairwise(words):
            path = folder / value
            unknown = not path.exists() and not any(path.is_relative_to(w) for w in written)
            if option in READS_A_FILE and unknown:
                problems.append(f"{command}: {value} does not exist")
            elif option == "--out":
                written.append(path)
            elif option in names_endpoint and not valid_endpoint_name(value):
                problems.append(f"{command}: invalid endpoint name {value!r}")
    return problems


def valid_endpoint_name(name: str) -> bool:
    """The validator's rule for endpoint names, with a suffix of the student's own (not
    the placeholder)."""
    placeholder = name.endswith(f"-{PLACEHOLDER_SUFFIX}")
    return not placeholder and not any(endpoint_name_problems({"name": name}))


def cost_lines(bundle: Path, workspace: Workspace = Workspace()) -> list[str]:
    """What the bundle's deployment needs in quota and costs while it exists."""
    deployment = deployment_spec(bundle)
    size, count = deployment["instance_type"], deployment["instance_count"]
    price, cores = hourly_price(size, workspace.region), quota_cores(size, count)
    return [
        f"{count} × {size}: quota for {cores} cores of {QUOTA_FAMILY[size]} "
        f"({2 * cores} during a blue/green roll-out)",
        f"${price.usd_per_hour * count:.3f} per hour, ${price.per_month(count):.0f} per month "
        f"if left running ({price.source})",
    ]
