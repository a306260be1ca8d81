"""Production, replayed: simulated days of traffic sent to the endpoint and collected back.

Each day's requests go to the local endpoint (the bundle's score.py) with a request id that
names the day; the data collector records what the model saw and said under that id, and
the monitoring reads its sink back day by day, as a monitoring job reads the collected
data in the cloud.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from production.collect import wait_for_collected
from production.endpoint import EndpointError, LocalEndpoint

REQUEST_PREFIX = "day-"  # request ids are day-<day>-<batch>


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
