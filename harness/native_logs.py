"""TensorFlow's start-up chatter on stderr, hidden unless the user asks for it.

Importing TensorFlow on a machine without a GPU prints about ten lines from C++ (absl's
"before InitializeLog" warning, "Could not find cuda drivers", "failed call to cuInit", the CPU
feature notice). Those lines come from native code before TensorFlow's own log level applies,
so `TF_CPP_MIN_LOG_LEVEL` alone cannot hide them (measured with TF 2.21: level 3 still prints
them). They are all written while TensorFlow is imported and its devices are listed, so that one
step runs with stderr sent to a file, and every line that is not known start-up noise is written
back afterwards: a real error in that window is still shown, only later.

The command line turns this on (`request_quiet`), unless the user set `TF_CPP_MIN_LOG_LEVEL`
or passed `-v`; child processes inherit the choice through the environment.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

QUIET_VARIABLE = "MLPTUNE_QUIET_NATIVE_LOGS"

# Lines TensorFlow prints at start-up on a CPU-only machine; each says nothing is wrong.
START_UP_NOISE = re.compile(
    rb"All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    rb"|cudart_stub\.cc.*Could not find cuda drivers"
    rb"|cuda_platform\.cc.*failed call to cuInit"
    rb"|cuda_(dnn|fft|blas)\.cc.*Unable to register cu(DNN|FFT|BLAS) factory"
    rb"|computation_placer\.cc.*computation placer already registered"
    rb"|cpu_feature_guard\.cc"
    rb"|^To enable the following instructions: .* rebuild TensorFlow with the appropriate compiler flags"
    rb"|TF-TRT Warning: Could not find TensorRT"
    rb"|oneDNN custom operations are on"
    rb"|^To turn them off, set the environment variable `TF_ENABLE_ONEDNN_OPTS=0`"
)


def request_quiet(*, verbose: bool) -> bool:
    """Hide start-up noise here and in child processes, unless the user chose a log level or -v."""
    if verbose or "TF_CPP_MIN_LOG_LEVEL" in os.environ:
        return False
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"  # after start-up: TensorFlow's own INFO and WARNING lines
    os.environ[QUIET_VARIABLE] = "1"
    return True


def quiet_requested() -> bool:
    return os.environ.get(QUIET_VARIABLE) == "1"


@contextmanager
def start_up_noise_filtered() -> Iterator[None]:
    """Within the block, stderr (file descriptor 2, where C++ writes) goes to a file; then the rest is shown."""
    if not quiet_requested():
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            for line in captured:
                if not START_UP_NOISE.search(line):
                    os.write(2, line)


def import_tensorflow() -> None:
    """Import TensorFlow and look for devices (where CUDA is probed), without the start-up noise."""
    with start_up_noise_filtered():
        import tensorflow as tf

        tf.config.list_physical_devices("GPU")
        import logging

        # each trial builds a new model, so Keras' retracing warnings are expected here
        logging.getLogger("tensorflow").setLevel(logging.ERROR)
