"""Load on a local endpoint: one client for latency and throughput, many for faults.

In a concurrent load each client is a thread sending one request after another, every
request with its own id (``x-request-id``, which the data collector records), until the
time is up. What comes back is kept per request: its id, when it was sent, its status (0
when the connection failed) and its latency.
"""

from __future__ import annotations

import http.client
import json
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import psutil

from production.endpoint import EndpointError, LocalEndpoint


@dataclass(frozen=True)
class Load:
    """Every request of one load: id, start (s since the load began), status, latency (ms)."""

    requests: pd.DataFrame
    seconds: float

    def summary(self) -> dict:
        answered = self.requests[self.requests["status"] == 200]
        return {
            "requests": len(self.requests),
            "200": len(answered),
            "other statuses": self.requests.loc[self.requests["status"] != 200, "status"]
            .value_counts()
            .to_dict(),
            "req/s (200)": len(answered) / self.seconds,
            "p50 ms": float(np.percentile(answered["latency_ms"], 50)) if len(answered) else None,
            "p99 ms": float(np.percentile(answered["latency_ms"], 99)) if len(answered) else None,
        }


def _send(port: int, payload: bytes, request_id: str, timeout: float) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        headers = {"Content-Type": "application/json", "x-request-id": request_id}
        connection.request("POST", "/score", payload, headers)
        response = connection.getresponse()
        response.read()
        return response.status
    except (OSError, http.client.HTTPException):
        return 0  # refused, reset or timed out: no answer
    finally:
        connection.close()


def sequential_load(endpoint: LocalEndpoint, body: dict, requests: int) -> dict[str, float]:
    """One client sending ``body`` ``requests`` times, one after another: req/s and latency
    p50/p99 in milliseconds. Any answer but 200 stops it with an error."""
    payload = json.dumps(body).encode()
    latencies = []
    started = time.perf_counter()
    for number in range(requests):
        begin = time.perf_counter()
        status = _send(endpoint.port, payload, f"sequential-{number:05d}", timeout=30)
        latencies.append((time.perf_counter() - begin) * 1000)
        if status != 200:
            raise EndpointError(f"load test request failed with status {status}")
    return {
        "req/s": requests / (time.perf_counter() - started),
        "p50 ms": float(np.percentile(latencies, 50)),
        "p99 ms": float(np.percentile(latencies, 99)),
    }


def concurrent_load(
    endpoint: LocalEndpoint,
    body: dict,
    clients: int = 16,
    seconds: float = 10,
    prefix: str = "load",
    timeout: float = 30,
    during=None,
) -> Load:
    """``clients`` threads send ``body`` for ``seconds``; ``during(load_started)`` (if given)
    runs in the calling thread meanwhile, to inject a fault."""
    payload = json.dumps(body).encode()
    rows: list[tuple] = []
    lock = threading.Lock()
    started = time.monotonic()
    deadline = started + seconds

    def client(number: int) -> None:
        sent = 0
        while time.monotonic() < deadline:
            request_id = f"{prefix}-{number:02d}-{sent:05d}"
            begin = time.monotonic()
            status = _send(endpoint.port, payload, request_id, timeout)
            row = (request_id, begin - started, status, (time.monotonic() - begin) * 1000)
            with lock:
                rows.append(row)
            sent += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    if during:
        during(started)
    for thread in threads:
        thread.join()
    columns = ["request_id", "sent_s", "status", "latency_ms"]
    requests = pd.DataFrame(rows, columns=columns).sort_values("sent_s", ignore_index=True)
    return Load(requests, time.monotonic() - started)


@dataclass(frozen=True)
class Outage:
    """A worker killed under load: the load, when the kill came, what it cost."""

    load: Load
    killed_at_s: float  # since the load began
    failed: int  # requests without a 200
    recovery_s: float  # from the kill to the first 200 of a request sent after it


def kill_a_worker_under_load(
    endpoint: LocalEndpoint, body: dict, clients: int = 4, seconds: float = 8, after: float = 2
) -> Outage:
    """``clients`` send ``body`` for ``seconds``; ``after`` seconds in, one of the
    endpoint's workers is killed with SIGKILL, as the out-of-memory killer does."""
    killed = {}

    def kill(started: float) -> None:
        time.sleep(after)
        worker = psutil.Process(endpoint.process.pid).children()[0]
        killed["at"] = time.monotonic() - started
        worker.send_signal(signal.SIGKILL)

    load = concurrent_load(endpoint, body, clients, seconds, prefix="outage", during=kill)
    requests = load.requests
    answered_after = requests[(requests["sent_s"] > killed["at"]) & (requests["status"] == 200)]
    back = (answered_after["sent_s"] + answered_after["latency_ms"] / 1000).min()
    failed = int((requests["status"] != 200).sum())
    return Outage(load, killed["at"], failed, float(back - killed["at"]))


def compare_servers(
    bundles: dict[str, Path], images, labels, baseline: Path | None = None, requests: int = 200
) -> pd.DataFrame:
    """Each bundle served in turn by one worker: its accuracy on ``images`` and agreement
    with the first bundle's answers, latency p50/p99 and req/s for single images, and
    images/s in batches of 64; the same load figures for a ``baseline`` bundle whose run()
    does no work (``production.bundle.baseline_bundle``), as the last row."""
    rows, first = {}, None
    for name, bundle in {**bundles, "do-nothing run()": baseline}.items():
        if bundle is None:
            continue
        with LocalEndpoint(bundle, workers=1) as endpoint:
            answers = None if bundle == baseline else np.array(endpoint.predict_labels(images))
            single = sequential_load(endpoint, {"data": images[:1].tolist()}, requests)
            batch = sequential_load(
                endpoint, {"data": images[:64].tolist()}, max(10, requests // 10)
            )
        first = answers if first is None else first
        rows[name] = {
            "accuracy": np.nan if answers is None else (answers == labels.astype(str)).mean(),
            "agrees with first": np.nan if answers is None else (answers == first).mean(),
            "p50 ms": single["p50 ms"],
            "p99 ms": single["p99 ms"],
            "req/s": single["req/s"],
            "images/s in batches of 64": 64 * batch["req/s"],
        }
    return pd.DataFrame(rows).T
