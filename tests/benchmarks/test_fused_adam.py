"""Trials with Adam's fused update (harness.fused_adam) against the same trials with Keras's own update.

One process, one TensorFlow thread, full Fashion-MNIST validated on the test set, 5 epochs, batch
64, validation after every epoch as under a prune rule, the training seed fixed. For each point
the two arms alternate (stock, fused, stock, fused), so background load hits both alike; the
ratio is the fused arm's median trial time over the stock arm's. The points span the space's
networks: the blog's default point, a middle one, a wide shallow one (the kind that wins), the
largest. The scores differ a little (the fused kernel rounds one constant otherwise), so they are
reported, not compared.
"""

import functools

import pytest

from harness.data import loaders

from .conftest import interleaved_seconds, median

pytestmark = pytest.mark.skipif(not loaders.DEBIAN_FASHION_MNIST_DIR.is_dir(), reason="needs dataset-fashion-mnist")

POINTS = {
    "default [0.01, 3, 16, relu]": dict(learning_rate=0.01, num_layers=3, num_nodes=16, hidden_activation="relu"),
    "middle [0.0003, 4, 125, relu]": dict(learning_rate=0.0003, num_layers=4, num_nodes=125, hidden_activation="relu"),
    "wide [0.0003, 3, 299, relu]": dict(learning_rate=0.0003, num_layers=3, num_nodes=299, hidden_activation="relu"),
    "large [0.0003, 9, 300, relu]": dict(learning_rate=0.0003, num_layers=9, num_nodes=300, hidden_activation="relu"),
}


@pytest.fixture(scope="module")
def fashion_on_one_thread():
    from harness.threads import pin_threads

    pin_threads(1)  # imports TensorFlow without its start-up noise, one intra-op thread
    import tensorflow as tf

    tf.config.threading.set_inter_op_parallelism_threads(1)
    from harness import load_fashion_mnist

    return load_fashion_mnist(validate_on="test")


@pytest.mark.parametrize("point", POINTS)
def test_a_trial_with_the_fused_update_against_keras_update(benchmark, record_ratio, fashion_on_one_thread, point):
    from harness import create_model
    from harness.trial import run_trial

    scores = {}

    def trial(fused: bool):
        result, _ = run_trial(create_model=functools.partial(create_model, fused_adam=fused), params=POINTS[point],
                              data=fashion_on_one_thread, index=0, seed=7, epochs=5, batch_size=64, stop_below={})
        assert result.ok
        scores[fused] = result.score

    stock, fused = benchmark.pedantic(interleaved_seconds, args=(lambda: trial(False), lambda: trial(True)),
                                      kwargs={"rounds": 2}, rounds=1, iterations=1)
    ratio = median(fused) / median(stock)
    record_ratio(name=f"5-epoch trial at {point}, fused Adam / Keras's Adam", value=ratio, target="< 1",
                 met=ratio < 1,
                 detail=f"Keras's {median(stock):.1f} s (score {scores[False]:.4f}), fused {median(fused):.1f} s "
                        f"(score {scores[True]:.4f}), median of 2 alternating")
