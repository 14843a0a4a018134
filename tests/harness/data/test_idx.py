import gzip

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.data.idx import read_idx, write_idx
from harness.errors import InputError


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


def test_an_empty_but_consistent_file_is_refused(tmp_path):
    path = tmp_path / "labels"
    write_idx(path, np.zeros(0, dtype=np.uint8))
    with pytest.raises(InputError, match=r"IDX header \(0,\) holds no data"):
        read_idx(path, expected_ndim=1)


def test_a_header_too_large_to_multiply_safely_is_refused_before_reading(tmp_path):
    path = tmp_path / "images"
    path.write_bytes(bytes([0, 0, 8, 3]) + b"\xff\xff\xff\xff" * 3)  # 2^96 bytes: wraps in int64
    with pytest.raises(InputError, match="more than the .* this reader accepts"):
        read_idx(path, expected_ndim=3)


def test_a_gzip_bomb_is_refused_without_inflating_it(tmp_path):
    import tracemalloc

    path = tmp_path / "labels.gz"
    header = bytes([0, 0, 8, 1]) + (10).to_bytes(4, "big")
    with gzip.open(path, "wb") as handle:  # 200 MB of zeros behind a header that announces 10 bytes
        handle.write(header)
        for _ in range(200):
            handle.write(bytes(1 << 20))
    assert path.stat().st_size < 1 << 20
    tracemalloc.start()
    with pytest.raises(InputError, match="longer than its header says"):
        read_idx(path, expected_ndim=1)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 5 << 20


@given(st.binary(max_size=64))
def test_arbitrary_bytes_load_or_give_the_one_line_error(tmp_path_factory, content):
    for name in ("f", "f.gz"):
        path = tmp_path_factory.getbasetemp() / name
        path.write_bytes(gzip.compress(content) if name.endswith(".gz") and content[:1] != b"\x1f" else content)
        try:
            array = read_idx(path, expected_ndim=1)
        except InputError as error:
            assert "\n" not in str(error)
        else:
            assert array.ndim == 1 and array.size > 0


@given(st.binary(max_size=64))
def test_arbitrary_bytes_after_a_valid_magic_load_or_give_the_one_line_error(tmp_path_factory, rest):
    path = tmp_path_factory.getbasetemp() / "g"
    path.write_bytes(bytes([0, 0, 8, 2]) + rest)
    try:
        read_idx(path, expected_ndim=2)
    except InputError as error:
        assert "\n" not in str(error)
