"""Running notebooks side by side: each starts once the notebooks it needs have finished.

A notebook names what it needs in its metadata (``"course": {"needs": ["01"]}``): the
notebooks whose results it reads (a champion in the registry, collected requests) or whose
MLflow store it writes to. Up to ``jobs`` run at once, started in course order.
"""

import os
import signal
import subprocess
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from typing import Protocol, TypeVar

from course.report import NotebookResult


class Scheduled(Protocol):
    name: str
    prefix: str
    needs: tuple[str, ...]


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
    skip: Callable[[N], NotebookResult],
    jobs: int = 1,
    keep_going: bool = False,
    on_result: Callable[[NotebookResult], None] | None = None,
) -> list[NotebookResult]:
    """Each notebook's result, in course order. A need outside ``notebooks`` (a partial run)
    counts as met. Without ``keep_going``, after a failure the notebooks not yet started are
    skipped; those running finish."""
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
                stopping = not keep_going and any(r.failed for r in results.values())
                for notebook in list(pending):
                    waiting = set(notebook.needs) & selected - set(results)
                    if stopping:
                        finish(notebook, skip(notebook))
                    elif waiting or len(running) >= jobs:
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
