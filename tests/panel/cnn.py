"""The panel's second model family: a small convolutional network on digits, with its own search space.

Panel-only (not a gate test): it shows the verdict on a model that is not the blog's MLP. The
variants mirror those of `mutated_mlp`, so the same mutations apply.
"""

from __future__ import annotations

import numpy as np
from skopt.space import Integer, Real

from tests.panel.mutations import compiled

CNN_SPACE = (
    Integer(4, 32, name="filters"),
    Integer(16, 128, name="units"),
    Real(1e-4, 1e-1, prior="log-uniform", name="learning_rate"),
)


def mutated_cnn(filters, units, learning_rate, *, input_shape, num_classes, variant: str | None = None):
    """Conv(3x3, relu) -> max-pool -> dense(relu) -> softmax on 8x8 images, or one of the panel's variants."""
    import keras

    if variant == "learning_rate_bug":
        learning_rate = learning_rate / 3
    elif variant == "learning_rate_x10":
        learning_rate = learning_rate * 10
    elif variant == "extra_random_draw":
        keras.initializers.GlorotUniform()(shape=(4, 4))
    elif variant == "reseeded_streams":
        keras.utils.set_random_seed(int(np.random.randint(2**31 - 1)))
    separate = variant == "activation_layers"

    def conv():
        return keras.layers.Conv2D(filters, 3, padding="same", activation=None if separate else "relu", name="conv")

    def dense():
        return keras.layers.Dense(units, activation=None if separate else "relu", name="dense")

    if variant == "layer_order":
        dense_layer, conv_layer = dense(), conv()
    else:
        conv_layer, dense_layer = conv(), dense()
    if variant == "frozen_layer":
        conv_layer.trainable = False
    layers = [keras.Input(shape=tuple(input_shape)), keras.layers.Reshape((*input_shape, 1)), conv_layer]
    if separate:
        layers.append(keras.layers.Activation("relu"))
    layers += [keras.layers.MaxPooling2D(2), keras.layers.Flatten()]
    if variant == "dropout":
        layers.append(keras.layers.Dropout(0.3))
    layers.append(dense_layer)
    if separate:
        layers.append(keras.layers.Activation("relu"))
    if variant == "dropout":
        layers.append(keras.layers.Dropout(0.3))
    layers.append(keras.layers.Dense(num_classes, activation="softmax", name="output"))
    return compiled(keras.Sequential(layers, name="cnn"), learning_rate)
