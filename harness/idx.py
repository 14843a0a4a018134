"""Reading IDX files (the format of MNIST and Fashion-MNIST), validated before use."""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np

from harness.errors import InputError

_UNSIGNED_BYTE = 0x08


def read_idx(path: str | Path, *, expected_ndim: int) -> np.ndarray:
    """Read an IDX file of unsigned bytes (gzip-compressed when the name ends in .gz).

    Checks the magic number (two zero bytes, the ubyte type code, the number of dimensions)
    and that the payload holds exactly the number of values the header announces. Anything
    else (a truncated download, an HTML error page, the wrong file) raises InputError naming
    the file.
    """
    path = Path(path)
    try:
        raw = _read_bytes(path)
    except (OSError, EOFError, zlib.error, gzip.BadGzipFile) as error:
        raise InputError(f"{path}: cannot read IDX file ({error}); reinstall or re-download it") from None
    if len(raw) < 4:
        raise InputError(f"{path}: file is {len(raw)} bytes, too short for an IDX header; replace the file")
    zero_a, zero_b, type_code, ndim = raw[0], raw[1], raw[2], raw[3]
    if zero_a != 0 or zero_b != 0 or type_code != _UNSIGNED_BYTE or ndim != expected_ndim:
        raise InputError(
            f"{path}: not an IDX file of {expected_ndim}-dimensional unsigned bytes "
            f"(magic {raw[:4].hex()}, expected 000008{expected_ndim:02x}); check which file this is"
        )
    header_size = 4 + 4 * ndim
    if len(raw) < header_size:
        raise InputError(f"{path}: IDX header is truncated; replace the file")
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    expected = int(np.prod(shape, dtype=np.int64))
    payload = len(raw) - header_size
    if payload != expected:
        what = "truncated" if payload < expected else "longer than its header says"
        raise InputError(
            f"{path}: IDX file is {what} (header {shape} needs {expected} bytes of data, found {payload}); "
            "replace the file"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header_size).reshape(shape)


def _read_bytes(path: Path) -> bytes:
    if path.suffix == ".gz":
        with gzip.open(path, "rb") as handle:
            return handle.read()
    return path.read_bytes()


def write_idx(path: str | Path, array: np.ndarray) -> None:
    """Write unsigned bytes as an IDX file (gzip when the name ends in .gz); used to make test data."""
    path = Path(path)
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = bytes([0, 0, _UNSIGNED_BYTE, array.ndim]) + b"".join(
        int(size).to_bytes(4, "big") for size in array.shape
    )
    data = header + array.tobytes()
    if path.suffix == ".gz":
        data = gzip.compress(data, mtime=0)
    path.write_bytes(data)
