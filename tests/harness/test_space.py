import numpy as np
import pytest
from skopt.space import Categorical, Integer, Real

from harness.errors import InputError
from harness.model import create_model
from harness.space import (
    DEFAULT_POINT,
    REFERENCE_SPACE,
    check_point_in_space,
    check_space_fits_create_model,
    point_to_params,
    space_fingerprint,
    validate_space,
)


def test_seed_space_matches_the_blog():
    learning_rate, num_layers, num_nodes, activation = REFERENCE_SPACE
    assert (learning_rate.name, learning_rate.low, learning_rate.high, learning_rate.prior) == (
        "learning_rate", 1e-4, 1e-1, "log-uniform")
    assert (num_layers.name, num_layers.low, num_layers.high) == ("num_layers", 3, 10)
    assert (num_nodes.name, num_nodes.low, num_nodes.high) == ("num_nodes", 10, 300)
    assert (activation.name, list(activation.categories)) == ("hidden_activation", ["sigmoid", "tanh", "relu"])
    assert DEFAULT_POINT == (0.01, 3, 16, "relu")
    check_point_in_space(REFERENCE_SPACE, DEFAULT_POINT)


def test_params_are_plain_python_types():
    params = point_to_params(REFERENCE_SPACE, [np.float64(0.01), np.int64(3), np.int64(16), np.str_("relu")])
    assert params == {"learning_rate": 0.01, "num_layers": 3, "num_nodes": 16, "hidden_activation": "relu"}
    assert [type(v) for v in params.values()] == [float, int, int, str]


def test_empty_space_is_rejected():
    with pytest.raises(InputError, match="search space is empty"):
        validate_space([])


def test_unnamed_dimension_is_rejected():
    with pytest.raises(InputError, match="has no name"):
        validate_space([Integer(1, 3)])


def test_repeated_names_are_rejected():
    with pytest.raises(InputError, match="names repeat: a"):
        validate_space([Integer(1, 3, name="a"), Real(0, 1, name="a")])


def test_non_dimension_is_rejected():
    with pytest.raises(InputError, match="not a skopt Dimension"):
        validate_space([(1, 3)])


def test_non_positive_log_uniform_bound_is_rejected():
    dimension = Real(1e-4, 1e-1, prior="log-uniform", name="learning_rate")
    dimension.low = 0.0  # skopt itself accepts this and fails later with a math error
    with pytest.raises(InputError, match="log-uniform bounds must be positive"):
        validate_space([dimension])


def test_point_outside_space_is_rejected():
    with pytest.raises(InputError, match="outside dimension 'num_layers'"):
        check_point_in_space(REFERENCE_SPACE, (0.01, 30, 16, "relu"))
    with pytest.raises(InputError, match="has 2 values but the space has 4"):
        check_point_in_space(REFERENCE_SPACE, (0.01, 3))


def test_fingerprint_changes_with_bounds_names_and_categories():
    base = space_fingerprint(REFERENCE_SPACE)
    assert base == space_fingerprint(list(REFERENCE_SPACE))
    wider = [Real(1e-5, 1e-1, prior="log-uniform", name="learning_rate"), *REFERENCE_SPACE[1:]]
    renamed = [*REFERENCE_SPACE[:3], Categorical(["sigmoid", "tanh", "relu"], name="activation")]
    fewer = [*REFERENCE_SPACE[:3], Categorical(["tanh", "relu"], name="hidden_activation")]
    assert len({base, space_fingerprint(wider), space_fingerprint(renamed), space_fingerprint(fewer)}) == 4


def test_a_space_that_does_not_fit_create_model_is_refused_before_any_trial():
    import functools

    space = [Integer(4, 64, name="units"), Real(1e-3, 1e-1, name="learning_rate")]

    def model(units, learning_rate, dropout=0.0):
        pass

    check_space_fits_create_model(space, model)
    check_space_fits_create_model(space, lambda **params: None)  # takes any name
    check_space_fits_create_model(space, functools.partial(lambda units, learning_rate, shape: None, shape=(8,)))
    check_space_fits_create_model(REFERENCE_SPACE, create_model)  # the blog's model and space
    with pytest.raises(InputError, match=r"search space names 'width' but create_model takes \(units, learning_rate, "
                                         r"dropout\); give each dimension the name of an argument"):
        check_space_fits_create_model([Integer(4, 64, name="width"), space[1]], model)
    with pytest.raises(InputError, match="create_model needs 'units', which no dimension of the search space names"):
        check_space_fits_create_model(space[1:], model)
    with pytest.raises(InputError, match="create_model is NoneType, not a function"):
        check_space_fits_create_model(space, None)
