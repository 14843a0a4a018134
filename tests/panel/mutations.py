"""Changes to a reference tuning problem, each of known intent: harmless, or a real regression.

A harmless change alters the random streams or the float rounding and nothing else, as a
refactor, a patch release or another CPU does; the verdict must pass it. A regression is a bug
users make (a data pipeline, a model definition, an optimizer setting); its true size is
measured, and the verdict must catch every one of 2 points or more.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from harness import Dataset
from harness.model import DEFAULT_STEPS_PER_EXECUTION, create_model

HARMLESS, REGRESSION = "harmless", "regression"
MUTATION_SEED = 12345  # fixed: a mutation is the same change on every run


@dataclass(frozen=True, slots=True)
class Mutation:
    name: str
    kind: str
    description: str
    data: Callable[[Dataset], Dataset] | None = None
    model: str | None = None  # a variant that `mutated_mlp` builds
    environment: tuple[tuple[str, str], ...] = ()  # variables of the case's processes (read when TensorFlow loads)


def _train(data: Dataset, x_train, y_train) -> Dataset:
    return Dataset(x_train=x_train, y_train=y_train, x_val=data.x_val, y_val=data.y_val, x_test=data.x_test,
                   y_test=data.y_test, name=data.name, num_classes=data.num_classes)


def _rescaled(data: Dataset, constant_of) -> Dataset:
    """The training inputs scaled again from their raw pixels by `constant_of(maximum)`."""
    maximum = 255.0 if data.name == "fashion-mnist" else 16.0
    raw = np.rint(data.x_train * np.float32(maximum))
    return _train(data, (raw * np.float32(constant_of(maximum))).astype(np.float32), data.y_train)


def _rescaled_by_reciprocal(data: Dataset) -> Dataset:
    # The loaders divide by the pixel maximum; multiplying by its reciprocal is the same scaling with
    # last-bit differences. Only the training side is rewritten, so the validation set stays identical.
    return _rescaled(data, lambda maximum: 1.0 / maximum)


def _rounded_scale_constant(data: Dataset) -> Dataset:
    # 1/max written as a decimal constant of 7 significant digits: a refactor that moves the last bits only.
    return _rescaled(data, lambda maximum: float(f"{1.0 / maximum:.7g}"))


def _rows_permuted(data: Dataset) -> Dataset:
    order = np.random.default_rng(MUTATION_SEED).permutation(len(data.y_train))
    return _train(data, data.x_train[order], data.y_train[order])


def _unscaled(data: Dataset) -> Dataset:
    maximum = 255.0 if data.name == "fashion-mnist" else 16.0
    return _train(data, (data.x_train * np.float32(maximum)).astype(np.float32), data.y_train)


def _label_noise(fraction: float) -> Callable[[Dataset], Dataset]:
    def apply(data: Dataset) -> Dataset:
        rng = np.random.default_rng(MUTATION_SEED)
        labels = data.y_train.copy()
        chosen = rng.choice(len(labels), size=round(fraction * len(labels)), replace=False)
        labels[chosen] = rng.integers(0, data.num_classes, size=len(chosen))
        return _train(data, data.x_train, labels)

    return apply


def _half_training_set(data: Dataset) -> Dataset:
    keep = np.sort(np.random.default_rng(MUTATION_SEED).permutation(len(data.y_train))[: len(data.y_train) // 2])
    return _train(data, data.x_train[keep], data.y_train[keep])


# `one_thread` (TF_NUM_INTRAOP_THREADS=1) left the panel on 2026-12-02: a search now pins TensorFlow's
# pool to its budget's size (harness.threads), so the variable no longer changes a trial, and a pool
# of another size is a budget a baseline refuses as not comparable instead of noise to absorb.
MUTATIONS = {m.name: m for m in (
    Mutation("layer_order", HARMLESS, "hidden layers constructed last to first (initializer seeds drawn in another order)",
             model="layer_order"),
    Mutation("extra_random_draw", HARMLESS, "one extra seeded initializer call before the model is built",
             model="extra_random_draw"),
    Mutation("activation_layers", HARMLESS, "activations as separate Activation layers instead of Dense(activation=)",
             model="activation_layers"),
    Mutation("reciprocal_scaling", HARMLESS, "inputs scaled by multiplying with 1/max instead of dividing by max",
             data=_rescaled_by_reciprocal),
    Mutation("row_order", HARMLESS, "training rows stored in another (fixed) order", data=_rows_permuted),
    Mutation("onednn_off", HARMLESS, "TensorFlow's oneDNN kernels turned off (other kernels, other rounding)",
             environment=(("TF_ENABLE_ONEDNN_OPTS", "0"),)),
    Mutation("reseeded_streams", HARMLESS, "create_model reseeds every generator from NumPy's seeded stream",
             model="reseeded_streams"),
    Mutation("rounded_scale_constant", HARMLESS, "inputs scaled by 1/max written as a 7-digit decimal constant",
             data=_rounded_scale_constant),
    Mutation("unscaled_inputs", REGRESSION, "the scaling step dropped: training inputs in 0..max, validation in 0..1",
             data=_unscaled),
    Mutation("dropout_left_on", REGRESSION, "Dropout(0.3) after every hidden layer, left in from an experiment",
             model="dropout"),
    Mutation("frozen_layer", REGRESSION, "the first hidden layer frozen (trainable=False)", model="frozen_layer"),
    Mutation("label_noise_10", REGRESSION, "10% of training labels replaced by random ones", data=_label_noise(0.10)),
    Mutation("label_noise_20", REGRESSION, "20% of training labels replaced by random ones", data=_label_noise(0.20)),
    Mutation("label_noise_30", REGRESSION, "30% of training labels replaced by random ones", data=_label_noise(0.30)),
    Mutation("learning_rate_bug", REGRESSION, "the learning rate divided by 3 on its way to the optimizer",
             model="learning_rate_bug"),
    Mutation("learning_rate_x10", REGRESSION, "the learning rate multiplied by 10 (a unit slip)",
             model="learning_rate_x10"),
    Mutation("half_training_set", REGRESSION, "half of the training rows lost", data=_half_training_set),
)}


def apply_to_data(mutation: Mutation, data: Dataset) -> Dataset:
    return mutation.data(data) if mutation.data is not None else data


def mutated_mlp(learning_rate, num_layers, num_nodes, hidden_activation, *, input_shape, num_classes,
                variant: str | None = None):
    """The blog's MLP of `harness.create_model` (XLA off), or one of the panel's variants of it."""
    if variant is None:
        return create_model(learning_rate, num_layers, num_nodes, hidden_activation, input_shape=input_shape,
                            num_classes=num_classes, jit_compile=False)
    import keras

    if variant in ("learning_rate_bug", "learning_rate_x10"):
        factor = 1 / 3 if variant == "learning_rate_bug" else 10
        return create_model(learning_rate * factor, num_layers, num_nodes, hidden_activation, input_shape=input_shape,
                            num_classes=num_classes, jit_compile=False)
    if variant == "extra_random_draw":
        keras.initializers.GlorotUniform()(shape=(4, 4))
    if variant == "reseeded_streams":
        keras.utils.set_random_seed(int(np.random.randint(2**31 - 1)))
    separate_activation = variant == "activation_layers"

    def hidden_layer(index: int):
        return keras.layers.Dense(num_nodes, activation=None if separate_activation else hidden_activation,
                                  name=f"hidden_{index + 1}")

    if variant == "layer_order":
        hidden = [hidden_layer(index) for index in reversed(range(num_layers))][::-1]
    else:
        hidden = [hidden_layer(index) for index in range(num_layers)]
    layers = [keras.Input(shape=tuple(input_shape)), keras.layers.Flatten()]
    for index, layer in enumerate(hidden):
        if variant == "frozen_layer" and index == 0:
            layer.trainable = False
        layers.append(layer)
        if separate_activation:
            layers.append(keras.layers.Activation(hidden_activation))
        if variant == "dropout":
            layers.append(keras.layers.Dropout(0.3))
    layers.append(keras.layers.Dense(num_classes, activation="softmax", name="output"))
    return compiled(keras.Sequential(layers, name="mlp"), learning_rate)


def compiled(model, learning_rate: float):
    """Compiled as `harness.create_model` compiles the blog's MLP (XLA off), for every panel model."""
    import keras

    model.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"], jit_compile=False,
                  steps_per_execution=DEFAULT_STEPS_PER_EXECUTION)
    return model
