"""Model data collection the way Azure ML model monitoring expects it, with a local sink.

In a managed online endpoint the platform configures the ``azureml-ai-monitoring``
collector (``AZUREML_MDC_CONFIG_PATH``) and ships what it collects to blob storage. Locally,
setting ``MODEL_DATA_SINK=<file.jsonl>`` switches the same collector to local capture and
appends every collected record to that file, where the production notebook reads it.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import time
from pathlib import Path

import pandas as pd
from azureml.ai.monitoring import Collector
from azureml.ai.monitoring.context import BasicCorrelationContext

from production.scoring import Scored

SINK_ENV = "MODEL_DATA_SINK"
log = logging.getLogger(__name__)


class JsonLinesSink(logging.Handler):
    """Writes each record of the collector's local capture as one JSON line.

    A sink that cannot be written (a read-only folder, a full disk) never stops scoring:
    the first failure is logged with its reason, later ones only counted, and the count is
    logged when the process ends.
    """

    def __init__(self, path: Path):
        super().__init__()
        self.path = path
        self.lost = 0  # records that could not be written
        atexit.register(self._report_lost)

    def emit(self, record: logging.LogRecord) -> None:
        when, collection, correlation_id, content = record.args
        line = {"time": when, "collection": collection, "correlation_id": correlation_id}
        line["data"] = json.loads(content)
        try:
            with self.path.open("a", encoding="utf-8") as sink:
                sink.write(json.dumps(line) + "\n")
        except OSError as error:
            self.lost += 1
            if self.lost == 1:
                log.warning(
                    "model data collection cannot write to %s (%s); scoring goes on, "
                    "records that cannot be written are counted",
                    self.path, error,
                )  # fmt: skip

    def _report_lost(self) -> None:
        if self.lost:
            log.warning("model data collection: %d records not written to %s", self.lost, self.path)


def _capture_into(sink: Path) -> None:
    """Send the collector's local capture (logger ``local.capture``) to the sink only."""
    sink.parent.mkdir(parents=True, exist_ok=True)
    capture = logging.getLogger("local.capture")
    capture.setLevel(logging.INFO)
    capture.propagate = False
    capture.handlers = [JsonLinesSink(sink)]


class ModelDataCollector:
    """Collects each request's model inputs and outputs, correlated by request."""

    def __init__(self):
        sink = os.environ.get(SINK_ENV)
        if sink:
            os.environ.setdefault("AZUREML_MDC_ENABLED", "true")
            os.environ.setdefault("AZUREML_MDC_LOCAL_CAPTURE", "true")
        configured = os.environ.get("AZUREML_MDC_CONFIG_PATH")
        self.enabled = bool(configured) or os.environ.get("AZUREML_MDC_ENABLED") == "true"
        if self.enabled:
            self.inputs = Collector(name="model_inputs", on_error=self._warn)
            self.outputs = Collector(name="model_outputs", on_error=self._warn)
        if sink:  # after the collector has set up its logging
            _capture_into(Path(sink))

    @staticmethod
    def _warn(error: Exception) -> None:
        log.warning("model data collection: %s", error)

    def collect(self, scored: Scored, request_id: str | None = None) -> None:
        """Record one request; ``request_id`` (the x-request-id header) correlates the records."""
        if not self.enabled:
            return
        pixels = scored.model_input.reshape(len(scored.model_input), -1).astype(int)
        context = BasicCorrelationContext(id=request_id) if request_id else None
        context = self.inputs.collect(pd.DataFrame({"pixels": pixels.tolist()}), context)
        outputs = pd.DataFrame(scored.reply()["predictions"])
        self.outputs.collect(outputs, context)


def read_collected(sink: str | Path) -> pd.DataFrame:
    """The local sink as one row per image: request time and id, pixels and prediction.

    A last line without its newline is a record still being written, and is left out.
    """
    *complete, _being_written = Path(sink).read_text(encoding="utf-8").split("\n")
    records = [json.loads(line) for line in complete]
    frames = {}
    for collection in ("model_inputs", "model_outputs"):
        rows = [
            {"time": r["time"], "correlation_id": r["correlation_id"], "position": i, **item}
            for r in records
            if r["collection"] == collection
            for i, item in enumerate(r["data"])
        ]
        frames[collection] = pd.DataFrame(rows)
    if any(frame.empty for frame in frames.values()):
        return pd.DataFrame(columns=["time", "correlation_id", "position", "pixels", "label"])
    # one request's inputs and outputs are stamped by two calls: their times may differ
    outputs = frames["model_outputs"].drop(columns="time")
    return frames["model_inputs"].merge(outputs, on=["correlation_id", "position"])


def wait_for_collected(
    sink: str | Path, images: int, request_prefix: str = "", timeout: float = 30.0
) -> pd.DataFrame:
    """``read_collected`` once the sink holds ``images`` images (inputs and outputs) from
    requests whose id starts with ``request_prefix``. The collector writes from a
    background worker, so records arrive a little after the replies."""
    deadline, found = time.monotonic() + timeout, 0
    while time.monotonic() < deadline:
        if Path(sink).exists():
            collected = read_collected(sink)
            found = int(collected["correlation_id"].str.startswith(request_prefix).sum())
            if found >= images:
                return collected
        time.sleep(0.05)
    raise TimeoutError(
        f"{sink}: {found} of {images} collected images from requests {request_prefix!r}… "
        f"after {timeout:.0f} s; is collection enabled?"
    )
