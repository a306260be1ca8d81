"""The scoring logic behind score.py: request validation, preprocessing, the model, replies.

Everything a client can get wrong is a ``ScoringError`` carrying a 4xx status and a reason
(a model run stopped by the scoring timeout is one too, with 503); anything else is a bug
and surfaces as a 5xx. The model runs in ONNX Runtime, so the endpoint
starts in about a second and answers single images in well under a millisecond of compute;
preprocessing is the training's own ``to_model_input`` (no second implementation).
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnxruntime
from PIL import Image, UnidentifiedImageError

from data_science.preprocessing import ImageInputError, to_model_input
from production.serving import DEFAULT_SCORE_TIMEOUT_S
from production.serving.novelty import NOVELTY_FILE, NoveltyDetector

MAX_BATCH = int(os.environ.get("SCORE_MAX_BATCH", "256"))
MAX_BODY_BYTES = int(os.environ.get("SCORE_MAX_BODY_BYTES", str(8 * 1024 * 1024)))
MAX_IMAGE_SIDE = int(os.environ.get("SCORE_MAX_IMAGE_SIDE", "1024"))
# A model run longer than this is stopped and answered 503 (the worker stays usable).
SCORE_TIMEOUT_S = float(os.environ.get("SCORE_TIMEOUT_S", DEFAULT_SCORE_TIMEOUT_S))
# The novelty score per image (when the bundle carries its detector); "0" turns it off.
SCORE_NOVELTY = os.environ.get("SCORE_NOVELTY", "1") != "0"
MODEL_FILE = "model.onnx"
LABELS_FILE = "labels.json"


class ScoringError(ValueError):
    """A client error: the request cannot be scored as sent."""

    def __init__(self, reason: str, status: int = 400):
        super().__init__(reason)
        self.status = status


def decode_image(item, index: int) -> np.ndarray:
    """One image of the request: nested lists of pixel values, or a base64 PNG/JPEG string."""
    if isinstance(item, str):
        return _decode_base64(item, index)
    if not isinstance(item, list):
        raise ScoringError(f"image {index}: expected nested lists of numbers or a base64 string")
    try:
        pixels = np.asarray(item)
    except ValueError:
        raise ScoringError(f"image {index}: rows of different lengths") from None
    if pixels.dtype.kind not in "iuf":
        raise ScoringError(f"image {index}: pixels must be numbers (got {pixels.dtype.kind!r})")
    return pixels


def _decode_base64(text: str, index: int) -> np.ndarray:
    payload = text.split(",", 1)[1] if text.startswith("data:") else text
    try:
        raw = base64.b64decode(payload, validate=True)
        with Image.open(io.BytesIO(raw)) as image:
            if max(image.size) > MAX_IMAGE_SIDE:
                raise ScoringError(f"image {index}: {image.size} exceeds {MAX_IMAGE_SIDE} pixels")
            return np.asarray(image.convert("L"))
    except (binascii.Error, UnidentifiedImageError, OSError) as err:
        raise ScoringError(f"image {index}: not a base64-encoded PNG or JPEG ({err})") from None


def decode_batch(data, content_length: int | None = None) -> np.ndarray | list[np.ndarray]:
    """Validate the request's ``data`` field and decode every image in it: one (N, H, W[, C])
    array when the images are same-size nested lists (decoded at once, the fast path),
    else a list of arrays."""
    if content_length is not None and content_length > MAX_BODY_BYTES:
        raise ScoringError(f"request body over {MAX_BODY_BYTES} bytes", status=413)
    if not isinstance(data, list):
        raise ScoringError("'data' must be a list of images")
    if not data:
        raise ScoringError("'data' is empty: send at least one image")
    if len(data) > MAX_BATCH:
        raise ScoringError(f"batch of {len(data)} images is over the limit of {MAX_BATCH}", 413)
    images = _decode_stack(data)
    if images is None:
        images = [decode_image(item, index) for index, item in enumerate(data)]
    for index, image in enumerate(images):
        if image.ndim not in (2, 3) or max(image.shape, default=0) > MAX_IMAGE_SIDE:
            raise ScoringError(
                f"image {index}: shape {image.shape}; expected (H, W) or (H, W, C) "
                f"with sides up to {MAX_IMAGE_SIDE}"
            )
    return images


def _decode_stack(data: list) -> np.ndarray | None:
    """Same-size images of whole numbers as one array, or None (strings, mixed sizes,
    floats: decoded image by image, where a bad one is named). Floats stay per image: in
    one array, one float pixel would make every image of the request float, and an image of
    0/1 integers would then be read on the 0-1 scale instead of 0-255."""
    if not all(isinstance(item, list) for item in data):
        return None
    try:
        stack = np.asarray(data)
    except ValueError:  # rows or images of different sizes
        return None
    return stack if stack.dtype.kind in "iu" else None


@dataclass(frozen=True)
class Scored:
    """One scored request: what the model saw and what it answered."""

    model_input: np.ndarray  # (N, 28, 28, 1), after the shared preprocessing
    probabilities: np.ndarray  # (N, classes)
    class_names: list[str]
    novelty: np.ndarray | None = None  # (N,) scores, when the detector is on
    novelty_threshold: float = np.inf

    def reply(self) -> dict:
        """Per image: the label, its confidence and the probabilities of every class; with
        the detector on, its novelty score and whether that makes it novel."""
        predictions = [
            {
                "label": self.class_names[int(row.argmax())],
                "confidence": round(float(row.max()), 6),
                "probabilities": [round(float(p), 6) for p in row],
            }
            for row in self.probabilities
        ]
        if self.novelty is not None:
            for prediction, score in zip(predictions, self.novelty.tolist(), strict=True):
                prediction["novelty"] = round(score, 3)
                prediction["novel"] = score > self.novelty_threshold
        return {"predictions": predictions}


class Deadline:
    """Stops model runs that take longer than ``seconds``: a watcher thread looks at the
    runs in progress every tenth of the timeout (at most 0.1 s) and sets a late run's
    terminate flag; ONNX Runtime then ends that run with an error. (A timer thread per
    request would cost about 0.15 ms; this costs a lock.)"""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self._runs: dict[int, tuple[float, onnxruntime.RunOptions]] = {}
        self._lock = threading.Lock()
        threading.Thread(target=self._watch, name="score-deadline", daemon=True).start()

    def run(self, session: onnxruntime.InferenceSession, feed: dict) -> list[np.ndarray]:
        options = onnxruntime.RunOptions()
        with self._lock:
            self._runs[id(options)] = (time.monotonic() + self.seconds, options)
        try:
            return session.run(None, feed, options)
        except onnxruntime.capi.onnxruntime_pybind11_state.Fail:
            if options.terminate:
                raise ScoringError(
                    f"scoring took longer than {self.seconds:g} s and was stopped: "
                    "send fewer images per request",
                    status=503,
                ) from None
            raise
        finally:
            with self._lock:
                self._runs.pop(id(options), None)

    def _watch(self) -> None:
        interval = min(0.1, self.seconds / 10)
        while True:
            time.sleep(interval)
            now = time.monotonic()
            with self._lock:
                late = [key for key, (deadline, _) in self._runs.items() if deadline <= now]
                for key in late:
                    self._runs.pop(key)[1].terminate = True


@dataclass
class Scorer:
    """An ONNX model, its class names and novelty detector, answering batches of raw
    images."""

    session: onnxruntime.InferenceSession
    class_names: list[str]
    novelty: NoveltyDetector | None = None
    deadline: Deadline = field(default_factory=lambda: Deadline(SCORE_TIMEOUT_S))

    @classmethod
    def from_model_dir(cls, model_dir: str | Path) -> Scorer:
        """Load the model from a folder (searched recursively, as Azure ML nests it)."""
        found = sorted(Path(model_dir).rglob(MODEL_FILE))
        if not found:
            raise FileNotFoundError(f"no {MODEL_FILE} under {model_dir}")
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1  # one request per worker: threads only add latency
        session = onnxruntime.InferenceSession(
            str(found[0]), options, providers=["CPUExecutionProvider"]
        )
        detector = found[0].with_name(NOVELTY_FILE)
        novelty = NoveltyDetector.load(detector) if SCORE_NOVELTY and detector.is_file() else None
        return cls(session, json.loads(found[0].with_name(LABELS_FILE).read_text()), novelty)

    def outputs(self, model_input: np.ndarray) -> list[np.ndarray]:
        """The model's outputs: probabilities, then (models that have them) features."""
        feed = {self.session.get_inputs()[0].name: model_input}
        return self.deadline.run(self.session, feed)

    def score(self, data, content_length: int | None = None) -> Scored:
        """Validate, preprocess and score one request's ``data``."""
        images = decode_batch(data, content_length)
        try:  # the preprocessing's own checks: values, channels, finiteness
            model_input = to_model_input(images)
        except ImageInputError as error:
            raise ScoringError(str(error)) from None
        return self.score_input(model_input)

    def score_input(self, model_input: np.ndarray) -> Scored:
        """Score images that went through the shared preprocessing already."""
        probabilities, *features = self.outputs(model_input)
        if self.novelty is None or not features:
            return Scored(model_input, probabilities, self.class_names)
        novelty = self.novelty.scores(features[0], probabilities)
        return Scored(model_input, probabilities, self.class_names, novelty, self.novelty.threshold)
