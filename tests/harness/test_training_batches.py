"""The training batches: Keras's own shuffled batches with tf.data's autotuning off, the same trials as from arrays."""

import importlib.metadata
import math
import sys

import pytest

import harness.trial
from harness.training_batches import training_batches
from harness.trial import run_trial

PARAMS = {"learning_rate": 0.003, "num_layers": 3, "num_nodes": 32, "hidden_activation": "relu"}
KERAS_3 = int(importlib.metadata.version("keras").split(".")[0]) >= 3


@pytest.mark.skipif(not KERAS_3, reason="Keras 2 trains from the arrays (no array adapter to borrow)")
def test_the_batches_are_not_autotuned_and_fit_knows_their_count(digits):
    batches = training_batches(digits, batch_size=64)
    assert batches.options().autotune.enabled is False  # what removes the wait at each epoch boundary
    assert int(batches.cardinality()) == math.ceil(len(digits.y_train) / 64)
    sizes = [len(y) for _, y in batches]
    assert sizes[:-1] == [64] * (len(sizes) - 1) and sum(sizes) == len(digits.y_train)


def test_a_trial_on_the_batches_is_the_trial_on_the_arrays(digits, digits_model, monkeypatch):
    """Every epoch's score and every weight equal, so no run or baseline changes with the pipeline."""
    def trained():
        trial, model = run_trial(create_model=digits_model, params=PARAMS, data=digits, index=0, seed=8, epochs=3,
                                 batch_size=64, stop_below={})
        return trial.epoch_scores, trial.val_loss, [w.tolist() for w in model.get_weights()]

    on_batches = trained()
    monkeypatch.setattr(harness.trial, "training_batches", lambda data, batch_size: None)
    assert trained() == on_batches
    assert len(on_batches[0]) == 3


def test_without_the_array_adapter_a_trial_trains_from_the_arrays(digits, digits_model, monkeypatch):
    monkeypatch.setitem(sys.modules, "keras.src.trainers.data_adapters.array_data_adapter", None)  # import fails
    assert training_batches(digits, batch_size=64) is None
    trial, model = run_trial(create_model=digits_model, params=PARAMS, data=digits, index=0, seed=8, epochs=1,
                             batch_size=64)
    assert trial.ok and model is not None


@pytest.mark.skipif(not KERAS_3, reason="Keras 2 has no array adapter to replace")
def test_an_array_adapter_laid_out_otherwise_leaves_the_arrays_to_fit(digits, monkeypatch):
    from keras.src.trainers.data_adapters import array_data_adapter

    class Otherwise:  # a Keras whose private adapter lost the method this module borrows
        def __init__(self, *args, **kwargs):
            pass

    monkeypatch.setattr(array_data_adapter, "ArrayDataAdapter", Otherwise)
    assert training_batches(digits, batch_size=64) is None
