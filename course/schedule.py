"""Running notebooks side by side: each starts once the notebooks it needs have finished.

A notebook names what it needs in its metadata (``"course": {"needs": ["01"]}``): the
notebooks whose results it reads (a champion in the registry, collected requests) or whose
MLflow store it writes to. Up to ``jobs`` run at once, started in course order; a notebook
that measures speed says so (``"alone": true``) and runs with nothing beside it.
"""

import os
import signal
import subprocess
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from typing import Protocol, TypeVar

from course.report import NotebookResult, Status


class Scheduled(Protocol):
    name: str
    prefix: str
    needs: tuple[str, ...]
    alone: bool  # nothing runs beside it (its timings would measure the neighbour too)


class Children:
    """The notebooks' child processes, so that Ctrl-C can end every one of them."""

    def __init__(self) -> None:
        self._running: set[subprocess.Popen] = set()
        self._lock = threading.Lock()

    def add(self, child: subprocess.Popen) -> None:
        with self._lock:
            self._running.add(child)

    def discard(self, child: subprocess.Popen) -> None:
        with self._lock:
            self._running.discard(child)

    def kill_all(self) -> None:
        with self._lock:
            for child in self._running:
                if child.poll() is None:
                    os.killpg(child.pid, signal.SIGKILL)  # each leads a session of its own


CHILDREN = Children()
N = TypeVar("N", bound=Scheduled)


def run_when_ready(
    notebooks: Sequence[N],
    run: Callable[[N], NotebookResult],
    skip: Callable[[N, str], NotebookResult],
    jobs: int = 1,
    keep_going: bool = False,
    on_result: Callable[[NotebookResult], None] | None = None,
) -> list[NotebookResult]:
    """Each notebook's result, in course order. A need outside ``notebooks`` counts as met
    (the runner has checked the run folder for it). A notebook whose need failed or was
    skipped is skipped, with that reason; without ``keep_going``, after a failure every
    notebook not yet started is skipped; those running finish."""
    selected = {notebook.prefix for notebook in notebooks}
    results: dict[str, NotebookResult] = {}
    pending, running = list(notebooks), {}

    def finish(notebook: N, result: NotebookResult) -> None:
        results[notebook.prefix] = result
        if on_result:
            on_result(result)

    with ThreadPoolExecutor(max(1, jobs)) as pool:
        try:
            while pending or running:
                for notebook in list(pending):
                    reason = _skip_reason(notebook, results, keep_going)
                    if reason:
                        finish(notebook, skip(notebook, reason))
                    elif (
                        set(notebook.needs) & selected - set(results)
                        or len(running) >= jobs
                        or (running and (notebook.alone or any(n.alone for n in running.values())))
                    ):
                        continue
                    else:
                        running[pool.submit(run, notebook)] = notebook
                    pending.remove(notebook)
                done, _ = wait(list(running), return_when=FIRST_COMPLETED)
                for future in done:
                    finish(running.pop(future), future.result())
        except KeyboardInterrupt:
            CHILDREN.kill_all()
            raise
    return [results[notebook.prefix] for notebook in notebooks]


def _skip_reason(
    notebook: Scheduled, results: dict[str, NotebookResult], keep_going: bool
) -> str | None:
    failed = [result.name for result in results.values() if result.failed]
    if failed and not keep_going:
        return f"{failed[0]} failed (--keep-going runs the rest)"
    done = [results[need] for need in notebook.needs if need in results]
    unmet = [result.name for result in done if result.failed or result.status == Status.SKIPPED]
    return f"needs {', '.join(unmet)}, which did not run to its end" if unmet else None
