"""The rehearsal's own guards: no connection leaves the process, and the service's rules
are checked on the requests that would be sent."""

from __future__ import annotations

import socket

import pytest

from cloud.rehearse import NetworkUsed, offline, request_problems
from cloud.standin import Sent


def test_a_connection_attempted_during_a_rehearsal_is_refused_and_counted():
    with offline() as attempts, pytest.raises(NetworkUsed, match="reach the network"):
        socket.create_connection(("192.0.2.1", 443), timeout=1)
    assert len(attempts) == 1
    with pytest.raises(ConnectionRefusedError):  # after the rehearsal, the guard is off
        socket.create_connection(("127.0.0.1", 1), timeout=1)


def put(path: str, properties: dict) -> Sent:
    return Sent(
        "PUT", "management.azure.com", path, "2024-01-01", {"properties": properties}, 1, 200
    )


WORKSPACE = "/subscriptions/s/resourceGroups/g/providers/Microsoft.MachineLearningServices"
MODEL = f"{WORKSPACE}/workspaces/w/models/m"


@pytest.mark.parametrize(
    ("request_", "problem"),
    [
        (put("/jobs/j", {"codeId": "/home/student/kit"}), "codeId is a path on this machine"),
        (put("/jobs/j", {"inputs": {"x": {"uri": "C:\\data"}}}), "inputs.x.uri is a path"),
        (
            put("/onlineEndpoints/e/deployments/d", {"model": MODEL}),
            "not a registered model's version",
        ),
        (put("/batchEndpoints/e/deployments/d", {"model": MODEL + "/versions/1"}), "no compute"),
        # the validator's service rules, on what is sent
        (put("/batchEndpoints/pdf-digits", {}), "has no uniqueness suffix"),
        (put("/environments/env/versions/1", {"image": "mcr.microsoft.com/x:latest"}), "unpinned"),
        (
            put(
                "/onlineEndpoints/e-1234/deployments/blue",
                {
                    "model": MODEL + "/versions/1",
                    "requestSettings": {"maxConcurrentRequestsPerInstance": 4},
                    "environmentVariables": {"WORKER_COUNT": "2"},
                },
            ),
            "2 inference-server workers for 4 concurrent requests",
        ),
        (
            put("/jobs/sweep", {"jobType": "Sweep", "objective": {"primaryMetric": "speed"}}),
            "'speed' is not logged by the training entry point",
        ),
    ],
)
def test_a_rule_broken_in_a_request_is_named(request_, problem):
    (found,) = request_problems([request_])
    assert found.startswith(request_.path) and problem in found


def test_a_request_within_the_rules_passes():
    deployment = {"model": MODEL + "/versions/3", "compute": "cpu-cluster"}
    assert request_problems([put("/batchEndpoints/e/deployments/d", deployment)]) == []
    # metadata is not a location: the SDK records a clone's remote, a local path here
    job = {"properties": {"mlflow.source.git.repoURL": "/home/student/kit"}, "tags": {}}
    assert request_problems([put("/jobs/j", job)]) == []
