"""Reading production back: the collector's sink split into days, in day order."""

import json
import logging

import numpy as np
import pandas as pd
import pytest

from production.monitoring import collected_days, read_collected, request_images, wait_for_collected
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
