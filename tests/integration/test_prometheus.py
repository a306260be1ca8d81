"""A real Prometheus scrapes the local endpoint: what it reads back is what was sent.

Needs the distribution's prometheus binary (Debian/Ubuntu: apt-get install prometheus;
macOS: brew install prometheus); skipped without it. It listens on 127.0.0.1 only."""

import json
import shutil
import subprocess
import time
import urllib.parse
import urllib.request

import pandas as pd
import pytest
import yaml

from data_science.mnist import load_mnist
from production.endpoint import LocalEndpoint, free_port
from production.monitoring import histogram_quantile, metric_samples, poll

pytestmark = pytest.mark.integration
GOOD, BAD = 12, 3


@pytest.fixture
def prometheus(tmp_path):
    """``start(target_port)``: the query URL of a Prometheus scraping 127.0.0.1:target_port
    every second."""
    if shutil.which("prometheus") is None:
        pytest.skip("prometheus is not installed (apt-get install prometheus)")
    servers = []

    def start(target_port: int) -> str:
        config = {
            "global": {"scrape_interval": "1s"},
            "scrape_configs": [
                {
                    "job_name": "digits-endpoint",
                    "static_configs": [{"targets": [f"127.0.0.1:{target_port}"]}],
                }
            ],
        }
        (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
        address = f"127.0.0.1:{free_port()}"
        command = ["prometheus", f"--config.file={tmp_path / 'prometheus.yml'}"]
        command += [f"--web.listen-address={address}", f"--storage.tsdb.path={tmp_path}/data"]
        log = (tmp_path / "prometheus.log").open("w")
        servers.append(subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT))
        return f"http://{address}"

    yield start
    for server in servers:
        server.terminate()
        server.wait(timeout=30)


def query(url: str, promql: str) -> float | None:
    """The value of a PromQL expression now, or None while Prometheus has no answer."""
    address = f"{url}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
    try:
        with urllib.request.urlopen(address, timeout=5) as response:
            result = json.load(response)["data"]["result"]
    except OSError:  # not listening yet
        return None
    return float(result[0]["value"][1]) if result else None


def wait_for(url: str, promql: str, expected: float, timeout: float = 60) -> float | None:
    """The expression's value once it reaches ``expected`` (scrapes are a second apart), or
    its last value at the timeout."""
    return poll(lambda: query(url, promql), lambda value: value == expected, timeout)


def test_prometheus_reads_back_the_requests_errors_and_latency_sent(small_bundle, prometheus):
    digits = load_mnist("sample").x_test
    with LocalEndpoint(small_bundle, metrics_port=0) as endpoint:
        url = prometheus(endpoint.metrics_port)
        assert wait_for(url, 'up{job="digits-endpoint"}', 1) == 1, "never scraped"
        started = query(url, 'sum(score_requests_total{status="2xx"})')  # the start-up check
        round_trips = []
        for i in range(GOOD):
            sent = time.perf_counter()
            assert endpoint.post({"data": digits[i : i + 1].tolist()})[0] == 200
            round_trips.append(time.perf_counter() - sent)
        assert [endpoint.post({"data": []})[0] for _ in range(BAD)] == [400] * BAD
        good = wait_for(url, 'sum(score_requests_total{status="2xx"})', started + GOOD)
        bad = wait_for(url, 'sum(score_requests_total{status="4xx"})', BAD)
        median = query(url, "histogram_quantile(0.5, sum by (le) (score_latency_seconds_bucket))")
        exported = latency_buckets(endpoint.metrics())
    assert (good, bad) == (started + GOOD, BAD)
    # Prometheus's median is the one the endpoint's own buckets give, and a real latency
    assert median == pytest.approx(histogram_quantile(0.5, exported))
    assert 0 < median < max(round_trips) + 0.005  # within a bucket of the slowest trip


def latency_buckets(page: str) -> pd.Series:
    """The latency histogram's cumulative counts by upper bound, from a metrics page."""
    counts = {
        float(dict(labels)["le"]): value
        for (name, labels), value in metric_samples(page).items()
        if name == "score_latency_seconds_bucket"
    }
    return pd.Series(counts).sort_index()
