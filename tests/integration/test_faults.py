"""The local endpoint under faults, bounded in count and time: more clients than workers,
a worker killed under load. (An unwritable collector sink: tests/integration/test_endpoint.py.)"""

import pytest

from data_science.mnist import load_mnist
from production.endpoint import LocalEndpoint
from production.load import concurrent_load, kill_a_worker_under_load
from production.monitoring import wait_for_collected

pytestmark = pytest.mark.integration
BODY = {"data": load_mnist("sample").x_test[:1].tolist()}


def test_overload_answers_every_request_and_collects_each_one_once(small_bundle, tmp_path):
    sink = tmp_path / "collected.jsonl"
    with LocalEndpoint(small_bundle, workers=1, collect_to=sink) as endpoint:
        load = concurrent_load(endpoint, BODY, clients=8, seconds=3, prefix="overload")
        answered = load.requests.loc[load.requests["status"] == 200, "request_id"]
        assert len(answered) == len(load.requests) > 8  # every request got a 200
        collected = wait_for_collected(sink, len(answered), "overload-", timeout=30)
    ids = collected.loc[collected["correlation_id"].str.startswith("overload-"), "correlation_id"]
    assert sorted(ids) == sorted(answered)  # one record per answered request, none lost


def test_a_killed_worker_is_replaced_and_only_its_requests_fail(small_bundle):
    with LocalEndpoint(small_bundle, workers=1) as endpoint:
        outage = kill_a_worker_under_load(endpoint, BODY, clients=4, seconds=8, after=1.5)
    statuses = set(outage.load.requests["status"])
    assert statuses <= {0, 200, 500, 502, 503}
    assert outage.failed <= 4  # at most the one in flight per client
    assert outage.recovery_s < 5, f"200s resumed {outage.recovery_s:.1f} s after the kill"
