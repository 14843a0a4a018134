import os

import pytest

# The model and data of a small user project, written into pytester's folder. QUALITY=bad scrambles
# every training label (a broken data pipeline); the baseline comparison must catch it.
TUNING_PROJECT = '''
import os

import numpy as np
import pytest
from skopt.space import Integer, Real

from harness import Dataset


def make_data():
    rng = np.random.default_rng(0)
    centers = rng.normal(size=(3, 6)) * 3
    y = np.arange(300) % 3
    x = centers[y] + rng.normal(size=(300, 6))
    y_train = y[:240].copy()
    if os.environ.get("QUALITY") == "bad":
        y_train = rng.permutation(y_train)
    return Dataset(x_train=x[:240], y_train=y_train, x_val=x[240:], y_val=y[240:])


def create_model(units, learning_rate):
    import keras

    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(units, activation="relu"),
                              keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


SPACE = [Integer(2, 8, name="units"), Real(1e-2, 1e-1, prior="log-uniform", name="learning_rate")]


@pytest.mark.tune
@pytest.mark.parametrize("widest", [8, 16])
def test_blobs(mlptune, widest):
    space = [Integer(2, widest, name="units"), Real(1e-2, 1e-1, prior="log-uniform", name="learning_rate")]
    result = mlptune.search(create_model=create_model, space=space, data=make_data(), epochs=2, batch_size=32)
    mlptune.check(result)
'''


@pytest.fixture
def tuning_project(pytester: pytest.Pytester):
    pytester.makepyfile(test_blobs=TUNING_PROJECT)
    os.environ.pop("QUALITY", None)
    return pytester
