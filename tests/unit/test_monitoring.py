"""Reading production back: the collector's sink split into days, in day order."""

import json
import logging

import numpy as np
import pandas as pd
import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.metrics import MetricWrapperBase

from production.monitoring import (
    ServiceMetricsByDay,
    collected_days,
    read_collected,
    request_images,
    wait_for_collected,
)
from production.serving import metrics
from production.serving.collect import JsonLinesSink


def collect(sink, request_id: str, pixels: list[list[int]], labels: list[str]) -> None:
    """Write one request's records the way the collector's local capture does."""
    handler = JsonLinesSink(sink)
    for collection, data in (
        ("model_inputs", [{"pixels": p} for p in pixels]),
        ("model_outputs", [{"label": label, "confidence": 0.9} for label in labels]),
    ):
        args = ("2026-01-01T00:00:00", collection, request_id, json.dumps(data))
        handler.emit(logging.LogRecord("local.capture", logging.INFO, "", 0, "%s", args, None))


def image(value: int) -> list[int]:
    return [value] * (28 * 28)


@pytest.fixture
def sink(tmp_path):
    path = tmp_path / "collected.jsonl"
    # Written out of order, as parallel workers may; one request is not from the replay.
    collect(path, "day-0010-000", [image(10), image(11)], ["1", "1"])
    collect(path, "day-0002-001", [image(3)], ["3"])
    collect(path, "warm-up", [image(99)], ["9"])
    collect(path, "day-0002-000", [image(2)], ["2"])
    return path


def test_days_come_back_in_day_order_with_their_own_images(sink):
    days = collected_days(sink, images=4)
    assert list(days) == [2, 10]
    assert days[2].shape == (2, 28, 28, 1) and days[2].dtype == np.float32
    assert sorted(days[2][:, 0, 0, 0]) == [2, 3]
    assert days[10][:, 0, 0, 0].tolist() == [10, 11]


def test_a_record_still_being_written_is_left_out(sink):
    with sink.open("a") as file:
        file.write('{"time": "2026-01-01T00:00:01", "collection": "model_in')
    assert len(read_collected(sink)) == 5


def test_waiting_for_records_that_never_come_names_what_is_missing(sink):
    with pytest.raises(TimeoutError, match=r"4 of 6 collected images from requests 'day-'"):
        wait_for_collected(sink, 6, "day-", timeout=0.2)


def test_requests_take_their_image_from_the_named_pool():
    traffic = pd.DataFrame({"source": ["foreign", "clean", "clean"], "index": [1, 0, 2]})
    clean, foreign = np.arange(3)[:, None], np.arange(10, 12)[:, None]
    assert [int(x[0]) for x in request_images(traffic, clean, foreign)] == [11, 0, 2]


class MetricsPage:
    """Stands in for the endpoint's metrics page: score.py's own metrics, rendered by
    prometheus-client as the endpoint renders them."""

    def __init__(self):
        self.registry = CollectorRegistry()
        for metric in vars(metrics).values():
            if isinstance(metric, MetricWrapperBase):
                self.registry.register(metric)

    def metrics(self) -> str:
        return generate_latest(self.registry).decode()


def test_each_day_gets_its_own_counts_latency_novel_share_and_alert():
    page = MetricsPage()
    metrics.record(200, 0.001, ["7"])  # before the first day: not one of its requests
    days = ServiceMetricsByDay(page)
    for _ in range(300):  # day 0: 300 single images, 1.5 ms each, none novel
        metrics.record(200, 0.0015, ["1"])
    days.scrape(0)
    metrics.record(400, 0.0001)
    for _ in range(100):  # day 1: 100 requests of 3 images, 3 ms each, 2 of 3 novel
        metrics.record(200, 0.003, ["2", "3", "2"], novel=2)
    days.scrape(1)
    table = days.table()
    assert table[["2xx", "4xx", "5xx", "images", "novel"]].values.tolist() == [
        [300, 0, 0, 300, 0],
        [100, 1, 0, 300, 200],
    ]
    assert table["novel_alert"].tolist() == [False, True]
    # histogram_quantile's interpolation: day 0 within (1, 2] ms, day 1 within (2, 5] ms
    assert table["p99_ms"].tolist() == pytest.approx([1 + 0.99, 2 + 3 * (0.99 * 101 - 1) / 100])
    mix = {label: share for label, share in days.labels().loc[1].items() if share}
    assert mix == pytest.approx({"2": 2 / 3, "3": 1 / 3})  # labels of other days: 0 here


def test_too_few_images_never_alert_however_many_are_novel():
    page = MetricsPage()
    days = ServiceMetricsByDay(page)
    for _ in range(299):
        metrics.record(200, 0.001, ["4"], novel=1)
    days.scrape(0)
    assert days.table()["novel_alert"].tolist() == [False]
