"""Production, replayed: simulated days of traffic sent to the endpoint and collected back.

Each day's requests go to the local endpoint (the bundle's score.py) with a request id that
names the day; the data collector records what the model saw and said under that id, and
the monitoring reads its sink back day by day, as a monitoring job reads the collected
data in the cloud.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from production.endpoint import EndpointError, LocalEndpoint

T = TypeVar("T")
REQUEST_PREFIX = "day-"  # request ids are day-<day>-<batch>


def read_collected(sink: str | Path) -> pd.DataFrame:
    """The local sink as one row per image: request time and id, pixels and prediction.

    A last line without its newline is a record still being written, and is left out.
    """
    *complete, _being_written = Path(sink).read_text(encoding="utf-8").split("\n")
    records = [json.loads(line) for line in complete]
    frames = {}
    for collection in ("model_inputs", "model_outputs"):
        rows = [
            {"time": r["time"], "correlation_id": r["correlation_id"], "position": i, **item}
            for r in records
            if r["collection"] == collection
            for i, item in enumerate(r["data"])
        ]
        frames[collection] = pd.DataFrame(rows)
    if any(frame.empty for frame in frames.values()):
        return pd.DataFrame(columns=["time", "correlation_id", "position", "pixels", "label"])
    # one request's inputs and outputs are stamped by two calls: their times may differ
    outputs = frames["model_outputs"].drop(columns="time")
    return frames["model_inputs"].merge(outputs, on=["correlation_id", "position"])


def poll(read: Callable[[], T], done: Callable[[T], bool], timeout: float) -> T:
    """Call ``read`` every 50 ms until ``done`` holds for what it returned, and return that;
    at ``timeout`` seconds, return what it returned last. For what arrives in the
    background: collected records, a Prometheus scrape."""
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if done(value) or time.monotonic() >= deadline:
            return value
        time.sleep(0.05)


def wait_for_collected(
    sink: str | Path, images: int, request_prefix: str = "", timeout: float = 30.0
) -> pd.DataFrame:
    """``read_collected`` once the sink holds ``images`` images (inputs and outputs) from
    requests whose id starts with ``request_prefix``. The collector writes from a
    background worker, so records arrive a little after the replies."""

    def found(collected: pd.DataFrame | None) -> int:
        if collected is None:
            return 0
        return int(collected["correlation_id"].str.startswith(request_prefix).sum())

    def read() -> pd.DataFrame | None:
        return read_collected(sink) if Path(sink).exists() else None

    collected = poll(read, lambda collected: found(collected) >= images, timeout)
    if found(collected) < images:
        raise TimeoutError(
            f"{sink}: {found(collected)} of {images} collected images from requests "
            f"{request_prefix!r}… after {timeout:.0f} s; is collection enabled?"
        )
    return collected


def request_images(traffic: pd.DataFrame, clean: np.ndarray, foreign: np.ndarray) -> list:
    """The raw image of every simulated request, in traffic order (sizes may differ: the
    endpoint normalises every image)."""
    pools = {"clean": clean, "foreign": foreign}
    requests = zip(traffic["source"], traffic["index"], strict=True)
    return [pools[source][index] for source, index in requests]


def replay(
    endpoint: LocalEndpoint,
    traffic: pd.DataFrame,
    clean: np.ndarray,
    foreign: np.ndarray,
    batch_size: int = 100,
    after_day: Callable[[int], None] | None = None,
) -> pd.DataFrame:
    """Send every day's requests to the endpoint; return ``traffic`` with the predictions.
    ``after_day(day)`` is called once each day's requests are answered."""
    images = request_images(traffic, clean, foreign)
    predicted = np.empty(len(traffic), object)
    for day, rows in tqdm(traffic.groupby("day", sort=True).indices.items(), desc="days"):
        for batch, start in enumerate(range(0, len(rows), batch_size)):
            chunk = rows[start : start + batch_size]
            body = {"data": [images[i].tolist() for i in chunk]}
            request_id = f"{REQUEST_PREFIX}{day:04d}-{batch:03d}"
            status, reply = endpoint.post(body, request_id=request_id)
            if status != 200:
                raise EndpointError(f"day {day}: the endpoint answered {status}: {reply}")
            predicted[chunk] = [p["label"] for p in reply["predictions"]]
        if after_day:
            after_day(day)
    return traffic.assign(predicted=predicted.astype(int))


