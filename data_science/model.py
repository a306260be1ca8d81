"""The digit classifier: a small convolutional network built for a laptop CPU.

Three stages of 3x3 convolutions with batch normalisation (widths w, 2w, 4w), global
average pooling and dropout. The model takes images on the 0-255 scale, shape (28, 28, C),
and rescales them itself, so the served model needs no extra preprocessing step besides the
shared ``normalise_digit``.
"""

from __future__ import annotations

import math
import os
import sys
import tempfile

# TensorFlow's runtime writes INFO lines (I0000 ..., and absl's preamble) straight to the
# process's stderr when it loads, whatever TF_CPP_MIN_LOG_LEVEL says; a notebook shows them
# as red warnings. They are held back at import; anything else it writes is passed on.
INFO_LINE_MARKS = ("I0000 ", "WARNING: All log messages before absl::InitializeLog()")


def _import_keras_quietly():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")  # INFO off once its logging is up
    with tempfile.TemporaryFile() as captured:
        sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(captured.fileno(), 2)
        try:
            import keras
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        captured.seek(0)
        lines = captured.read().decode(errors="replace").splitlines()
    for line in lines:
        if not line.startswith(INFO_LINE_MARKS):
            print(line, file=sys.stderr)
    return keras


keras = _import_keras_quietly()
layers = keras.layers

ROTATION_DEGREES = 10
SHIFT_FRACTION = 0.08  # about 2 pixels of 28
# Faster-moving batch statistics than Keras's 0.99, so that short runs on small data sets
# (a few hundred steps) also evaluate well; no effect on long runs.
BN_MOMENTUM = 0.9


def conv_bn_relu(x, filters: int):
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization(momentum=BN_MOMENTUM)(x)
    return layers.ReLU()(x)


def build_cnn(
    num_classes: int = 10,
    width: int = 24,
    dropout: float = 0.2,
    augment: bool = True,
    input_shape: tuple[int, int, int] = (28, 28, 1),
) -> keras.Model:
    """The CNN; ``augment`` adds small random rotations and shifts, active in training only."""
    inputs = keras.Input(input_shape, name="image")
    x = layers.Rescaling(1 / 255)(inputs)
    if augment:
        x = layers.RandomRotation(ROTATION_DEGREES / 360, fill_mode="constant")(x)
        x = layers.RandomTranslation(SHIFT_FRACTION, SHIFT_FRACTION, fill_mode="constant")(x)
    x = conv_bn_relu(x, width)
    x = layers.MaxPooling2D()(x)
    x = conv_bn_relu(x, 2 * width)
    x = conv_bn_relu(x, 2 * width)
    x = layers.MaxPooling2D()(x)
    x = conv_bn_relu(x, 4 * width)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(dropout)(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="digit_cnn")


def compile_for_training(
    model: keras.Model, learning_rate: float, total_steps: int, label_smoothing: float = 0.0
) -> keras.Model:
    """Adam with a cosine learning-rate decay over the whole run."""
    schedule = keras.optimizers.schedules.CosineDecay(learning_rate, max(1, total_steps))
    loss = keras.losses.CategoricalCrossentropy(label_smoothing=label_smoothing)
    model.compile(keras.optimizers.Adam(schedule), loss=loss, metrics=["accuracy"])
    return model


def smoothed_loss_floor(label_smoothing: float, num_classes: int = 10) -> float:
    """The lowest cross-entropy a model can reach against smoothed targets: their entropy
    (the true class's target is 1 - s + s/k, every other class's s/k)."""
    if label_smoothing == 0:
        return 0.0
    other = label_smoothing / num_classes
    true = 1 - label_smoothing + other
    return -(true * math.log(true) + (num_classes - 1) * other * math.log(other))


def with_features(model: keras.Model) -> keras.Model:
    """The same network answering both its probabilities and its penultimate features (the
    input of the last layer): what the novelty score and the drift monitor read."""
    outputs = [model.layers[-1].output, model.layers[-2].output]
    return keras.Model(model.inputs[0], outputs)


def inference_model(model: keras.Model) -> keras.Model:
    """The same network and predictions, lighter to serve: for export to ONNX.

    The augmentation layers go: random layers are inert at inference, but they would still
    be traced into an exported graph (and ONNX has no random ops). The input rescaling is
    folded into the first convolution's kernel, conv(x * s, W) = conv(x, s * W), which
    saves the served model a multiplication per pixel and, in int8, a quantization step.
    """

    def strip(layer):
        if isinstance(layer, layers.RandomRotation | layers.RandomTranslation | layers.Rescaling):
            return layers.Identity(name=layer.name)
        return layer.__class__.from_config(layer.get_config())

    clone = keras.models.clone_model(model, clone_function=strip)
    for original, copy in zip(model.layers, clone.layers, strict=True):
        if copy.weights:
            copy.set_weights(original.get_weights())
    rescaling = next(layer for layer in model.layers if isinstance(layer, layers.Rescaling))
    first_conv = next(layer for layer in clone.layers if isinstance(layer, layers.Conv2D))
    first_conv.kernel.assign(first_conv.kernel * rescaling.scale)
    return clone
