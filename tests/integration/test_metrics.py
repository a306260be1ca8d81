"""The local endpoint's Prometheus metrics: right when several workers share the load."""

import pytest

from data_science.mnist import load_mnist
from production.endpoint import EndpointError, LocalEndpoint
from production.foreign import embedded_digits
from production.monitoring import metric_samples

pytestmark = pytest.mark.integration


def test_every_request_and_image_is_counted_once_across_workers(small_bundle):
    digits = load_mnist("sample").x_test
    foreign = embedded_digits("devanagari").images[::100]  # 30, some flagged as novel
    with LocalEndpoint(small_bundle, workers=2, metrics_port=0) as endpoint:
        before = metric_samples(endpoint.metrics())  # the start-up check's request is one already
        posts = [endpoint.post({"data": digits[i : i + 1].tolist()}) for i in range(12)]
        posts += [endpoint.post({"data": digits[:4].tolist()}) for _ in range(3)]
        posts += [endpoint.post({"data": foreign.tolist()})]
        posts += [endpoint.post({"data": []}) for _ in range(5)]
        after = metric_samples(endpoint.metrics())
    assert [status for status, _ in posts] == [200] * 16 + [400] * 5
    novel = sum(p["novel"] for status, reply in posts[:16] for p in reply["predictions"])

    def added(name: str, **labels) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0) - before.get(key, 0)

    assert added("score_requests_total", status="2xx") == 16
    assert added("score_requests_total", status="4xx") == 5
    assert added("score_latency_seconds_count") == 21
    assert added("score_images_per_request_count") == 16
    assert added("score_images_per_request_sum") == 12 + 3 * 4 + 30
    labels = {dict(key)["label"] for name, key in after if name == "score_predicted_total"}
    assert sum(added("score_predicted_total", label=label) for label in labels) == 54
    assert added("score_novel_total") == novel


def test_an_endpoint_started_without_metrics_says_so(small_bundle):
    with pytest.raises(EndpointError, match="without metrics_port"):
        LocalEndpoint(small_bundle).metrics()
