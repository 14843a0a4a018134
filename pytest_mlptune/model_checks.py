"""Hypothesis checks of a user's `create_model`: valid points of any skopt space, and what the search needs.

    from pytest_mlptune.model_checks import check_create_model

    def test_my_model_builds_anywhere_in_the_space():
        check_create_model(create_model, SPACE, input_shape=(20,), num_classes=3)

A search calls `create_model` at points nobody tried by hand; these checks find the point where it
breaks before a tuning run spends its budget there. Imports Hypothesis, NumPy and Keras when used,
never at plugin load.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st


class ModelCheckError(AssertionError):
    """`create_model` broke the contract the search relies on at the point named in the message."""


def _dimension_strategy(dimension) -> st.SearchStrategy:
    from skopt.space import Categorical, Integer, Real

    from harness.space import plain_value

    if isinstance(dimension, Categorical):
        return st.sampled_from([plain_value(category) for category in dimension.categories])
    low, high = plain_value(dimension.low), plain_value(dimension.high)
    if isinstance(dimension, Integer):
        return st.integers(int(low), int(high))
    if isinstance(dimension, Real):
        if dimension.prior == "log-uniform":
            # Uniform in the logarithm, like the search's own sampling, clipped against rounding at the ends.
            return st.floats(math.log(low), math.log(high)).map(lambda x: min(max(math.exp(x), low), high))
        return st.floats(float(low), float(high))
    raise TypeError(f"unsupported skopt dimension {dimension!r}")


def points(space: Sequence) -> st.SearchStrategy[dict[str, Any]]:
    """Valid points of `space` as the search passes them: a dict of dimension name to plain int, float or str."""
    from harness.space import validate_space

    dimensions = validate_space(space)
    names = [dimension.name for dimension in dimensions]
    strategy = st.fixed_dictionaries({dimension.name: _dimension_strategy(dimension) for dimension in dimensions})
    return strategy.map(lambda drawn: {name: drawn[name] for name in names})  # in the space's order


def check_model_at(create_model: Callable[..., Any], params: dict[str, Any], *, input_shape: Sequence[int],
                   num_classes: int, batch: int = 8) -> None:
    """Build the model at `params` and check it is something the search can train and score.

    It must be a compiled model whose logs report `accuracy` (the search reads val_accuracy), map a
    batch to `num_classes` probabilities per example that sum to 1, and take one training step with
    a finite loss. Raises ModelCheckError naming the point and what broke.
    """
    import keras
    import numpy as np

    def fail(problem: str) -> None:
        raise ModelCheckError(f"create_model({params}): {problem}")

    keras.backend.clear_session()
    rng = np.random.default_rng(0)
    x = rng.random((batch, *input_shape), dtype=np.float32)
    y = np.arange(batch) % num_classes
    try:
        model = create_model(**params)
    except Exception as error:  # noqa: BLE001 - any exception at a valid point is the finding
        fail(f"raised {type(error).__name__}: {error}")
    if getattr(model, "optimizer", None) is None:
        fail("returned a model that is not compiled; call model.compile(...) with an optimizer")
    probabilities = np.asarray(model(x, training=False))
    if probabilities.shape != (batch, num_classes):
        fail(f"outputs shape {probabilities.shape[1:]} per batch of {batch}, expected ({num_classes},) class probabilities")
    if not np.all(np.isfinite(probabilities)) or probabilities.min() < 0 \
            or not np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-3):
        fail("outputs are not probabilities that sum to 1 (end the model with a softmax over the classes)")
    logs = model.train_on_batch(x, y, return_dict=True)
    if "accuracy" not in logs:
        fail(f"training reports {sorted(logs)}, not accuracy; compile with metrics=['accuracy']")
    if not math.isfinite(float(logs["loss"])):
        fail(f"one training step gave the loss {float(logs['loss'])}")


def check_create_model(create_model: Callable[..., Any], space: Sequence, *, input_shape: Sequence[int],
                       num_classes: int, max_examples: int = 10) -> None:
    """Run `check_model_at` at `max_examples` points Hypothesis draws from `space` (it shrinks a failure)."""

    @settings(max_examples=max_examples, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    @given(points(space))
    def check(params: dict[str, Any]) -> None:
        check_model_at(create_model, params, input_shape=input_shape, num_classes=num_classes)

    check()


__all__ = ["ModelCheckError", "check_create_model", "check_model_at", "points"]
