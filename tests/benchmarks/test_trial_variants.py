"""What else was tried to speed up a trial at the blog's best point, each against the harness trial.

The best point [0.000296, 7, 300, 'relu'] is dominated by the matrix products of seven 300-unit
layers, so what removes per-step overhead (XLA, steps per execution) gains less there than at the
default point. Each variant changes one thing of the harness trial (full Fashion-MNIST, batch 64,
2 epochs to keep the run short); a ratio below 1 would be a gain. Thread settings need a fresh
process (TensorFlow fixes them at start-up), so every variant runs in its own subprocess.
"""

import json
import subprocess
import sys

import pytest

from harness.data import loaders

pytestmark = pytest.mark.skipif(not loaders.DEBIAN_FASHION_MNIST_DIR.is_dir(), reason="needs dataset-fashion-mnist")

VARIANT_SCRIPT = r"""
import json, sys, time
variant = sys.argv[1]
import tensorflow as tf
if variant == "one inter-op thread":
    tf.config.threading.set_inter_op_parallelism_threads(1)
import keras
from harness import create_model, load_fashion_mnist
data = load_fashion_mnist(validate_on="test")
keras.utils.set_random_seed(1)
model = create_model(0.000296, 7, 300, "relu", steps_per_execution=128 if variant == "128 steps per execution" else 32)
started = time.perf_counter()
if variant == "cached tf.data pipeline":
    train = (tf.data.Dataset.from_tensor_slices((data.x_train, data.y_train)).cache()
             .shuffle(len(data.y_train), seed=1, reshuffle_each_iteration=True).batch(64).prefetch(4))
    validation = tf.data.Dataset.from_tensor_slices((data.x_val, data.y_val)).batch(2000).cache().prefetch(2)
    history = model.fit(train, epochs=2, validation_data=validation, verbose=0)
else:
    extra = {"validation_batch_size": 2000} if variant == "validation at batch 2000" else {}
    history = model.fit(data.x_train, data.y_train, epochs=2, batch_size=64, shuffle=True, verbose=0,
                        validation_data=(data.x_val, data.y_val), **extra)
print(json.dumps({"seconds": time.perf_counter() - started, "val_accuracy": history.history["val_accuracy"][-1]}))
"""

VARIANTS = ["validation at batch 2000", "cached tf.data pipeline", "one inter-op thread", "128 steps per execution"]


def timed(variant: str) -> dict:
    run = subprocess.run([sys.executable, "-c", VARIANT_SCRIPT, variant], capture_output=True, text=True, check=True)
    return json.loads(run.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("variant", VARIANTS)
def test_trial_variant_against_the_harness_trial(benchmark, record_ratio, variant):
    harness = timed("harness")
    other = benchmark.pedantic(timed, args=(variant,), rounds=1, iterations=1)
    ratio = other["seconds"] / harness["seconds"]
    record_ratio(name=f"best-point trial, {variant} / harness", value=ratio, target="< 1 to be worth adopting",
                 met=ratio < 1,
                 detail=f"harness {harness['seconds']:.1f} s (val acc {harness['val_accuracy']:.4f}), "
                        f"variant {other['seconds']:.1f} s (val acc {other['val_accuracy']:.4f})")
