import numpy as np
import pytest

from data_science.mnist import DataUnavailableError, download_mnist, load_mnist


def test_sample_is_a_stratified_shuffled_split():
    data = load_mnist("sample")
    assert data.x_train.shape == (4000, 28, 28) and data.x_test.shape == (1000, 28, 28)
    assert data.x_train.dtype == np.uint8 and data.y_train.dtype == np.int64
    assert np.bincount(data.y_train).tolist() == [400] * 10
    assert np.bincount(data.y_test).tolist() == [100] * 10
    assert len(set(data.y_train[:20])) > 3  # shuffled, not sorted by class
    assert data.x_train.max() == 255 and data.x_train.mean() > 20  # white ink on black


def test_sample_is_reproducible_and_seeded():
    assert load_mnist("sample").digest == load_mnist("sample").digest
    assert load_mnist("sample", seed=1).digest != load_mnist("sample").digest


def test_train_and_test_do_not_overlap():
    data = load_mnist("sample")
    train = {row.tobytes() for row in data.x_train}
    assert not any(row.tobytes() in train for row in data.x_test)


def test_unknown_source_is_an_error():
    with pytest.raises(ValueError, match="use 'sample' or 'full'"):
        load_mnist("mnist")


def test_full_without_files_or_network_names_both_remedies(tmp_path, monkeypatch):
    monkeypatch.delenv("MNIST_DIR", raising=False)
    monkeypatch.setenv("MNIST_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr("data_science.mnist.MNIST_MIRRORS", ("http://127.0.0.1:9/",))
    with pytest.raises(DataUnavailableError) as err:
        load_mnist("full")
    assert "MNIST_DIR" in str(err.value) and "download" in str(err.value)


def test_download_cache_rejects_wrong_content(tmp_path, monkeypatch):
    import gzip

    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(b"not mnist"))
    monkeypatch.setattr("data_science.mnist.MNIST_MIRRORS", ("http://127.0.0.1:9/",))
    with pytest.raises(DataUnavailableError, match="train-images"):
        download_mnist(tmp_path)


def test_full_from_an_incomplete_folder_says_what_is_missing(tmp_path):
    with pytest.raises(DataUnavailableError, match="t10k-labels-idx1-ubyte.gz"):
        load_mnist("full", data_dir=tmp_path)
