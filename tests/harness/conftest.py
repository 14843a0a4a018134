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


MODEL_MODULE = (
    "from harness.model import create_model\n"
    "def model(input_shape, num_classes, **params):\n"
    "    return create_model(**params, input_shape=input_shape, num_classes=num_classes, jit_compile=False)\n"
)


@pytest.fixture
def model_by_location(tmp_path, monkeypatch, digits):
    """A create_model whose module only this process can import: loaded from its file under a dotted
    name whose package does not exist, as pytest's --import-mode=importlib loads tests/test_x.py."""
    import importlib.util
    import sys
    import types

    path = tmp_path / "model_by_location.py"
    path.write_text(MODEL_MODULE)
    name = "no_such_package.model_by_location"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "no_such_package", types.ModuleType("no_such_package"))  # as pytest does
    monkeypatch.setitem(sys.modules, name, module)
    spec.loader.exec_module(module)
    return functools.partial(module.model, input_shape=digits.input_shape, num_classes=digits.num_classes)
