"""Adam's fused update: the same algorithm as Keras's Adam to float32 rounding, a plain Adam when saved."""

import importlib.metadata

import numpy as np
import pytest

from harness.fused_adam import fuse_adam_update

KERAS_3 = int(importlib.metadata.version("keras").split(".")[0]) >= 3
needs_keras_3 = pytest.mark.skipif(not KERAS_3, reason="Keras 2 keeps its own Adam (nothing to fuse)")


def _train(*, fused: bool, steps: int, **adam):
    """A small dense network trained `steps` steps from fixed weights on fixed data; its weights after."""
    import keras

    keras.utils.set_random_seed(3)
    model = keras.Sequential([keras.Input(shape=(12,)), keras.layers.Dense(16, activation="tanh"),
                              keras.layers.Dense(3, activation="softmax")])
    optimizer = keras.optimizers.Adam(**adam)
    if fused:
        assert fuse_adam_update(optimizer) is KERAS_3
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64 * steps, 12)).astype("float32")
    y = rng.integers(0, 3, size=64 * steps)
    initial = [w.copy() for w in model.get_weights()]
    model.fit(x, y, batch_size=64, epochs=1, shuffle=False, verbose=0)
    return initial, model.get_weights(), model


@needs_keras_3
@pytest.mark.parametrize("adam", [{"learning_rate": 0.01}, {"learning_rate": 0.003, "beta_1": 0.8, "beta_2": 0.99,
                                                             "epsilon": 1e-4}])
def test_the_fused_update_is_keras_adam_to_float32_rounding(adam):
    initial, stock, _ = _train(fused=False, steps=20, **adam)
    _, fused, _ = _train(fused=True, steps=20, **adam)
    moved = max(float(np.max(np.abs(s - i))) for s, i in zip(stock, initial))
    assert moved > 1e-2  # the check below compares real updates, not two untouched networks
    for s, f in zip(stock, fused):
        # 1 - beta_1 rounds differently in the kernel (float32) than in Keras (a double rounded
        # once): a few units in the last place after 20 steps; a wrong beta, epsilon, learning rate
        # or bias correction moves weights by about 1e-3 here
        np.testing.assert_allclose(f, s, rtol=0, atol=1e-5)


@needs_keras_3
def test_the_optimizer_stays_a_keras_adam_and_its_model_loads_without_this_package(tmp_path):
    import keras

    _, weights, model = _train(fused=True, steps=2, learning_rate=0.01)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert type(loaded.optimizer) is keras.optimizers.Adam
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    for saved, reloaded in zip(weights, loaded.get_weights()):
        np.testing.assert_array_equal(saved, reloaded)


def test_only_a_plain_keras_adam_is_fused():
    import keras

    class MyAdam(keras.optimizers.Adam):
        pass

    assert fuse_adam_update(keras.optimizers.SGD()) is False
    assert fuse_adam_update(MyAdam()) is False  # a subclass may have its own update_step
    assert fuse_adam_update(keras.optimizers.Adam(amsgrad=True)) is False
    assert fuse_adam_update(keras.optimizers.Adam()) is KERAS_3


@needs_keras_3
def test_create_model_fuses_unless_asked_not_to():
    import keras

    from harness import create_model

    params = {"learning_rate": 0.001, "num_layers": 3, "num_nodes": 10, "hidden_activation": "relu"}
    assert "update_step" in vars(create_model(**params).optimizer)  # patched on the instance
    assert "update_step" not in vars(create_model(**params, fused_adam=False).optimizer)
    assert type(create_model(**params).optimizer) is keras.optimizers.Adam
