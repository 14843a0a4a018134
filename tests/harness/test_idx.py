import gzip

import numpy as np
import pytest

from harness.errors import InputError
from harness.idx import read_idx, write_idx


@pytest.mark.parametrize("name", ["images-idx3-ubyte", "images-idx3-ubyte.gz"])
def test_round_trip_plain_and_gzip(tmp_path, name):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    write_idx(tmp_path / name, images)
    np.testing.assert_array_equal(read_idx(tmp_path / name, expected_ndim=3), images)


def test_truncated_file_names_the_file(tmp_path):
    path = tmp_path / "labels-idx1-ubyte"
    write_idx(path, np.arange(10, dtype=np.uint8))
    path.write_bytes(path.read_bytes()[:-3])
    with pytest.raises(InputError, match=r"labels-idx1-ubyte: IDX file is truncated .*needs 10 bytes of data, found 7"):
        read_idx(path, expected_ndim=1)


def test_truncated_gzip_stream_is_an_input_error(tmp_path):
    path = tmp_path / "labels.gz"
    write_idx(path, np.arange(1000, dtype=np.uint8))
    path.write_bytes(path.read_bytes()[:20])
    with pytest.raises(InputError, match="labels.gz: cannot read IDX file"):
        read_idx(path, expected_ndim=1)


def test_wrong_magic_is_rejected(tmp_path):
    path = tmp_path / "page.gz"
    path.write_bytes(gzip.compress(b"<html>404 not found</html>"))
    with pytest.raises(InputError, match=r"page.gz: not an IDX file .*magic 3c68746d"):
        read_idx(path, expected_ndim=3)


def test_wrong_number_of_dimensions_is_rejected(tmp_path):
    path = tmp_path / "labels"
    write_idx(path, np.zeros(5, dtype=np.uint8))
    with pytest.raises(InputError, match="not an IDX file of 3-dimensional"):
        read_idx(path, expected_ndim=3)


def test_extra_bytes_are_rejected(tmp_path):
    path = tmp_path / "labels"
    write_idx(path, np.zeros(5, dtype=np.uint8))
    path.write_bytes(path.read_bytes() + b"\x00")
    with pytest.raises(InputError, match="longer than its header says"):
        read_idx(path, expected_ndim=1)


def test_too_short_for_a_header(tmp_path):
    path = tmp_path / "empty"
    path.write_bytes(b"\x00\x00")
    with pytest.raises(InputError, match="too short"):
        read_idx(path, expected_ndim=1)
