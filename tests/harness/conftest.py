import functools

import pytest

from harness.data.loaders import load_digits
from harness.model import create_model


@pytest.fixture(scope="module")
def digits():
    """A 600-example digits subset: real data, and a trial of a second or two."""
    return load_digits(train_size=600)


@pytest.fixture(scope="module")
def digits_model(digits):
    """The blog's MLP sized for digits, without XLA (compiling costs more than it saves here)."""
    return functools.partial(create_model, input_shape=digits.input_shape, num_classes=digits.num_classes,
                             jit_compile=False)
