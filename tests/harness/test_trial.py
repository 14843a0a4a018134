"""One trial: validation scored without Keras's traced test function, and the same numbers as Keras's own."""

import pytest

import harness.trial
from harness.data.dataset import Dataset
from harness.trial import run_trial, validation_scores

PARAMS = {"learning_rate": 0.003, "num_layers": 3, "num_nodes": 32, "hidden_activation": "relu"}


def test_a_trial_scores_its_model_without_tracing_a_test_function(digits, digits_model):
    trial, model = run_trial(create_model=digits_model, params=PARAMS, data=digits, index=0, seed=5, epochs=2,
                             batch_size=64)
    assert trial.ok and model.test_function is None  # fit(validation_data=...) would have traced one
    loss, accuracy = model.evaluate(digits.x_val, digits.y_val, batch_size=64, verbose=0)
    assert trial.score == accuracy  # exactly: both count correct rows in float32
    assert trial.val_loss == pytest.approx(loss, rel=1e-5)


@pytest.mark.parametrize("params", [
    {"learning_rate": 0.01, "num_layers": 3, "num_nodes": 16, "hidden_activation": "relu"},
    {"learning_rate": 0.0006, "num_layers": 6, "num_nodes": 120, "hidden_activation": "tanh"},
    {"learning_rate": 0.08, "num_layers": 4, "num_nodes": 40, "hidden_activation": "sigmoid"},
])
def test_validation_scores_match_evaluate_in_chunks_of_any_size(digits, digits_model, monkeypatch, params):
    import keras

    keras.utils.set_random_seed(3)
    model = digits_model(**params)
    model.fit(digits.x_train, digits.y_train, epochs=1, batch_size=64, verbose=0)
    _, expected = model.evaluate(digits.x_val, digits.y_val, batch_size=64, verbose=0)
    assert validation_scores(model, digits)[0] == expected
    monkeypatch.setattr(harness.trial, "VALIDATION_CHUNK", 7)  # 240 rows: 34 full chunks and a partial one
    assert validation_scores(model, digits)[0] == expected


def test_validation_scores_use_the_models_own_accuracy_metric(digits):
    """"accuracy" means binary accuracy for one sigmoid unit: the model's compiled metric decides, not the harness."""
    import keras

    odd = lambda y: (y % 2).astype("int64")  # noqa: E731 - a two-class problem from the same images
    data = Dataset(x_train=digits.x_train, y_train=odd(digits.y_train), x_val=digits.x_val, y_val=odd(digits.y_val),
                   name="digits-odd", num_classes=2)
    keras.utils.set_random_seed(4)
    model = keras.Sequential([keras.Input(shape=data.input_shape), keras.layers.Flatten(),
                              keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    model.fit(data.x_train, data.y_train, epochs=1, verbose=0)
    loss, expected = model.evaluate(data.x_val, data.y_val, verbose=0)
    accuracy, val_loss = validation_scores(model, data)
    assert accuracy == expected and 0.5 < accuracy < 1.0
    assert val_loss == pytest.approx(loss, rel=1e-5)


def test_a_model_compiled_without_accuracy_fails_its_trial_with_the_fix(digits):
    def without_accuracy(**_):
        import keras

        model = keras.Sequential([keras.Input(shape=digits.input_shape), keras.layers.Flatten(),
                                  keras.layers.Dense(10, activation="softmax")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        return model

    trial, model = run_trial(create_model=without_accuracy, params=PARAMS, data=digits, index=0, seed=5, epochs=1,
                             batch_size=64)
    assert not trial.ok and model is None
    assert trial.error.startswith("InputError: the model from create_model reports [")  # Keras 2 and 3 differ there
    assert trial.error.endswith("no accuracy; compile it with metrics=['accuracy']")


def test_tensorboard_still_gets_a_validation_curve_of_the_trials_own_scores(digits, digits_model, tmp_path):
    import tensorflow as tf
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    trial, _ = run_trial(create_model=digits_model, params=PARAMS, data=digits, index=0, seed=5, epochs=3,
                         batch_size=64, log_dir=tmp_path / "tb", stop_below={})
    events = EventAccumulator(str(tmp_path / "tb" / "validation"))
    events.Reload()
    logged = [float(tf.make_ndarray(event.tensor_proto)) for event in events.Tensors("epoch_accuracy")]
    assert logged == pytest.approx(trial.epoch_scores, abs=1e-7) and len(logged) == 3


def test_preparing_the_training_state_before_fit_changes_no_number(digits, digits_model, monkeypatch):
    def trained(**options):
        trial, model = run_trial(create_model=digits_model, params=PARAMS, data=digits, index=0, seed=8, epochs=2,
                                 batch_size=64, **options)
        return trial.score, trial.val_loss, [w.tolist() for w in model.get_weights()], model.optimizer.built

    prepared = trained()
    monkeypatch.setattr(harness.trial, "_build_training_state", lambda model, data, batch_size: None)
    assert trained() == prepared  # left to fit, the same weights and scores (only traced twice)
    assert prepared[3]


def test_what_lives_before_the_first_trial_is_frozen_once_and_each_trials_model_is_still_collected(
        digits, digits_model, monkeypatch):
    import gc
    import weakref

    monkeypatch.setattr(harness.trial, "_long_lived_frozen", False)  # as in a fresh process
    _, model = run_trial(create_model=digits_model, params=PARAMS, data=digits, index=0, seed=5, epochs=1,
                         batch_size=64)
    frozen = gc.get_freeze_count()
    assert frozen > 0
    first_model = weakref.ref(model)
    del model
    trial, _ = run_trial(create_model=digits_model, params=PARAMS, data=digits, index=1, seed=6, epochs=1,
                         batch_size=64)
    assert trial.ok
    assert first_model() is None  # collected by the second trial's clear_session, not frozen with the rest
    assert gc.get_freeze_count() == frozen  # the second trial froze nothing


def test_the_hparams_config_declares_the_space_for_tensorboard(tmp_path):
    from tensorboard.backend.event_processing.event_file_loader import EventFileLoader
    from tensorboard.plugins.hparams import metadata

    from harness.space import REFERENCE_SPACE
    from harness.trial import write_hparams_config

    write_hparams_config(tmp_path / "tensorboard", REFERENCE_SPACE)
    (events,) = (tmp_path / "tensorboard").iterdir()
    summaries = [event.summary for event in EventFileLoader(str(events)).Load() if event.HasField("summary")]
    (value,) = [value for summary in summaries for value in summary.value]
    assert value.tag == metadata.EXPERIMENT_TAG
    experiment = metadata.parse_experiment_plugin_data(value.metadata.plugin_data.content)
    assert [info.name for info in experiment.hparam_infos] == [d.name for d in REFERENCE_SPACE]
    assert [info.name.tag for info in experiment.metric_infos] == ["epoch_accuracy", "epoch_loss"]
