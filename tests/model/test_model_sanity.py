"""Sanity checks of the CNN and its training (small data, a few seconds each)."""

import numpy as np
import pytest

from data_science.mnist import load_mnist
from data_science.model import build_cnn, compile_for_training, keras, smoothed_loss_floor
from data_science.preprocessing import to_model_input


@pytest.fixture(scope="module")
def digits():
    data = load_mnist("sample")
    return to_model_input(data.x_train[:512]), data.y_train[:512]


def one_hot(labels):
    return keras.utils.to_categorical(labels, 10)


def test_output_is_a_probability_per_class(digits):
    x, _ = digits
    probabilities = build_cnn()(x[:7], training=False).numpy()
    assert probabilities.shape == (7, 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


def test_with_label_smoothing_the_loss_cannot_fall_below_its_floor():
    labels = np.arange(10)
    loss = keras.losses.CategoricalCrossentropy(label_smoothing=0.1)
    targets = 0.9 * one_hot(labels) + 0.01  # what the smoothed loss compares with
    floor = smoothed_loss_floor(0.1)
    assert float(loss(one_hot(labels), targets)) == pytest.approx(floor, rel=1e-4)
    sharper = 0.95 * one_hot(labels) + 0.005  # more confident, and further from the target
    assert float(loss(one_hot(labels), sharper)) > floor
    assert smoothed_loss_floor(0.0) == 0.0


def test_loss_falls_within_a_few_steps(digits):
    x, y = digits
    keras.utils.set_random_seed(0)
    model = compile_for_training(build_cnn(augment=False), 3e-3, total_steps=100)
    batches = [(x[i : i + 64], one_hot(y[i : i + 64])) for i in range(0, 512, 64)]
    losses = [model.train_on_batch(*batch)[0] for batch in batches + batches]
    assert np.mean(losses[-4:]) < 0.8 * np.mean(losses[:2])


def test_overfits_a_small_batch(digits):
    x, y = digits
    keras.utils.set_random_seed(0)
    model = compile_for_training(build_cnn(augment=False, dropout=0.0), 3e-3, total_steps=400)
    model.fit(x[:64], one_hot(y[:64]), batch_size=16, epochs=25, verbose=0)
    predictions = model.predict(x[:64], verbose=0).argmax(axis=1)
    assert (predictions == y[:64]).mean() >= 0.98


def test_augmentation_is_off_at_inference(digits):
    x, _ = digits
    model = build_cnn(augment=True)
    np.testing.assert_allclose(model(x[:8], training=False), model(x[:8], training=False))
