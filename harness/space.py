"""The search space: the blog post's four dimensions and helpers for any named space."""

from __future__ import annotations

import hashlib
import inspect
import json
from collections.abc import Sequence
from typing import Any

from skopt.space import Categorical, Dimension, Integer, Real

from harness.errors import InputError

HIDDEN_ACTIVATIONS = ("sigmoid", "tanh", "relu")

LEARNING_RATE_RANGE = (1e-4, 1e-1)
NUM_LAYERS_RANGE = (3, 10)
NUM_NODES_RANGE = (10, 300)

REFERENCE_SPACE: tuple[Dimension, ...] = (
    Real(*LEARNING_RATE_RANGE, prior="log-uniform", name="learning_rate"),
    Integer(*NUM_LAYERS_RANGE, name="num_layers"),
    Integer(*NUM_NODES_RANGE, name="num_nodes"),
    Categorical(list(HIDDEN_ACTIVATIONS), name="hidden_activation"),
)
"""The blog post's search space, in the order of `create_model`'s arguments."""

DEFAULT_POINT: tuple[float, int, int, str] = (0.01, 3, 16, "relu")
"""The blog post's hand-picked starting point, evaluated as the first call."""


def validate_space(space: Sequence[Dimension]) -> list[Dimension]:
    """Return the space as a list after checking every dimension is a named skopt Dimension."""
    dimensions = list(space)
    if not dimensions:
        raise InputError("the search space is empty: give at least one named skopt dimension")
    names = []
    for position, dimension in enumerate(dimensions):
        if not isinstance(dimension, Dimension):
            raise InputError(
                f"search space entry {position} is {type(dimension).__name__}, not a skopt "
                "Dimension: use skopt.space.Real, Integer or Categorical"
            )
        if not dimension.name:
            raise InputError(
                f"search space dimension {position} ({dimension!r}) has no name: pass name=... "
                "matching an argument of create_model"
            )
        names.append(dimension.name)
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise InputError(f"search space names repeat: {', '.join(duplicates)}; give each dimension its own name")
    for dimension in dimensions:
        if isinstance(dimension, Real) and dimension.prior == "log-uniform" and dimension.low <= 0:
            raise InputError(
                f"dimension {dimension.name!r} is log-uniform with lower bound {dimension.low}: "
                "log-uniform bounds must be positive"
            )
    return dimensions


def check_space_fits_create_model(space: Sequence[Dimension], create_model: Any) -> None:
    """Every dimension names an argument of `create_model`, and every argument it needs has a dimension.

    Said before the search, in one line: otherwise each trial fails with the same TypeError and the
    search stops after a few of them. A signature Python cannot read is left for the trials to try.
    """
    if not callable(create_model):
        raise InputError(f"create_model is {type(create_model).__name__}, not a function; pass the function that "
                         "builds and compiles your model")
    try:
        parameters = inspect.signature(create_model).parameters.values()
    except (TypeError, ValueError):
        return
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return
    takes = [p.name for p in parameters if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                                       inspect.Parameter.KEYWORD_ONLY)]
    names = [dimension.name for dimension in space]
    unknown = [name for name in names if name not in takes]
    if unknown:
        raise InputError(f"search space names {', '.join(map(repr, unknown))} but create_model takes "
                         f"({', '.join(takes)}); give each dimension the name of an argument")
    missing = [p.name for p in parameters if p.default is inspect.Parameter.empty and p.name not in names
               and p.kind is not inspect.Parameter.VAR_POSITIONAL]
    if missing:
        raise InputError(f"create_model needs {', '.join(map(repr, missing))}, which no dimension of the search "
                         "space names; add a dimension with that name or give the argument a default")


def plain_value(value: Any) -> int | float | str | bool:
    """Convert a numpy scalar from skopt into the matching plain Python type."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"cannot convert {value!r} ({type(value).__name__}) to a plain JSON value")


def point_to_params(space: Sequence[Dimension], point: Sequence[Any]) -> dict[str, int | float | str | bool]:
    """Name a point of the space, with plain Python values (Keras rejects numpy ints as units)."""
    return {dimension.name: plain_value(value) for dimension, value in zip(space, point, strict=True)}


def describe_dimension(dimension: Dimension) -> dict[str, Any]:
    """A JSON description of one dimension, stable across skopt versions."""
    if isinstance(dimension, Categorical):
        return {"name": dimension.name, "type": "categorical",
                "categories": [plain_value(c) for c in dimension.categories]}
    kind = "real" if isinstance(dimension, Real) else "integer"
    return {"name": dimension.name, "type": kind, "low": plain_value(dimension.low),
            "high": plain_value(dimension.high), "prior": dimension.prior}


def space_fingerprint(space: Sequence[Dimension]) -> str:
    """A short hash of the space's names, types, bounds and priors."""
    description = [describe_dimension(d) for d in space]
    blob = json.dumps(description, sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def check_point_in_space(space: Sequence[Dimension], point: Sequence[Any]) -> None:
    """Raise InputError when a starting point does not fit the space."""
    if len(point) != len(space):
        raise InputError(
            f"the starting point has {len(point)} values but the space has {len(space)} dimensions: "
            "give one value per dimension, in order"
        )
    for dimension, value in zip(space, point):
        if value not in dimension:
            raise InputError(
                f"starting point value {value!r} is outside dimension {dimension.name!r} ({dimension}): "
                "change the point or widen the dimension"
            )
