"""The Hypothesis checks users run on their own create_model: they pass a good model and name what breaks."""

import pytest
from hypothesis import given, settings
from skopt.space import Categorical, Integer, Real

from harness.space import REFERENCE_SPACE
from pytest_mlptune.model_checks import ModelCheckError, check_create_model, check_model_at, points

SPACE = [Integer(2, 64, name="units"), Real(1e-4, 1e-1, prior="log-uniform", name="learning_rate"),
         Categorical(["relu", "tanh"], name="activation")]


@settings(max_examples=200)
@given(points(REFERENCE_SPACE))
def test_points_are_valid_plain_points_of_the_space(params):
    assert list(params) == [dimension.name for dimension in REFERENCE_SPACE]
    for dimension in REFERENCE_SPACE:
        value = params[dimension.name]
        assert type(value) in (int, float, str) and value in dimension


def model(units, learning_rate, activation, *, output="softmax", metrics=("accuracy",), compiled=True, classes=3,
          break_above=None):
    import keras

    if break_above is not None and units > break_above:
        raise ValueError(f"units {units} too many")
    built = keras.Sequential([keras.Input((5,)), keras.layers.Dense(units, activation=activation),
                              keras.layers.Dense(classes, activation=output)])
    if compiled:
        built.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="sparse_categorical_crossentropy",
                      metrics=list(metrics))
    return built


def test_a_good_model_passes():
    check_create_model(model, SPACE, input_shape=(5,), num_classes=3, max_examples=5)


@pytest.mark.parametrize(("options", "message"), [
    (dict(output=None), "not probabilities that sum to 1"),
    (dict(classes=4), r"outputs shape \(4,\) per batch of 8, expected \(3,\)"),
    (dict(metrics=()), "not accuracy; compile with metrics=\\['accuracy'\\]"),
    (dict(compiled=False), "not compiled"),
])
def test_each_broken_contract_is_named(options, message):
    import functools

    with pytest.raises(ModelCheckError, match=message):
        check_model_at(functools.partial(model, **options), {"units": 4, "learning_rate": 0.01, "activation": "relu"},
                       input_shape=(5,), num_classes=3)


def test_hypothesis_finds_and_shrinks_the_point_where_the_model_breaks():
    import functools

    # One dimension, and most of it breaks: few models are built before the failure is shrunk to the
    # smallest breaking width.
    breaking = functools.partial(model, learning_rate=0.01, activation="relu", break_above=10)
    with pytest.raises(ModelCheckError, match=r"create_model\(\{'units': 11\}\): raised ValueError: units 11 too many"):
        check_create_model(breaking, [Integer(2, 64, name="units")], input_shape=(5,), num_classes=3, max_examples=20)
