"""Post-training int8 quantization of the served ONNX model, kept only when it is safe.

Weights and activations in 8-bit integers make the CNN's arithmetic cheaper in ONNX Runtime
on a CPU (notebook 05 measures what that buys a request). Quantization is calibrated on
real training digits (per channel) and then checked on the held-out test digits: the int8
model is kept only if it predicts the same class as the float32 model for at least
``MIN_AGREEMENT`` of them; otherwise the bundle keeps the float32 model and says why.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime
from onnxruntime.quantization import (
    CalibrationDataReader,
    QuantFormat,
    quant_pre_process,
    quantize_static,
)

from data_science.mnist import load_mnist
from data_science.preprocessing import to_model_input

MIN_AGREEMENT = 0.995
CALIBRATION_DIGITS = 1000  # training digits; the check uses the 1,000 test digits
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Quantization:
    """What the bundle serves and the evidence for it."""

    precision: str  # "int8" or "float32"
    agreement: float  # share of check digits on which int8 and float32 predict the same class
    check_digits: int
    reason: str


class _Digits(CalibrationDataReader):
    """Feeds calibration images one at a time, as requests arrive."""

    def __init__(self, input_name: str, images: np.ndarray):
        self._feeds = iter({input_name: image[None]} for image in images)

    def get_next(self):
        return next(self._feeds, None)


def _session(model: Path) -> onnxruntime.InferenceSession:
    return onnxruntime.InferenceSession(str(model), providers=["CPUExecutionProvider"])


def _classes(session: onnxruntime.InferenceSession, images: np.ndarray) -> np.ndarray:
    return session.run(None, {session.get_inputs()[0].name: images})[0].argmax(axis=1)


def quantize_model(model: Path, min_agreement: float = MIN_AGREEMENT) -> Quantization:
    """Replace ``model`` (float32 ONNX) by its int8 version if the two predict the same
    class on at least ``min_agreement`` of the check digits; report either way."""
    digits = load_mnist("sample")  # embedded: the bundle builds offline
    calibration = to_model_input(digits.x_train[:CALIBRATION_DIGITS])
    check = to_model_input(digits.x_test)
    original = _session(model)
    original_classes = _classes(original, check)
    with tempfile.TemporaryDirectory() as scratch:
        prepared, quantized = Path(scratch) / "prepared.onnx", Path(scratch) / "int8.onnx"
        quant_pre_process(str(model), str(prepared), skip_symbolic_shape=True)
        quantize_static(
            str(prepared),
            str(quantized),
            _Digits(original.get_inputs()[0].name, calibration),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
        )
        agreement = float((_classes(_session(quantized), check) == original_classes).mean())
        if agreement >= min_agreement:
            quantized.replace(model)
            reason = f"int8 agrees with float32 on {agreement:.1%} of {len(check)} digits"
            return Quantization("int8", agreement, len(check), reason)
    reason = (
        f"kept float32: int8 agreed with it on only {agreement:.1%} of {len(check)} digits "
        f"(at least {min_agreement:.1%} required)"
    )
    log.warning(reason)
    return Quantization("float32", agreement, len(check), reason)
