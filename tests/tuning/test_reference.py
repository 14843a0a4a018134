"""The project's own tuning regression tests: the seed MLP on small, fixed subsets.

Run with `pytest --tune --n-calls 10`. Sizes are chosen so the pair takes about two minutes
on a 2-core machine; XLA is off because compiling costs more than it saves on data this small.
"""

import functools

import pytest

from harness import SEED_SPACE, create_model, load_digits, load_fashion_mnist

FASHION_SUBSET = 3000  # stratified from the 60,000 training images: 2,500 train / 500 validation
FASHION_EPOCHS = 3


def seed_mlp(data):
    return functools.partial(create_model, input_shape=data.input_shape, num_classes=data.num_classes,
                             jit_compile=False)


@pytest.mark.tune
def test_seed_mlp_on_fashion_mnist_subset(mlptune):
    data = load_fashion_mnist(train_size=FASHION_SUBSET)
    result = mlptune.search(create_model=seed_mlp(data), space=SEED_SPACE, data=data,
                            epochs=FASHION_EPOCHS, batch_size=64)
    mlptune.check(result)


@pytest.mark.tune
def test_seed_mlp_on_digits(mlptune):
    data = load_digits()
    result = mlptune.search(create_model=seed_mlp(data), space=SEED_SPACE, data=data, epochs=5, batch_size=64)
    mlptune.check(result)
