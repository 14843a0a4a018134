import numpy as np
import pytest

from harness.data.dataset import Dataset, stratified_take
from harness.errors import InputError


def make(**overrides):
    rng = np.random.default_rng(0)
    arrays = dict(x_train=rng.random((30, 4, 4)), y_train=np.arange(30) % 3,
                  x_val=rng.random((9, 4, 4)), y_val=np.arange(9) % 3)
    arrays.update(overrides)
    return Dataset(**arrays)


def test_built_from_user_arrays_by_keyword():
    data = make()
    assert data.num_classes == 3
    assert data.input_shape == (4, 4)
    assert data.x_train.dtype == np.float32 and data.y_train.dtype == np.int64
    assert not data.has_test
    assert data.describe()["train"] == 30


def test_fingerprint_follows_content():
    assert make().fingerprint == make().fingerprint
    changed = make().x_train.copy()
    changed[0, 0, 0] += 1.0
    assert make(x_train=changed).fingerprint != make().fingerprint
    assert make(y_val=np.roll(np.arange(9) % 3, 1)).fingerprint != make().fingerprint


@pytest.mark.parametrize(("overrides", "message"), [
    ({"y_train": np.arange(29) % 3}, "y_train has shape"),
    ({"y_val": np.eye(3)[np.arange(9) % 3]}, r"y_val has shape \(9, 3\): one-hot labels; .* y_val.argmax\(axis=1\)"),
    ({"y_train": (np.arange(30) % 3).astype(float)}, "labels must be integer"),
    ({"y_val": np.arange(9) - 1}, "negative label"),
    ({"x_val": np.full((9, 4, 4), np.nan)}, "NaN"),
    ({"x_val": np.zeros((9, 5))}, "example shapes differ"),
    ({"x_test": np.zeros((2, 4, 4))}, "give both x_test and y_test"),
    ({"x_train": np.zeros((0, 4, 4)), "y_train": np.zeros(0, dtype=int)}, "x_train is empty"),
    ({"y_train": np.zeros(30, dtype=int), "y_val": np.zeros(9, dtype=int)}, "single class"),
])
def test_bad_arrays_are_rejected_with_the_fix(overrides, message):
    with pytest.raises(InputError, match=message):
        make(**overrides)


def test_labels_beyond_num_classes_are_rejected():
    with pytest.raises(InputError, match="labels must lie in 0..1"):
        make(num_classes=2)


def test_stratified_take_keeps_proportions_and_partitions():
    labels = np.repeat(np.arange(4), [40, 30, 20, 10])
    taken, rest = stratified_take(labels, 25, np.random.default_rng(1))
    assert len(taken) == 25 and len(rest) == 75
    assert sorted(np.concatenate([taken, rest]).tolist()) == list(range(100))
    # shares 10, 7.5, 5, 2.5: the one left over goes to the first largest remainder
    assert np.bincount(labels[taken]).tolist() == [10, 8, 5, 2]


def test_stratified_take_is_seeded():
    labels = np.arange(100) % 5
    first, _ = stratified_take(labels, 20, np.random.default_rng(3))
    again, _ = stratified_take(labels, 20, np.random.default_rng(3))
    other, _ = stratified_take(labels, 20, np.random.default_rng(4))
    assert first.tolist() == again.tolist() and first.tolist() != other.tolist()


def test_stratified_take_rejects_impossible_sizes():
    with pytest.raises(InputError, match="cannot take 10 of 10"):
        stratified_take(np.arange(10) % 2, 10, np.random.default_rng(0))
