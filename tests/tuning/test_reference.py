"""The project's own tuning regression tests: the blog's MLP on two small, fixed problems.

Run with `pytest --tune --n-calls 10 -m tune` (CI does). The problems are defined in
`families.py`, which the mutation panel (tests/panel) shares, so the detection floors it measures
are those of these two tests.
"""

import pytest

from tests.tuning.families import DIGITS, FASHION


@pytest.mark.tune
@pytest.mark.parametrize("family", [FASHION, DIGITS], ids=lambda family: family.name)
def test_reference_mlp(mlptune, family):
    data = family.load()
    result = mlptune.search(create_model=family.model(data), space=family.space, data=data,
                            epochs=family.epochs, batch_size=family.batch_size)
    mlptune.check(result)
