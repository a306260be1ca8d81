"""Model data collection the way Azure ML model monitoring expects it, with a local sink.

In a managed online endpoint the platform configures the ``azureml-ai-monitoring``
collector (``AZUREML_MDC_CONFIG_PATH``) and ships what it collects to blob storage. Locally,
setting ``MODEL_DATA_SINK=<file.jsonl>`` switches the same collector to local capture and
appends every collected record to that file, where ``production.monitoring`` reads it.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
from pathlib import Path

import pandas as pd
from azureml.ai.monitoring import Collector
from azureml.ai.monitoring.context import BasicCorrelationContext

from production.serving.scoring import Scored

SINK_ENV = "MODEL_DATA_SINK"
INK = 255 / 2  # a pixel at least half-way to full ink counts as ink
log = logging.getLogger(__name__)


def collected_records(scored: Scored, reply: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """What the collector records of one request, one row per image: the model's inputs
    (every pixel, which the kit's own drift analysis reads, and ``MONITORED_INPUTS``) and
    its outputs (the reply's scalar columns: label, confidence, and with the novelty
    detector on, the score and the flag; the list of probabilities stays out)."""
    pixels = scored.model_input.reshape(len(scored.model_input), -1)
    inputs = pd.DataFrame(
        {
            "pixels": pixels.astype(int).tolist(),
            "ink_share": (pixels > INK).mean(axis=1).round(4),
            "mean_intensity": (pixels.mean(axis=1) / 255).round(4),
        }
    )
    outputs = pd.DataFrame(reply["predictions"]).drop(columns="probabilities")
    return inputs, outputs


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

    def collect(self, scored: Scored, reply: dict, request_id: str | None = None) -> None:
        """Record one request, what the model saw and the ``reply`` sent for it;
        ``request_id`` (the x-request-id header) correlates the records."""
        if not self.enabled:
            return
        inputs, outputs = collected_records(scored, reply)
        context = BasicCorrelationContext(id=request_id) if request_id else None
        context = self.inputs.collect(inputs, context)
        self.outputs.collect(outputs, context)
