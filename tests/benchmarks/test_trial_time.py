"""One trial of the blog protocol (full Fashion-MNIST, 5 epochs, batch 64): harness against a blog-style trial.

The seed-style trial is what the blog's fitness function does: plain Keras `fit` on numpy arrays,
default compile, a TensorBoard callback. The harness trial is `run_trial` with `create_model`'s
defaults (32 steps per execution, no XLA). Same data, seed, optimizer, epochs, batch and shuffling.
"""

import tempfile
from pathlib import Path

import pytest

from harness import create_model, load_fashion_mnist
from harness.data import loaders
from harness.trial import run_trial
from tests.benchmarks.blog_search import blog_model

pytestmark = pytest.mark.skipif(not loaders.DEBIAN_FASHION_MNIST_DIR.is_dir(), reason="needs dataset-fashion-mnist")

POINTS = {"default": (0.01, 3, 16, "relu"), "best": (0.000296, 7, 300, "relu")}


def seed_style_trial(data, point, log_dir):
    import keras

    keras.backend.clear_session()
    keras.utils.set_random_seed(1)
    model = blog_model(*point)
    history = model.fit(data.x_train, data.y_train, epochs=5, batch_size=64, validation_data=(data.x_val, data.y_val),
                        callbacks=[keras.callbacks.TensorBoard(log_dir=str(log_dir))], verbose=0)
    return history.history["val_accuracy"][-1]


def harness_trial(data, point, log_dir):
    names = ("learning_rate", "num_layers", "num_nodes", "hidden_activation")
    trial, _ = run_trial(create_model=create_model, params=dict(zip(names, point)), data=data, index=0, seed=1,
                         epochs=5, batch_size=64, log_dir=Path(log_dir))
    return trial.score


@pytest.mark.parametrize("point_name", list(POINTS))
def test_trial_time_against_seed_style(benchmark, record_ratio, point_name):
    import time

    data = load_fashion_mnist(validate_on="test")
    point = POINTS[point_name]
    with tempfile.TemporaryDirectory() as logs:
        started = time.perf_counter()
        seed_score = seed_style_trial(data, point, Path(logs) / "seed")
        seed_seconds = time.perf_counter() - started
        started = time.perf_counter()
        harness_score = benchmark.pedantic(harness_trial, args=(data, point, Path(logs) / "harness"),
                                           rounds=1, iterations=1)
        harness_seconds = time.perf_counter() - started
    ratio = harness_seconds / seed_seconds
    record_ratio(name=f"trial time harness/seed-style at the {point_name} point", value=ratio, target="<= 0.5",
                 met=ratio <= 0.5,
                 detail=f"seed-style {seed_seconds:.1f} s (val acc {seed_score:.4f}), "
                        f"harness {harness_seconds:.1f} s (val acc {harness_score:.4f})")
