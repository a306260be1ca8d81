"""The local endpoint under faults, measured: loopback only, bounded in count and time.

    python benchmarks/serve_faults.py BUNDLE [--clients 16] [--seconds 10]

BUNDLE is a folder written by ``python -m production bundle`` (or by notebook 05). One
gunicorn worker serves it on 127.0.0.1 for each fault in turn:
- overload: ``--clients`` concurrent clients for ``--seconds``: how many requests got a 200
  (any other status is printed), throughput and p50/p99; then the collected records
  against the answered requests, one for one by request id (nothing lost);
- a worker killed (SIGKILL) under load from 4 clients: the requests that failed, and how
  long until 200s resumed (targets: only in-flight requests fail, recovery <= 5 s);
- the collector's sink unwritable (/dev/full, every write fails as on a full disk): the
  statuses of 100 requests, and what the server logged about it.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from production.endpoint import LocalEndpoint
from production.load import concurrent_load, kill_a_worker_under_load
from production.monitoring import wait_for_collected


def overload(bundle: Path, body: dict, clients: int, seconds: float, scratch: Path) -> None:
    sink = scratch / "overload.jsonl"
    with LocalEndpoint(bundle, workers=1, collect_to=sink) as endpoint:
        load = concurrent_load(endpoint, body, clients, seconds, prefix="overload")
        answered = set(load.requests.loc[load.requests["status"] == 200, "request_id"])
        collected = wait_for_collected(sink, len(answered), "overload-", timeout=60)
    ids = collected["correlation_id"]
    ids = set(ids[ids.str.startswith("overload-")])
    print(f"overload, {clients} clients for {seconds:g} s, one worker: {load.summary()}")
    print(
        f"  collected {len(ids)} requests for {len(answered)} answered: "
        f"{len(answered - ids)} answered but not collected, {len(ids - answered)} collected "
        "but not answered"
    )


def killed_worker(bundle: Path, body: dict) -> None:
    with LocalEndpoint(bundle, workers=1) as endpoint:
        outage = kill_a_worker_under_load(endpoint, body, clients=4, seconds=10)
    requests = outage.load.requests
    statuses = requests.loc[requests["status"] != 200, "status"].value_counts().to_dict()
    print(
        f"worker killed under load (4 clients): {outage.failed} of {len(requests)} requests "
        f"failed (statuses {statuses}); 200s resumed {outage.recovery_s:.2f} s after the kill"
    )


def unwritable_sink(bundle: Path, body: dict, scratch: Path) -> None:
    log = scratch / "full-sink.log"
    with LocalEndpoint(bundle, workers=1, collect_to="/dev/full", log_file=log) as endpoint:
        statuses = [endpoint.post(body)[0] for _ in range(100)]
    lines = [line for line in log.read_text().splitlines() if "model data collection" in line]
    counts = {status: statuses.count(status) for status in sorted(set(statuses))}
    print(f"sink on /dev/full: statuses of 100 requests {counts}")
    for line in lines:
        print(f"  logged: {line}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("bundle", type=Path)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args()
    body = json.loads((args.bundle / "sample-request.json").read_text())
    body = {"data": body["data"][:1]}
    scratch = Path(tempfile.mkdtemp())
    overload(args.bundle, body, args.clients, args.seconds, scratch)
    killed_worker(args.bundle, body)
    if Path("/dev/full").exists():
        unwritable_sink(args.bundle, body, scratch)


if __name__ == "__main__":
    main()
