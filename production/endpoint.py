"""A local endpoint: the Azure ML inference server running a bundle on 127.0.0.1.

This is the server that runs inside a managed online endpoint's container. Its own
``azmlinfsrv`` command binds 0.0.0.0; here gunicorn runs the same app bound to loopback,
with the environment variables Azure ML would set.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

APP = "azureml_inference_server_http.server.entry:app"
GUNICORN_CONFIG = Path(__file__).with_name("gunicorn_config.py")  # stops with its parent
# The server's own settings, here and in the deployment. Gunicorn's control socket (for its
# gunicornc client, unused here) runs a thread in the master that is stopped and restarted
# around every fork of a worker: a fork that meets it starting up can leave the worker
# stuck in its first dlopen, never ready.
SERVER_VARIABLES = {"GUNICORN_CMD_ARGS": "--no-control-socket"}


class EndpointError(RuntimeError):
    """The local endpoint did not come up, or did not answer as it should."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def served_model_dir(bundle: str | Path) -> Path:
    """The bundle's model/<name>/<version>/ folder, the one holding model.onnx."""
    return next(Path(bundle).glob("model/*/*/model.onnx")).parent


def served_model_info(bundle: str | Path) -> dict:
    """The bundle's model-info.json: the model's name, version and served precision."""
    return json.loads((served_model_dir(bundle) / "model-info.json").read_text())


def server_environment(bundle: Path, collect_to: Path | None = None) -> dict[str, str]:
    """What Azure ML sets for a deployment, pointed at the bundle's folders."""
    code = (bundle / "code").resolve()
    env = {
        **os.environ,
        **SERVER_VARIABLES,
        "AZUREML_MODEL_DIR": str(served_model_dir(bundle).resolve()),
        "AZUREML_ENTRY_SCRIPT": str(code / "score.py"),
        "AML_APP_ROOT": str(code),
        "PYTHONPATH": str(code),  # the bundle's own copy of the code, as in the cloud
    }
    if collect_to:
        env["MODEL_DATA_SINK"] = str(Path(collect_to).resolve())
    return env


class LocalEndpoint:
    """Start with ``with LocalEndpoint(bundle) as endpoint:``; stops cleanly on exit."""

    def __init__(
        self,
        bundle: str | Path,
        port: int | None = None,  # None: any free port
        workers: int = 1,
        collect_to: str | Path | None = None,
        log_file: str | Path | None = None,
        python: str | Path = sys.executable,  # the interpreter of the serving environment
        metrics_port: int | None = None,  # serve Prometheus metrics there (0: any free port)
        environment: dict[str, str] | None = None,  # more variables for the server, e.g. SCORE_*
    ):
        self.bundle, self.python = Path(bundle), str(python)
        self.metrics_port = (metrics_port or free_port()) if metrics_port is not None else None
        self._metrics_dir: tempfile.TemporaryDirectory | None = None
        if not (self.bundle / "code" / "score.py").is_file():
            raise FileNotFoundError(f"{self.bundle} is not a bundle (no code/score.py)")
        self.port, self.workers = port or free_port(), workers
        self.url = f"http://127.0.0.1:{self.port}"
        self.collect_to = Path(collect_to) if collect_to else None
        self.log_file = Path(log_file) if log_file else self.bundle / "server.log"
        self.environment = environment or {}
        self.process: subprocess.Popen | None = None
        self.startup_seconds: float | None = None

    def start(self, timeout: float = 60) -> LocalEndpoint:
        """Start the server and wait until it answers a real scoring request."""
        command = [
            self.python, "-m", "gunicorn", "--config", str(GUNICORN_CONFIG),
            "--bind", f"127.0.0.1:{self.port}", "--workers", str(self.workers),
            "--timeout", "300", APP,
        ]  # fmt: skip
        started = time.perf_counter()
        env = server_environment(self.bundle, self.collect_to) | self.environment
        env["SERVER_PARENT_PID"] = str(os.getpid())  # whose end stops it (gunicorn_config.py)
        if self.metrics_port is not None:
            self._metrics_dir = tempfile.TemporaryDirectory(prefix="endpoint-metrics-")
            env |= {"PROMETHEUS_MULTIPROC_DIR": self._metrics_dir.name}
            env |= {"METRICS_PORT": str(self.metrics_port)}
        with self.log_file.open("w") as log:
            self.process = subprocess.Popen(
                command,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._wait_until_ready(started + timeout)
        self.startup_seconds = time.perf_counter() - started
        return self

    def _wait_until_ready(self, deadline: float) -> None:
        sample = json.loads((self.bundle / "sample-request.json").read_text())
        while time.perf_counter() < deadline:
            if self.process.poll() is not None:
                raise EndpointError(f"the server exited; see {self.log_file}:\n{self._log_tail()}")
            try:
                status, _ = self.post(sample, timeout=5)
                # the master serves metrics once its workers are forked (gunicorn_config.py)
                if status == 200 and (self.metrics_port is None or self.metrics(timeout=5)):
                    return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.05)
        self.stop()
        raise EndpointError(f"no answer from {self.url} in time; see {self.log_file}")

    def _log_tail(self, lines: int = 20) -> str:
        return "\n".join(self.log_file.read_text().splitlines()[-lines:])

    def post(self, body, timeout: float = 30, request_id: str | None = None) -> tuple[int, dict]:
        """POST a JSON body (or raw bytes) to /score; return the status and the JSON reply."""
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        if request_id:
            headers["x-request-id"] = request_id
        request = urllib.request.Request(self.url + "/score", data=data, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            text = error.read()
            try:
                return error.code, json.loads(text)
            except ValueError:
                return error.code, {"error": text.decode(errors="replace")}

    def get(self, path: str, timeout: float = 10) -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(self.url + path, timeout=timeout) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def predict_labels(self, images, batch_size: int = 100) -> list[str]:
        """The served labels of ``images`` (raw digits), asked in batches."""
        labels = []
        for start in range(0, len(images), batch_size):
            status, reply = self.post({"data": images[start : start + batch_size].tolist()})
            if status != 200:
                raise EndpointError(f"scoring failed with {status}: {reply}")
            labels.extend(p["label"] for p in reply["predictions"])
        return labels

    def metrics(self, timeout: float = 10) -> str:
        """The workers' metrics, added up, in Prometheus's text format."""
        if self.metrics_port is None:
            raise EndpointError("started without metrics_port: no metrics are served")
        url = f"http://127.0.0.1:{self.metrics_port}/metrics"
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.read().decode()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)  # gunicorn stops its workers
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        if self._metrics_dir:
            self._metrics_dir.cleanup()
            self._metrics_dir = None

    def __enter__(self) -> LocalEndpoint:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
