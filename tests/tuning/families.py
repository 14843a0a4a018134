"""The project's two reference tuning problems, shared by the tuning gate and the mutation panel.

Sizes are chosen for detection power at a gate's cost: a trial here spends about a second
building and tracing its model whatever the data, so more rows and epochs are cheap, and they
make a configuration's score depend less on its training seed (the noise a verdict must see
through). XLA is off: compiling each trial's model costs more than it saves on data this small.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

from harness import REFERENCE_SPACE, Dataset, create_model, load_digits, load_fashion_mnist


@dataclass(frozen=True, slots=True)
class Family:
    """A reference tuning problem: its data, and how each trial trains."""

    name: str
    load: Callable[[], Dataset]
    epochs: int
    batch_size: int = 64
    space: tuple = REFERENCE_SPACE

    def model(self, data: Dataset, **options):
        """The blog's MLP sized for `data` (extra options go to `create_model`)."""
        return functools.partial(create_model, input_shape=data.input_shape, num_classes=data.num_classes,
                                 jit_compile=False, **options)


# 3,000 training images stratified from the 60,000, validated on the 10,000 test images: a large
# validation set halves the part of a score's noise that comes from which images are scored.
FASHION_SUBSET = 3000
FASHION = Family(name="fashion",
                 load=lambda: load_fashion_mnist(train_size=FASHION_SUBSET, validate_on="test"), epochs=5)
DIGITS = Family(name="digits", load=load_digits, epochs=5)  # 1,198 train / 240 validation
FAMILIES = {family.name: family for family in (FASHION, DIGITS)}
"""The gate's problems. The mutation panel adds `digits_cnn` (tests/panel/cnn.py), a second model family."""
