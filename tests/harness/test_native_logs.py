"""TensorFlow's start-up noise is hidden; everything else written to stderr still shows."""

import os

import pytest

from harness import native_logs

NOISE = [
    b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n",
    b"I0000 00:00:1796097289.393182    3234 cudart_stub.cc:31] Could not find cuda drivers on your machine, "
    b"GPU will not be used.\n",
    b"E0000 00:00:1796097298.012863    3234 cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA error: "
    b"Failed call to cuInit: UNKNOWN ERROR (303)\n",
]
REAL = b"E0000 00:00:1796097298.012863    3234 allocator.cc:52] Out of memory while trying to allocate 1.2GiB\n"


@pytest.fixture
def quiet(monkeypatch):
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)
    monkeypatch.delenv(native_logs.QUIET_VARIABLE, raising=False)
    assert native_logs.request_quiet(verbose=False)
    yield


def write_to_file_descriptor_2(*lines):
    for line in lines:
        os.write(2, line)


def test_start_up_noise_is_hidden_and_other_lines_are_kept_in_order(quiet, capfd):
    with native_logs.start_up_noise_filtered():
        write_to_file_descriptor_2(NOISE[0], REAL, *NOISE[1:], b"Traceback (most recent call last):\n")
    assert capfd.readouterr().err.encode() == REAL + b"Traceback (most recent call last):\n"


def test_nothing_is_hidden_when_quiet_was_not_asked_for(monkeypatch, capfd):
    monkeypatch.delenv(native_logs.QUIET_VARIABLE, raising=False)
    with native_logs.start_up_noise_filtered():
        write_to_file_descriptor_2(*NOISE)
    assert capfd.readouterr().err.encode() == b"".join(NOISE)


def test_an_error_inside_the_block_still_shows_what_was_written(quiet, capfd):
    with pytest.raises(RuntimeError), native_logs.start_up_noise_filtered():
        write_to_file_descriptor_2(NOISE[0], REAL)
        raise RuntimeError
    assert capfd.readouterr().err.encode() == REAL


@pytest.mark.parametrize(("verbose", "level"), [(True, None), (False, "0")])
def test_the_user_s_choice_wins(monkeypatch, verbose, level):
    monkeypatch.delenv(native_logs.QUIET_VARIABLE, raising=False)
    if level is None:
        monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)
    else:
        monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", level)
    assert not native_logs.request_quiet(verbose=verbose)
    assert not native_logs.quiet_requested()
    assert os.environ.get("TF_CPP_MIN_LOG_LEVEL") == level
