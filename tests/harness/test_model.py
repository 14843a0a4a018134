import functools

import keras
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.model import create_model, trainable_parameter_count
from harness.space import HIDDEN_ACTIVATIONS, REFERENCE_SPACE
from pytest_mlptune.model_checks import check_create_model, points


def dense_layers(model):
    return [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]


def test_default_point_builds_the_seed_network():
    model = create_model(0.01, 3, 16, "relu")
    dense = dense_layers(model)
    assert [layer.units for layer in dense] == [16, 16, 16, 10]
    assert [layer.activation.__name__ for layer in dense] == ["relu", "relu", "relu", "softmax"]
    assert model.output_shape == (None, 10)
    assert float(model.optimizer.learning_rate.numpy()) == pytest.approx(0.01)
    assert model.loss == "sparse_categorical_crossentropy"


def test_input_shape_and_classes_follow_the_data():
    model = create_model(0.001, 1, 8, "tanh", input_shape=(8, 8), num_classes=4)
    assert model.input_shape == (None, 8, 8) and model.output_shape == (None, 4)


@given(points(REFERENCE_SPACE))
def test_any_point_of_the_seed_space_builds_the_network_it_names(params):
    learning_rate, num_layers, num_nodes, activation = params.values()
    keras.backend.clear_session()
    model = create_model(learning_rate, num_layers, num_nodes, activation, jit_compile=False)
    dense = dense_layers(model)
    assert len(dense) == num_layers + 1
    assert [layer.units for layer in dense] == [num_nodes] * num_layers + [10]
    assert {layer.activation.__name__ for layer in dense[:-1]} == {activation}
    assert dense[-1].activation.__name__ == "softmax"
    assert model.output_shape == (None, 10)
    expected = trainable_parameter_count(input_size=784, num_layers=num_layers, num_nodes=num_nodes, num_classes=10)
    assert model.count_params() == expected
    rows = model(np.random.default_rng(0).random((3, 28, 28), dtype=np.float32)).numpy()
    np.testing.assert_allclose(rows.sum(axis=1), 1.0, rtol=1e-5)


def test_the_seed_model_keeps_the_contract_the_search_relies_on():
    # The same check users run on their own create_model (pytest_mlptune.model_checks).
    reference_mlp = functools.partial(create_model, input_shape=(8, 8), num_classes=10, jit_compile=False)
    check_create_model(reference_mlp, REFERENCE_SPACE, input_shape=(8, 8), num_classes=10, max_examples=5)


def test_parameter_count_by_hand():
    # 784*16+16, 2*(16*16+16), 16*10+10
    assert trainable_parameter_count(input_size=784, num_layers=3, num_nodes=16, num_classes=10) == 12560 + 544 + 170


@given(st.one_of(st.floats(max_value=0.0), st.just(float("nan")), st.just(float("inf")), st.text(max_size=3)))
def test_invalid_learning_rate_names_the_argument(value):
    with pytest.raises(ValueError, match="learning_rate must be a positive finite number"):
        create_model(value, 3, 16, "relu")


@given(st.one_of(st.integers(max_value=0), st.floats(allow_nan=False), st.booleans(), st.none()))
def test_invalid_layer_counts_name_the_argument(value):
    with pytest.raises(ValueError, match=r"num_layers must be a positive int \(the seed space spans 3..10\)"):
        create_model(0.01, value, 16, "relu")
    with pytest.raises(ValueError, match=r"num_nodes must be a positive int \(the seed space spans 10..300\)"):
        create_model(0.01, 3, value, "relu")


@given(st.text().filter(lambda s: s not in HIDDEN_ACTIVATIONS))
def test_unknown_activation_names_the_choices(value):
    with pytest.raises(ValueError, match="hidden_activation must be one of sigmoid, tanh, relu"):
        create_model(0.01, 3, 16, value)


def test_numpy_scalars_from_skopt_are_accepted():
    # Keras 3 rejects units=np.int64(...); create_model converts, so direct callers need not.
    model = create_model(np.float64(0.01), np.int64(3), np.int64(16), np.str_("relu"), jit_compile=False)
    assert [layer.units for layer in dense_layers(model)] == [16, 16, 16, 10]
