"""A local endpoint never outlives whoever started it: stopped by a signal, or by the death
of its parent process, the whole server goes and its port is free within 5 s; and it does
not hang at start-up."""

import signal
import socket
import subprocess
import sys
import time

import psutil
import pytest

from production.endpoint import free_port
from production.monitoring import poll

pytestmark = pytest.mark.integration
GONE_WITHIN_S = 5


def port_open(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def serve_command(bundle, port: int) -> list[str]:
    return [sys.executable, "-m", "production", "serve", str(bundle), "--port", str(port)]


def start_serve(bundle, port: int) -> tuple[subprocess.Popen, list[psutil.Process]]:
    """``python -m production serve`` in the background, once it answers; with the server
    processes it started (gunicorn's master and worker)."""
    serve = subprocess.Popen(serve_command(bundle, port), stdout=subprocess.PIPE, text=True)
    assert "served at" in serve.stdout.readline()  # printed once a scoring request succeeded
    return serve, psutil.Process(serve.pid).children(recursive=True)


def assert_all_gone(server: list[psutil.Process], port: int) -> None:
    _, alive = psutil.wait_procs(server, timeout=GONE_WITHIN_S)
    assert not alive, f"still running: {[p.pid for p in alive]}"
    assert not port_open(port)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_serve_stops_its_whole_server_on_a_signal(small_bundle, signum):
    port = free_port()
    serve, server = start_serve(small_bundle, port)
    assert len(server) >= 2 and port_open(port)  # master and worker
    serve.send_signal(signum)
    assert serve.wait(timeout=GONE_WITHIN_S) == 0
    assert_all_gone(server, port)


def test_the_server_stops_when_its_parent_is_killed(small_bundle):
    port = free_port()
    serve, server = start_serve(small_bundle, port)
    serve.kill()  # SIGKILL: no handler runs, as when a notebook kernel is killed
    serve.wait()
    started = time.monotonic()
    assert_all_gone(server, port)
    assert time.monotonic() - started < GONE_WITHIN_S


def test_the_server_stops_when_its_parent_dies_before_it_is_ready(small_bundle):
    port = free_port()
    serve = subprocess.Popen(serve_command(small_bundle, port), stdout=subprocess.DEVNULL)
    # gunicorn's master has started, not yet listening
    started = poll(psutil.Process(serve.pid).children, bool, timeout=30)
    assert started, "serve started no server"
    serve.kill()
    serve.wait()
    _, alive = psutil.wait_procs(started, timeout=15)  # it loads, forks, then sees it
    assert not alive
    assert not port_open(port)


def test_the_master_runs_no_thread_that_a_fork_could_meet(small_bundle):
    """A thread starting up while gunicorn forks a worker can leave the loader's lock held
    in the worker, stuck for good in its first dlopen: the master keeps to one thread (no
    control socket; the parent watch runs on a timer)."""
    serve, server = start_serve(small_bundle, free_port())
    master = next(process for process in server if process.ppid() == serve.pid)
    threads = master.num_threads()
    serve.terminate()
    serve.wait(timeout=GONE_WITHIN_S)
    assert threads == 1
