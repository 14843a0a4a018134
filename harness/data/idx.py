"""Reading IDX files (the format of MNIST and Fashion-MNIST), validated before use."""

from __future__ import annotations

import gzip
import math
import zlib
from pathlib import Path

import numpy as np

from harness.errors import InputError

_UNSIGNED_BYTE = 0x08
MAX_IDX_BYTES = 1 << 30  # 1 GiB of pixels: 20 times Fashion-MNIST's training set; a bound for crafted headers


def read_idx(path: str | Path, *, expected_ndim: int, max_bytes: int = MAX_IDX_BYTES) -> np.ndarray:
    """Read an IDX file of unsigned bytes (gzip-compressed when the name ends in .gz).

    The header is read first: the magic number (two zero bytes, the ubyte type code, the number
    of dimensions), then the sizes. Only then is the payload read, and never more than the one
    byte past what the header announces, so a small gzip bomb or a crafted header cannot use
    more memory than the bound. A file that is truncated, longer than its header, empty or
    anything else (an HTML error page, the wrong file) raises InputError naming the file.
    """
    path = Path(path)
    try:
        with (gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")) as handle:
            magic = handle.read(4)
            if len(magic) < 4:
                raise InputError(f"{path}: file is {len(magic)} bytes, too short for an IDX header; replace the file")
            zero_a, zero_b, type_code, ndim = magic
            if zero_a != 0 or zero_b != 0 or type_code != _UNSIGNED_BYTE or ndim != expected_ndim:
                raise InputError(
                    f"{path}: not an IDX file of {expected_ndim}-dimensional unsigned bytes "
                    f"(magic {magic.hex()}, expected 000008{expected_ndim:02x}); check which file this is"
                )
            sizes = handle.read(4 * ndim)
            if len(sizes) < 4 * ndim:
                raise InputError(f"{path}: IDX header is truncated; replace the file")
            shape = tuple(int.from_bytes(sizes[4 * i: 4 * i + 4], "big") for i in range(ndim))
            expected = math.prod(shape)  # Python integers: a crafted header cannot wrap around
            if expected == 0:
                raise InputError(f"{path}: IDX header {shape} holds no data; replace the file")
            if expected > max_bytes:
                raise InputError(f"{path}: IDX header {shape} announces {expected} bytes, more than the "
                                 f"{max_bytes} this reader accepts; check which file this is")
            payload = handle.read(expected + 1)
    except (OSError, EOFError, zlib.error, gzip.BadGzipFile) as error:
        raise InputError(f"{path}: cannot read IDX file ({error}); reinstall or re-download it") from None
    if len(payload) != expected:
        what = "truncated" if len(payload) < expected else "longer than its header says"
        found = len(payload) if len(payload) <= expected else "more"
        raise InputError(
            f"{path}: IDX file is {what} (header {shape} needs {expected} bytes of data, found {found}); "
            "replace the file"
        )
    return np.frombuffer(payload, dtype=np.uint8).reshape(shape)


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
