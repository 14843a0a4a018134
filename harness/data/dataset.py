"""One `Dataset` type for every source: training, validation and test arrays plus a fingerprint."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np

from harness.errors import InputError


@dataclass(frozen=True, slots=True, eq=False)
class Dataset:
    """Arrays for one tuning problem, with integer class labels.

    The search trains on (x_train, y_train) and scores on (x_val, y_val); the test arrays are
    only used to evaluate the final best model and may be omitted. `fingerprint` hashes the
    content of every array, so two datasets with the same fingerprint hold the same numbers;
    `train_fingerprint` and `validation_fingerprint` hash one split each. Scores are comparable
    when measured on the same validation set, whatever the training data: a change in the
    training data (a broken pipeline, scrambled labels) is what a tuning test should catch.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray | None = None
    y_test: np.ndarray | None = None
    name: str = "custom"
    num_classes: int | None = None
    fingerprint: str = field(init=False)
    train_fingerprint: str = field(init=False)
    validation_fingerprint: str = field(init=False)

    def __post_init__(self) -> None:
        splits = {"train": (self.x_train, self.y_train), "val": (self.x_val, self.y_val)}
        if (self.x_test is None) != (self.y_test is None):
            raise InputError("give both x_test and y_test, or neither")
        if self.x_test is not None:
            splits["test"] = (self.x_test, self.y_test)
        checked = {split: _check_split(split, x, y) for split, (x, y) in splits.items()}
        shapes = {split: x.shape[1:] for split, (x, _) in checked.items()}
        if len(set(shapes.values())) != 1:
            raise InputError(f"example shapes differ between splits ({shapes}); every split needs the same shape")
        largest_label = max(int(y.max()) for _, y in checked.values())
        num_classes = self.num_classes
        if num_classes is None:
            num_classes = largest_label + 1
        elif largest_label >= num_classes:
            raise InputError(
                f"a label is {largest_label} but num_classes is {num_classes}; labels must lie in 0..{num_classes - 1}"
            )
        if num_classes < 2:
            raise InputError("the labels hold a single class; a classifier needs at least two")
        for split, (x, y) in checked.items():
            object.__setattr__(self, f"x_{split}", x)
            object.__setattr__(self, f"y_{split}", y)
        object.__setattr__(self, "num_classes", num_classes)
        object.__setattr__(self, "fingerprint", _fingerprint(checked))
        object.__setattr__(self, "train_fingerprint", _fingerprint({"train": checked["train"]}))
        object.__setattr__(self, "validation_fingerprint", _fingerprint({"val": checked["val"]}))

    @property
    def input_shape(self) -> tuple[int, ...]:
        """The shape of one example."""
        return tuple(self.x_train.shape[1:])

    @property
    def has_test(self) -> bool:
        return self.x_test is not None

    def describe(self) -> dict:
        """Sizes and fingerprint, for results files and reports."""
        return {
            "name": self.name,
            "fingerprint": self.fingerprint,
            "train_fingerprint": self.train_fingerprint,
            "validation_fingerprint": self.validation_fingerprint,
            "input_shape": list(self.input_shape),
            "num_classes": self.num_classes,
            "train": len(self.y_train),
            "val": len(self.y_val),
            "test": len(self.y_test) if self.y_test is not None else 0,
        }


def _check_split(split: str, x, y) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x)
    y = np.asarray(y)
    if x.ndim < 2:
        raise InputError(f"x_{split} has shape {x.shape}; it needs one row per example, e.g. (n, 28, 28)")
    if len(x) == 0:
        raise InputError(f"x_{split} is empty; every split needs at least one example")
    if y.ndim == 2 and len(y) == len(x) and y.shape[1] > 1:
        raise InputError(f"y_{split} has shape {y.shape}: one-hot labels; give one integer label per example, "
                         f"e.g. y_{split}.argmax(axis=1)")
    if y.ndim != 1 or len(y) != len(x):
        raise InputError(
            f"y_{split} has shape {y.shape} but x_{split} has {len(x)} examples; "
            "give one integer label per example"
        )
    if not np.issubdtype(x.dtype, np.number) or np.issubdtype(x.dtype, np.complexfloating):
        raise InputError(f"x_{split} has dtype {x.dtype}; features must be real numbers")
    if np.issubdtype(x.dtype, np.floating) and not np.isfinite(x).all():
        raise InputError(f"x_{split} contains NaN or infinite values; clean or impute them first")
    if not np.issubdtype(y.dtype, np.integer):
        raise InputError(f"y_{split} has dtype {y.dtype}; labels must be integer class indices (use y.astype(int))")
    if y.min() < 0:
        raise InputError(f"y_{split} holds the negative label {int(y.min())}; labels must be 0..num_classes-1")
    if np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float32, copy=False)
    return x, y.astype(np.int64, copy=False)


def _fingerprint(splits: dict[str, tuple[np.ndarray, np.ndarray]]) -> str:
    digest = hashlib.sha256()
    for split, arrays in sorted(splits.items()):
        for array in arrays:
            array = np.ascontiguousarray(array)
            digest.update(f"{split}:{array.dtype.str}:{array.shape};".encode())
            digest.update(memoryview(array).cast("B"))
    return digest.hexdigest()[:16]


def stratified_take(labels: np.ndarray, count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Split indices into `count` taken and the rest left, keeping class proportions.

    Each class gets its proportional share, the rounding remainder going to the classes
    with the largest fractional parts; indices are shuffled within a class by `rng`.
    Both returned index arrays are sorted.
    """
    labels = np.asarray(labels)
    if not 0 < count < len(labels):
        raise InputError(f"cannot take {count} of {len(labels)} examples; choose a size between 1 and {len(labels) - 1}")
    classes, counts = np.unique(labels, return_counts=True)
    exact = counts * (count / len(labels))
    shares = np.floor(exact).astype(int)
    remainder = count - shares.sum()
    order = np.argsort(-(exact - shares), kind="stable")
    shares[order[:remainder]] += 1
    taken = []
    for label, share in zip(classes, shares):
        members = np.flatnonzero(labels == label)
        rng.shuffle(members)
        taken.append(members[:share])
    taken_idx = np.sort(np.concatenate(taken))
    mask = np.ones(len(labels), dtype=bool)
    mask[taken_idx] = False
    return taken_idx, np.flatnonzero(mask)
