"""Gunicorn settings for a local endpoint: the server stops when the process that started it
is gone (a killed notebook kernel, test runner or ``python -m production serve``), so no
server is left holding a port and serving a model nobody watches. Read with ``-c`` by
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
