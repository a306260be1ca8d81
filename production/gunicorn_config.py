"""Gunicorn settings for a local endpoint: the server stops when the process that started it
is gone (a killed notebook kernel, test runner or ``python -m production serve``), so no
server is left holding a port and serving a model nobody watches; and, when
``METRICS_PORT`` is set, the master serves the workers' metrics, added up, on
127.0.0.1:METRICS_PORT for Prometheus to scrape. Read with ``-c`` by
``production.endpoint.LocalEndpoint``.

The master starts no thread before its workers are forked: a thread that is starting up
while the master forks can leave the dynamic loader's lock held in the worker, whose first
``dlopen`` (importing onnxruntime) then waits forever. The watch runs on a timer signal in
the master's own thread instead, and the metrics thread starts once every worker is forked.
"""

import os
import signal

WATCH_INTERVAL_S = 0.5


def when_ready(server):
    """In the master process, once it listens: check every WATCH_INTERVAL_S for the parent's
    end (an orphan is adopted by another process) and, once, start serving metrics. The
    parent is the one named at the start: it may be gone already."""
    parent = int(os.environ.get("SERVER_PARENT_PID", os.getppid()))
    metrics_port = os.environ.get("METRICS_PORT")

    def tick(signum, frame):
        nonlocal metrics_port
        if os.getppid() != parent:
            server.log.info("the process that started this server is gone: stopping")
            os.kill(os.getpid(), signal.SIGTERM)  # gunicorn's graceful stop, workers included
        elif metrics_port and len(server.WORKERS) >= server.num_workers:
            serve_metrics(int(metrics_port))
            metrics_port = None

    signal.signal(signal.SIGALRM, tick)
    signal.setitimer(signal.ITIMER_REAL, WATCH_INTERVAL_S, WATCH_INTERVAL_S)  # not inherited


def post_fork(server, worker):
    """In a new worker: the master's timer handler is not the worker's business."""
    signal.signal(signal.SIGALRM, signal.SIG_DFL)


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
