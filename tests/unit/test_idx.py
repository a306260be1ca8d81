import gzip
import struct

import numpy as np
import pytest

from data_science.idx import IdxFormatError, read_idx, read_idx_bytes


def idx_bytes(array: np.ndarray) -> bytes:
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(np.uint8).tobytes()


def test_reads_images_and_labels(tmp_path):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    (tmp_path / "x.idx").write_bytes(idx_bytes(images))
    (tmp_path / "y.idx.gz").write_bytes(gzip.compress(idx_bytes(np.array([7, 3]))))
    np.testing.assert_array_equal(read_idx(tmp_path / "x.idx", expected_ndim=3), images)
    np.testing.assert_array_equal(read_idx(tmp_path / "y.idx.gz"), [7, 3])


def test_result_is_writable():
    array = read_idx_bytes(idx_bytes(np.zeros((2, 2))))
    array[0, 0] = 1
    assert array[0, 0] == 1


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "bad magic"),
        (b"\x01\x02\x08\x01" + b"\x00" * 8, "bad magic"),
        (b"\x00\x00\x42\x01\x00\x00\x00\x01\x00", "unknown IDX data type"),
        (b"\x00\x00\x08\x03\x00\x00", "truncated header"),
    ],
)
def test_rejects_bad_headers(raw, message):
    with pytest.raises(IdxFormatError, match=message):
        read_idx_bytes(raw)


def test_rejects_truncated_data():
    raw = idx_bytes(np.zeros((10, 28, 28)))
    with pytest.raises(IdxFormatError, match="truncated or corrupt"):
        read_idx_bytes(raw[:-1])


def test_rejects_wrong_dimensionality():
    with pytest.raises(IdxFormatError, match="expected 3 dimensions"):
        read_idx_bytes(idx_bytes(np.zeros(5)), expected_ndim=3)


def test_rejects_corrupt_gzip(tmp_path):
    path = tmp_path / "bad.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.zeros((4, 4))))[:-10])
    with pytest.raises(IdxFormatError, match="corrupt gzip"):
        read_idx(path)
