"""Scoring script of the managed online endpoint: Azure ML's init()/run() contract.

The Azure ML inference server imports this file, calls ``init()`` once per worker and
``run()`` once per request. The ``inference-schema`` decorators describe the request and
the reply; the server turns them into the endpoint's OpenAPI description (/swagger.json).

Request:  {"data": [image, ...]}  where an image is nested lists of pixel values (H x W or
          H x W x C, any size up to the limit, 0-255 or 0-1) or a base64 PNG/JPEG string.
Reply:    {"predictions": [{"label": "7", "confidence": 0.99, "probabilities": [...],
                          "novelty": 3.2, "novel": false}, ...]}
          ("novel": the image is unlike the training digits; about 1 % of clean ones are)
A request the script cannot score gets a 4xx with the reason, one whose scoring runs past
SCORE_TIMEOUT_S (10 s) a 503 with the reason; any other 5xx means a bug.
"""

import gc
import logging
import os
import time

from azureml_inference_server_http.api.aml_response import AMLResponse
from inference_schema.parameter_types.standard_py_parameter_type import (
    StandardPythonParameterType,
)
from inference_schema.schema_decorators import input_schema, output_schema

from production.serving import metrics
from production.serving.collect import ModelDataCollector
from production.serving.scoring import Scorer, ScoringError

log = logging.getLogger(__name__)
scorer: Scorer | None = None
collector: ModelDataCollector | None = None

SAMPLE_IMAGE = [[0] * 28 for _ in range(28)]
SAMPLE_REPLY = {
    "predictions": [
        {
            "label": "7",
            "confidence": 0.98,
            "probabilities": [0.1] * 10,
            "novelty": 3.2,
            "novel": False,
        }
    ]
}


class AnyJsonList(StandardPythonParameterType):
    """Documents the field as a list but passes any JSON value on to run(), so that a wrong
    type gets run()'s clear 400 instead of the schema layer's type error (a 500)."""

    def __init__(self, sample_input):
        super().__init__(sample_input)
        self.sample_data_type = object  # every JSON value is an object: no type check

    def deserialize_input(self, input_data):
        return input_data


def init() -> None:
    global scorer, collector
    scorer = Scorer.from_model_dir(os.environ["AZUREML_MODEL_DIR"])
    collector = ModelDataCollector()
    # What is loaded now (130,000 objects) lives as long as the worker. Frozen, it is out of
    # the garbage collector's full passes, which otherwise stall a request for about 80 ms.
    gc.freeze()
    novelty = "on" if scorer.novelty else "off"
    log.info("model loaded; classes %s; novelty score %s", scorer.class_names, novelty)


@input_schema("data", AnyJsonList([SAMPLE_IMAGE]))
@output_schema(StandardPythonParameterType(SAMPLE_REPLY))
def run(data, request_headers=None):
    started = time.perf_counter()
    headers = {name.lower(): value for name, value in (request_headers or {}).items()}
    length = headers.get("content-length")
    try:
        scored = scorer.score(data, int(length) if length else None)
    except ScoringError as error:
        metrics.record(error.status, time.perf_counter() - started)
        return AMLResponse({"error": str(error)}, error.status, json_str=True)
    except Exception:
        metrics.record(500, time.perf_counter() - started)  # a bug: the server answers 500
        raise
    reply = scored.reply()  # built once: for the client, the collector and the metrics
    collector.collect(scored, reply, headers.get("x-request-id"))
    labels = [prediction["label"] for prediction in reply["predictions"]]
    novel = sum(prediction.get("novel", False) for prediction in reply["predictions"])
    metrics.record(200, time.perf_counter() - started, labels, novel)
    return reply
