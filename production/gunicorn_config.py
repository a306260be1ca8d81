"""Gunicorn settings for a local endpoint: the server stops when the process that started it
is gone (a killed notebook kernel, test runner or ``python -m production serve``), so no
server is left holding a port and serving a model nobody watches; and, when
``METRICS_PORT`` is set, the master serves the workers' metrics, added up, on
127.0.0.1:METRICS_PORT for Prometheus to scrape. Read with ``-c`` by
``production.endpoint.LocalEndpoint``."""

import os
import signal
import threading
import time

WATCH_INTERVAL_S = 0.5


def when_ready(server):
    """In the master process, once it listens: a thread that watches for the parent's end."""
    parent = os.getppid()

    def watch():
        while os.getppid() == parent:  # an orphan is adopted by another process
            time.sleep(WATCH_INTERVAL_S)
        server.log.info("the process that started this server is gone: stopping")
        os.kill(os.getpid(), signal.SIGTERM)  # gunicorn's graceful stop, workers included

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()
    if os.environ.get("METRICS_PORT"):
        serve_metrics(int(os.environ["METRICS_PORT"]))


def serve_metrics(port: int) -> None:
    """The workers' metrics files (PROMETHEUS_MULTIPROC_DIR) added up, over HTTP."""
    from prometheus_client import CollectorRegistry, multiprocess, start_http_server

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    start_http_server(port, addr="127.0.0.1", registry=registry)


def child_exit(server, worker):
    """A worker that is gone: its live gauges no longer count (its counters still do)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
