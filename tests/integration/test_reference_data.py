"""The data layer on the real data sets in ../shared/data (skipped when absent)."""

import numpy as np
import pytest

from data_science.folders import load_image_folder
from data_science.mnist import download_mnist, load_mnist

pytestmark = pytest.mark.integration


def test_full_mnist(full_mnist_dir):
    data = load_mnist("full", data_dir=full_mnist_dir)
    assert data.x_train.shape == (60000, 28, 28) and data.x_test.shape == (10000, 28, 28)
    assert data.y_train[:5].tolist() == [5, 0, 4, 1, 9]
    assert data.y_test[:5].tolist() == [7, 2, 1, 0, 4]
    assert np.bincount(data.y_train).tolist() == [
        5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949
    ]  # fmt: skip
    assert np.bincount(data.y_test).tolist() == [
        980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009
    ]  # fmt: skip


def test_full_mnist_from_the_environment(full_mnist_dir, monkeypatch):
    monkeypatch.setenv("MNIST_DIR", str(full_mnist_dir))
    assert load_mnist("full").digest == load_mnist("full", data_dir=full_mnist_dir).digest


def test_reference_files_pass_the_download_checksums(full_mnist_dir, tmp_path):
    import shutil

    for file in full_mnist_dir.glob("*.gz"):
        shutil.copy(file, tmp_path)
    assert download_mnist(tmp_path) == tmp_path  # nothing to download: content verified


def test_devanagari_folder(foreign_digits):
    data = load_image_folder(foreign_digits / "Test", progress=False)
    assert data.images.shape == (3000, 28, 28) and not data.failures
    assert np.bincount(data.labels).tolist() == [300] * 10
    assert data.class_names[0] == "digit_0"


def test_japanese_folder(foreign_digits):
    data = load_image_folder(foreign_digits / "Japanese Handwritten Digits", progress=False)
    assert data.images.shape == (13500, 28, 28) and not data.failures
    assert np.bincount(data.labels).tolist() == [1350] * 10


def test_vectorised_preprocessing_is_bit_identical_on_full_mnist(full_mnist_dir):
    from data_science.preprocessing import normalise_digit, normalise_digits

    digits = load_mnist("full", data_dir=full_mnist_dir).x_test
    expected = np.stack([normalise_digit(image) for image in digits])
    np.testing.assert_array_equal(normalise_digits(digits), expected)
