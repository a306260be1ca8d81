"""Production, replayed: simulated days of traffic sent to the endpoint and collected back.

Each day's requests go to the local endpoint (the bundle's score.py) with a request id that
names the day; the data collector records what the model saw and said under that id, and
the monitoring reads its sink back day by day, as a monitoring job reads the collected
data in the cloud.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from production.endpoint import EndpointError, LocalEndpoint

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


def wait_for_collected(
    sink: str | Path, images: int, request_prefix: str = "", timeout: float = 30.0
) -> pd.DataFrame:
    """``read_collected`` once the sink holds ``images`` images (inputs and outputs) from
    requests whose id starts with ``request_prefix``. The collector writes from a
    background worker, so records arrive a little after the replies."""
    deadline, found = time.monotonic() + timeout, 0
    while time.monotonic() < deadline:
        if Path(sink).exists():
            collected = read_collected(sink)
            found = int(collected["correlation_id"].str.startswith(request_prefix).sum())
            if found >= images:
                return collected
        time.sleep(0.05)
    raise TimeoutError(
        f"{sink}: {found} of {images} collected images from requests {request_prefix!r}… "
        f"after {timeout:.0f} s; is collection enabled?"
    )


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
) -> pd.DataFrame:
    """Send every day's requests to the endpoint; return ``traffic`` with the predictions."""
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
