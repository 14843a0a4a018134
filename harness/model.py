"""The blog post's multilayer perceptron."""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

from harness.fused_adam import fuse_adam_update
from harness.space import HIDDEN_ACTIVATIONS, LEARNING_RATE_RANGE, NUM_LAYERS_RANGE, NUM_NODES_RANGE

# Running several batches per compiled call roughly halves a CPU trial here without changing what
# is computed per batch. XLA does not pay for itself on this MLP: compiling each trial's train and
# test steps costs 3-7 s, and the steady epochs are no faster (docs/performance.md), so it is off.
DEFAULT_STEPS_PER_EXECUTION = 32


def _check_arguments(learning_rate, num_layers, num_nodes, hidden_activation) -> None:
    low, high = LEARNING_RATE_RANGE
    if isinstance(learning_rate, bool) or not isinstance(learning_rate, numbers.Real) \
            or not math.isfinite(learning_rate) or learning_rate <= 0:
        raise ValueError(
            f"learning_rate must be a positive finite number (the seed space spans {low}..{high}), "
            f"got {learning_rate!r}"
        )
    for name, value, (low_int, high_int) in (
        ("num_layers", num_layers, NUM_LAYERS_RANGE),
        ("num_nodes", num_nodes, NUM_NODES_RANGE),
    ):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
            raise ValueError(
                f"{name} must be a positive int (the seed space spans {low_int}..{high_int}), got {value!r}"
            )
    if hidden_activation not in HIDDEN_ACTIVATIONS:
        raise ValueError(
            f"hidden_activation must be one of {', '.join(HIDDEN_ACTIVATIONS)}, got {hidden_activation!r}"
        )


def create_model(
    learning_rate: float,
    num_layers: int,
    num_nodes: int,
    hidden_activation: str,
    *,
    input_shape: Sequence[int] = (28, 28),
    num_classes: int = 10,
    jit_compile: bool = False,
    steps_per_execution: int = DEFAULT_STEPS_PER_EXECUTION,
    fused_adam: bool = True,
):
    """Build and compile the blog's MLP.

    The input is flattened, then `num_layers` hidden Dense layers of `num_nodes` units each with
    `hidden_activation`, then one Dense softmax layer of `num_classes` units. So `num_layers`
    counts the hidden layers only: the model has `num_layers + 1` Dense layers. Compiled with Adam
    at `learning_rate`, sparse categorical cross-entropy and accuracy.

    With `fused_adam` (the default) Adam applies its update with TensorFlow's fused kernel where
    Keras 3 runs on TensorFlow (harness.fused_adam): the same algorithm, faster, not bit for bit
    Keras's own numbers; `fused_adam=False` keeps Keras's update.

    Any positive `num_layers`/`num_nodes` and learning rate is accepted; the seed space searches
    1e-4..1e-1, 3..10 and 10..300. Invalid values raise ValueError naming the argument.
    """
    _check_arguments(learning_rate, num_layers, num_nodes, hidden_activation)
    # numpy scalars (as skopt returns them) become plain numbers: Keras rejects units=np.int64(...)
    learning_rate, num_layers, num_nodes = float(learning_rate), int(num_layers), int(num_nodes)
    if num_classes < 2:
        raise ValueError(f"num_classes must be at least 2, got {num_classes!r}")

    import keras

    layers = [keras.Input(shape=tuple(input_shape)), keras.layers.Flatten()]
    for index in range(num_layers):
        layers.append(keras.layers.Dense(num_nodes, activation=hidden_activation, name=f"hidden_{index + 1}"))
    layers.append(keras.layers.Dense(num_classes, activation="softmax", name="output"))
    model = keras.Sequential(layers, name="mlp")
    optimizer = keras.optimizers.Adam(learning_rate=learning_rate)
    if fused_adam:
        fuse_adam_update(optimizer)
    model.compile(
        optimizer=optimizer,
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        jit_compile=jit_compile,
        steps_per_execution=steps_per_execution,
    )
    return model


def trainable_parameter_count(*, input_size: int, num_layers: int, num_nodes: int, num_classes: int) -> int:
    """The closed-form number of trainable weights of `create_model`'s network."""
    first = input_size * num_nodes + num_nodes
    hidden = (num_layers - 1) * (num_nodes * num_nodes + num_nodes)
    output = num_nodes * num_classes + num_classes
    return first + hidden + output


__all__ = ["create_model", "trainable_parameter_count"]
