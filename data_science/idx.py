"""Reader for the IDX format of the MNIST files (optionally gzip-compressed).

Layout: a 4-byte magic ``0x00 0x00 <dtype> <ndim>``, one big-endian uint32 per dimension,
then the data. MNIST uses dtype 0x08 (uint8): images are 3-D, labels 1-D.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


class IdxFormatError(ValueError):
    """The bytes are not a valid IDX file."""


def read_idx_bytes(raw: bytes, expected_ndim: int | None = None, name: str = "data") -> np.ndarray:
    """Parse IDX bytes into an array, validating the magic number and the size."""
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        magic = raw[:4].hex() or "empty"
        raise IdxFormatError(f"{name}: not an IDX file (bad magic number {magic})")
    dtype_code, ndim = raw[2], raw[3]
    if dtype_code not in IDX_DTYPES:
        raise IdxFormatError(f"{name}: unknown IDX data type 0x{dtype_code:02x}")
    if expected_ndim is not None and ndim != expected_ndim:
        raise IdxFormatError(f"{name}: expected {expected_ndim} dimensions, the header says {ndim}")
    header_end = 4 + 4 * ndim
    if len(raw) < header_end:
        raise IdxFormatError(f"{name}: truncated header")
    shape = tuple(int(d) for d in np.frombuffer(raw, ">u4", count=ndim, offset=4))
    dtype = np.dtype(IDX_DTYPES[dtype_code])
    expected = int(np.prod(shape)) * dtype.itemsize
    actual = len(raw) - header_end
    if actual != expected:
        raise IdxFormatError(
            f"{name}: shape {shape} needs {expected} bytes of data, the file has {actual} "
            "(truncated or corrupt)"
        )
    data = np.frombuffer(raw, dtype, offset=header_end).reshape(shape)
    return data.astype(dtype.newbyteorder("="))  # native byte order, and a writable copy


def read_idx(path: str | Path, expected_ndim: int | None = None) -> np.ndarray:
    """Read an IDX file; a ``.gz`` suffix means gzip-compressed."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (gzip.BadGzipFile, EOFError) as err:
        raise IdxFormatError(f"{path.name}: corrupt gzip stream ({err})") from err
    return read_idx_bytes(raw, expected_ndim, name=path.name)
