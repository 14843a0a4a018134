"""A project that knows only the README: its own model, space and data, through the whole workflow."""

import sys

import pytest

USER_TEST = '''
import os

import numpy as np
import pytest
from sklearn.datasets import load_digits
from skopt.space import Integer, Real

from harness import Dataset


def create_model(units, learning_rate):
    import keras

    hidden = 2 if os.environ.get("MODE") == "narrow" else units  # the "really worse" model
    if os.environ.get("MODE") == "reseeded":  # harmless: one more random draw shifts every stream after it
        keras.initializers.GlorotUniform()(shape=(2, 2))
    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(hidden, activation="relu"),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def my_data():
    x, y = load_digits(return_X_y=True)
    x = x / 16.0
    x_train, y_train, x_val, y_val = x[:1400], y[:1400].copy(), x[1400:], y[1400:]
    if os.environ.get("MODE") == "scrambled":  # a broken pipeline: 30% of training labels wrong
        rng = np.random.default_rng(0)
        chosen = rng.choice(len(y_train), size=int(0.3 * len(y_train)), replace=False)
        y_train[chosen] = (y_train[chosen] + rng.integers(1, 10, size=len(chosen))) % 10
    return Dataset(x_train=x_train, y_train=y_train, x_val=x_val, y_val=y_val)


SPACE = [Integer(16, 64, name="units"), Real(1e-3, 3e-2, prior="log-uniform", name="learning_rate")]


@pytest.mark.tune
def test_my_model_still_tunes(mlptune):
    result = mlptune.search(create_model=create_model, space=SPACE, data=my_data(), epochs=3, batch_size=64)
    mlptune.check(result)
'''


@pytest.mark.slow  # an end-to-end run: make test-slow
def test_create_baseline_pass_then_catch_real_damage(pytester, monkeypatch):
    pytester.makepyfile(test_mine=USER_TEST)
    budget = ["--tune", "--n-calls", "3", "-p", "no:cacheprovider"]
    monkeypatch.delenv("MODE", raising=False)

    # (Before this, the test fails for want of a baseline: test_plugin.py's lifecycle shows that message.)
    created = pytester.run(sys.executable, "-m", "harness.cli", "baselines", "update", "--n-calls", "3",
                           "-p", "no:cacheprovider")
    assert created.ret == 0, created.stdout.str()
    # (Unchanged code reproduces its baseline exactly: test_plugin.py's lifecycle shows that too.)

    monkeypatch.setenv("MODE", "reseeded")  # another search path and other initial weights, the same model
    harmless = pytester.runpytest_subprocess(*budget)
    harmless.assert_outcomes(passed=1)
    harmless.stdout.fnmatch_lines(["*test_my_model_still_tunes*ok*"])

    for mode, data_changed in (("narrow", False), ("scrambled", True)):
        monkeypatch.setenv("MODE", mode)
        damaged = pytester.runpytest_subprocess(*budget)
        damaged.assert_outcomes(failed=1)
        damaged.stdout.fnmatch_lines(["*tuning regressed: replay -0.* ± 0.* over * configs x 4 seeds (bound 0.*): "
                                      "regressed; search best * vs baseline * (-0.*, bound 0.0500): *; "
                                      "baseline baselines/*/test_mine--test_my_model_still_tunes.json; *"])
        # the scrambled labels change the data the baseline was recorded on, and the message says so
        hint = "the training data changed since the baseline; if intended, update with: mlptune baselines update"
        assert (hint in damaged.stdout.str()) == data_changed, damaged.stdout.str()
    assert len(list((pytester.path / "baselines").glob("*/*.json"))) == 1



@pytest.mark.slow  # an end-to-end run: make test-slow
@pytest.mark.parametrize("import_mode", ["prepend", "importlib"])
def test_tests_in_a_folder_of_their_own_replay_their_baseline_under_either_import_mode(pytester, monkeypatch,
                                                                                      import_mode):
    # pytest imports tests/test_mine.py (no __init__.py) from a folder it puts on its own sys.path, or
    # by location under the name tests.test_mine: the replay's trial process must load it either way.
    pytester.mkdir("tests")
    (pytester.path / "tests" / "test_mine.py").write_text(USER_TEST)
    monkeypatch.delenv("MODE", raising=False)
    budget = ["--tune", "--n-calls", "2", "-p", "no:cacheprovider", f"--import-mode={import_mode}", "tests"]
    pytester.runpytest_subprocess("--update-baselines", *budget).assert_outcomes(passed=1)
    checked = pytester.runpytest_subprocess(*budget)
    checked.assert_outcomes(passed=1)
    checked.stdout.fnmatch_lines(["*tests/test_mine.py::test_my_model_still_tunes*+0.0000 ± 0.0000 (*x4)*ok*"])