def collected_days(sink: str | Path, images: int, timeout: float = 60) -> dict[int, np.ndarray]:
    """The collected model inputs of each replayed day, as (N, 28, 28, 1) float32 arrays,
    once the sink holds all ``images`` replayed images (the collector writes them from a
    background worker)."""
    collected = wait_for_collected(sink, images, REQUEST_PREFIX, timeout)
    replayed = collected[collected["correlation_id"].str.startswith(REQUEST_PREFIX)]
    days = replayed["correlation_id"].str.split("-").str[1].astype(int)
    return {
        int(day): np.stack(rows["pixels"].to_numpy()).reshape(-1, 28, 28, 1).astype(np.float32)
        for day, rows in replayed.groupby(days, sort=True)
    }


# The NovelInputs rule of production/observability/alerts.yml, evaluated here per day.
NOVEL_ALERT_SHARE = 0.03
NOVEL_ALERT_MIN_IMAGES = 300


def metric_samples(page: str) -> dict[tuple[str, tuple], float]:
    """Every sample of a Prometheus metrics page, by name and sorted labels."""
    from prometheus_client.parser import text_string_to_metric_families

    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(page)
        for sample in family.samples
    }


class ServiceMetricsByDay:
    """The endpoint's own metrics page, read after each replayed day as Prometheus would
    scrape it, and turned into each day's figures: what the dashboard's panels show."""

    def __init__(self, endpoint: LocalEndpoint):
        self.endpoint = endpoint
        self.before = self._read()  # what the endpoint counted before the first day
        self.pages: dict[int, dict[tuple[str, tuple], float]] = {}

    def scrape(self, day: int) -> None:
        self.pages[day] = self._read()

    def _read(self) -> dict[tuple[str, tuple], float]:
        return metric_samples(self.endpoint.metrics())

    def _daily(self, name: str, **labels) -> pd.Series:
        """Each day's increase of one counter."""
        key = (name, tuple(sorted(labels.items())))
        totals = pd.Series({day: page.get(key, 0.0) for day, page in self.pages.items()})
        return totals.diff().fillna(totals - self.before.get(key, 0.0)).rename_axis("day")

    def table(self) -> pd.DataFrame:
        """Per day: requests by status class, images, images flagged novel (and their share,
        and whether the NovelInputs alert fires), and the 99th percentile of run()."""
        table = pd.DataFrame({
            status: self._daily("score_requests_total", status=status)
            for status in ("2xx", "4xx", "5xx")
        })  # fmt: skip
        table["images"] = self._daily("score_images_per_request_sum")
        table["novel"] = self._daily("score_novel_total")
        table["novel_share"] = table["novel"] / table["images"]
        table["novel_alert"] = (table["novel_share"] > NOVEL_ALERT_SHARE) & (
            table["images"] >= NOVEL_ALERT_MIN_IMAGES
        )
        table["p99_ms"] = self.latency_quantile(0.99) * 1000
        return table

    def labels(self) -> pd.DataFrame:
        """Per day, the share of images predicted as each label."""
        names = sorted({dict(key)["label"] for page in self.pages.values() for name, key in page
                        if name == "score_predicted_total"})  # fmt: skip
        counts = pd.DataFrame({n: self._daily("score_predicted_total", label=n) for n in names})
        return counts.div(counts.sum(axis=1), axis=0)

    def latency_quantile(self, q: float) -> pd.Series:
        """Each day's ``q`` quantile of run()'s latency from the histogram's buckets,
        interpolated within a bucket as Prometheus's ``histogram_quantile`` does."""
        bounds = sorted(
            {dict(key)["le"] for page in self.pages.values() for name, key in page
             if name == "score_latency_seconds_bucket"},
            key=float,
        )  # fmt: skip
        counts = pd.DataFrame({
            float(bound): self._daily("score_latency_seconds_bucket", le=bound) for bound in bounds
        })  # fmt: skip
        return counts.apply(lambda day: histogram_quantile(q, day), axis=1)


def histogram_quantile(q: float, cumulative: pd.Series) -> float:
    """The ``q`` quantile from cumulative bucket counts indexed by upper bound (the last
    +Inf), interpolated within its bucket as Prometheus's ``histogram_quantile`` does."""
    total = cumulative.iloc[-1]
    if total <= 0:
        return np.nan
    rank, lower, below = q * total, 0.0, 0.0
    for bound, count in cumulative.items():
        if count >= rank:
            if bound == np.inf:
                return lower  # beyond the last finite bucket: its bound, as Prometheus says
            return lower + (bound - lower) * (rank - below) / (count - below)
        lower, below = bound, count
    return lower
