"""The batches a trial trains on: Keras's own shuffled batches, without tf.data's autotuning.

`fit(x, y, shuffle=True)` on arrays builds a tf.data pipeline whose parallel gather and prefetch
are autotuned. Keras makes a new iterator for every epoch, and freeing the previous one waits
for the autotuner's background thread to wake up: here 0.1-4.9 s of idle wall time at every
epoch boundary, about as long as one epoch of the network (no CPU is used while it waits), so
a 5-epoch trial of a large network lost up to a third of its time (docs/performance.md, "The
wait between epochs"). The same pipeline with autotuning switched off yields the same batches
in the same order (autotuning only sizes buffers and thread counts, and the gather stays
deterministic), so every trial computes what it computed before, without the waits.
"""

from __future__ import annotations

from typing import Any

from harness.data.dataset import Dataset


def training_batches(data: Dataset, *, batch_size: int) -> Any | None:
    """The shuffled training batches as a tf.data.Dataset, or None where this Keras cannot build them.

    None (Keras 2, as TensorFlow 2.15 bundles, or a Keras without the array adapter) means:
    give `fit` the arrays, as before; only the time differs.
    """
    import tensorflow as tf

    try:  # a private module of Keras 3: any Keras that lays it out otherwise trains from the arrays
        from keras.src.trainers.data_adapters.array_data_adapter import ArrayDataAdapter

        adapter = ArrayDataAdapter(data.x_train, data.y_train, batch_size=batch_size, shuffle=True)
        batches = adapter.get_tf_dataset()
        count = adapter.num_batches
    except (ImportError, AttributeError, TypeError):
        return None
    options = tf.data.Options()
    options.autotune.enabled = False
    # the count `fit` would know from the arrays: it ends each epoch on it, as with arrays, instead of
    # running into the end of the data and warning that it did
    return batches.with_options(options).apply(tf.data.experimental.assert_cardinality(count))


__all__ = ["training_batches"]
