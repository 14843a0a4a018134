"""The built-in datasets: Fashion-MNIST from IDX files and scikit-learn's digits."""

from __future__ import annotations

import functools
import os
from pathlib import Path

import numpy as np

from harness.data import decoded_cache
from harness.data.dataset import Dataset, stratified_take
from harness.data.idx import read_idx
from harness.errors import InputError

DEBIAN_FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
KERAS_CACHE_FASHION_MNIST_DIR = Path("~/.keras/datasets/fashion-mnist")
FASHION_MNIST_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
FASHION_MNIST_CLASSES = 10
INSTALL_HINT = "apt-get update && apt-get install -y dataset-fashion-mnist"

VALIDATE_ON_CHOICES = ("split", "test")
VALIDATION_FRACTION = 1 / 6  # 10,000 of Fashion-MNIST's 60,000 training images, as large as its test set
SPLIT_SEED = 0  # fixed: the data must not change with the search seed, or baselines could not compare
DIGITS_TEST_FRACTION = 0.2


def find_fashion_mnist(data_dir: str | Path | None = None) -> Path:
    """The directory holding the four Fashion-MNIST IDX files (gzip or not)."""
    if data_dir is not None:
        candidates = [Path(data_dir).expanduser()]
    else:
        candidates = [DEBIAN_FASHION_MNIST_DIR, KERAS_CACHE_FASHION_MNIST_DIR.expanduser()]
    for directory in candidates:
        if all(_idx_path(directory, stem) is not None for stem in FASHION_MNIST_FILES.values()):
            return directory
    if data_dir is not None:
        missing = [stem for stem in FASHION_MNIST_FILES.values() if _idx_path(candidates[0], stem) is None]
        raise InputError(
            f"--data-dir {data_dir} lacks {', '.join(m + '.gz' for m in missing)}; "
            f"point it at the Fashion-MNIST IDX files or install them with: {INSTALL_HINT}"
        )
    searched = ", ".join(str(c) for c in candidates)
    raise InputError(
        f"Fashion-MNIST not found (looked in {searched}) and it cannot be downloaded here; "
        f"install it with: {INSTALL_HINT}  (or pass --data-dir DIR)"
    )


def _idx_path(directory: Path, stem: str) -> Path | None:
    for name in (stem + ".gz", stem):
        if (directory / name).is_file():
            return directory / name
    return None


def _file_identity(directory: Path) -> tuple:
    stats = []
    for stem in FASHION_MNIST_FILES.values():
        path = _idx_path(directory, stem)
        status = path.stat()
        stats.append((str(path), status.st_size, status.st_mtime_ns))
    return tuple(stats)


@functools.lru_cache(maxsize=2)
def _decode_fashion_mnist(identity: tuple, *, use_cache: bool = True) -> dict[str, np.ndarray]:
    # Keyed by path, size and mtime so an edited file is decoded again, but a search
    # decodes the files once per process, not once per trial; across processes the disk
    # cache (keyed by the files' content) skips decoding altogether.
    paths = [Path(path) for path, _, _ in identity]
    content_key = decoded_cache.files_key(paths) if use_cache else None
    cached = decoded_cache.load("fashion-mnist", content_key) if use_cache else None
    if cached is not None and set(cached) == set(FASHION_MNIST_FILES):
        try:
            _check_fashion_mnist(cached)  # a cache file is data from disk like any other
            return cached
        except InputError:
            pass  # decode the source files again, which replaces the bad cache entry
    arrays = {}
    for key, path in zip(FASHION_MNIST_FILES, paths):
        arrays[key] = read_idx(path, expected_ndim=3 if key.startswith("x") else 1)
    _check_fashion_mnist(arrays)
    if use_cache:
        decoded_cache.store("fashion-mnist", content_key, arrays)
    return arrays


def _check_fashion_mnist(arrays: dict[str, np.ndarray]) -> None:
    for key, array in arrays.items():
        ndim = 3 if key.startswith("x") else 1
        if array.dtype != np.uint8 or array.ndim != ndim or len(array) == 0:
            raise InputError(f"Fashion-MNIST {key} is not a non-empty {ndim}-dimensional array of bytes; "
                             "replace the files")
    for part in ("train", "test"):
        images, labels = arrays[f"x_{part}"], arrays[f"y_{part}"]
        if len(images) != len(labels):
            raise InputError(
                f"Fashion-MNIST {part} files disagree: {len(images)} images but {len(labels)} labels; "
                "replace the files"
            )
        if images.shape[1:] != (28, 28):
            raise InputError(f"Fashion-MNIST {part} images are {images.shape[1:]}, not 28x28; replace the files")
        if labels.max() >= FASHION_MNIST_CLASSES:
            raise InputError(
                f"Fashion-MNIST {part} labels reach {int(labels.max())}, outside 0..9; replace the files"
            )


def load_fashion_mnist(
    data_dir: str | Path | None = None,
    *,
    validate_on: str = "split",
    train_size: int | None = None,
) -> Dataset:
    """Fashion-MNIST scaled to [0, 1], from the Debian package, `data_dir` or Keras' cache.

    `validate_on="split"` (default) holds a stratified sixth of the training images out for
    validation and keeps the test set for the final model; `"test"` validates on the test set,
    as the blog post did. `train_size` first takes a stratified subset of that many training images.
    """
    directory = find_fashion_mnist(data_dir if data_dir is not None else os.environ.get("MLPTUNE_DATA_DIR"))
    arrays = _decode_fashion_mnist(_file_identity(directory))
    return _build_dataset(
        name="fashion-mnist",
        x_pool=arrays["x_train"], y_pool=arrays["y_train"],
        x_test=arrays["x_test"], y_test=arrays["y_test"],
        scale=255.0, num_classes=FASHION_MNIST_CLASSES,
        validate_on=validate_on, train_size=train_size,
    )


def load_digits(*, validate_on: str = "split", train_size: int | None = None) -> Dataset:
    """scikit-learn's 8x8 digits (1,797 images, shipped in its wheel), scaled to [0, 1].

    A fixed stratified fifth is the test set; the rest is split as in `load_fashion_mnist`.
    """
    from sklearn.datasets import load_digits as sklearn_digits

    bunch = sklearn_digits()
    images = bunch.images.astype(np.float32)
    labels = bunch.target.astype(np.int64)
    rng = np.random.default_rng(SPLIT_SEED)
    test_idx, pool_idx = stratified_take(labels, round(len(labels) * DIGITS_TEST_FRACTION), rng)
    return _build_dataset(
        name="digits",
        x_pool=images[pool_idx], y_pool=labels[pool_idx],
        x_test=images[test_idx], y_test=labels[test_idx],
        scale=16.0, num_classes=10,
        validate_on=validate_on, train_size=train_size,
    )


def _build_dataset(*, name, x_pool, y_pool, x_test, y_test, scale, num_classes, validate_on, train_size) -> Dataset:
    if validate_on not in VALIDATE_ON_CHOICES:
        raise InputError(f"validate_on must be one of {', '.join(VALIDATE_ON_CHOICES)}, got {validate_on!r}")
    rng = np.random.default_rng(SPLIT_SEED)
    if train_size is not None:
        if isinstance(train_size, bool) or not isinstance(train_size, int) or not 20 <= train_size <= len(y_pool):
            raise InputError(
                f"--train-size must be an integer between 20 and {len(y_pool)} for {name}, got {train_size!r}"
            )
        if train_size < len(y_pool):
            subset, _ = stratified_take(y_pool, train_size, rng)
            x_pool, y_pool = x_pool[subset], y_pool[subset]
    x_test = (x_test / np.float32(scale)).astype(np.float32)
    x_pool = (x_pool / np.float32(scale)).astype(np.float32)
    if validate_on == "test":
        x_train, y_train, x_val, y_val = x_pool, y_pool, x_test, y_test
    else:
        val_idx, train_idx = stratified_take(y_pool, round(len(y_pool) * VALIDATION_FRACTION), rng)
        x_train, y_train = x_pool[train_idx], y_pool[train_idx]
        x_val, y_val = x_pool[val_idx], y_pool[val_idx]
    return Dataset(
        x_train=x_train, y_train=y_train, x_val=x_val, y_val=y_val,
        x_test=x_test, y_test=y_test, name=name, num_classes=num_classes,
    )


DATASET_LOADERS = {"fashion-mnist": load_fashion_mnist, "digits": load_digits}


def load_dataset(name: str, *, data_dir=None, validate_on="split", train_size=None) -> Dataset:
    """Load a built-in dataset by name."""
    if name not in DATASET_LOADERS:
        raise InputError(f"unknown dataset {name!r}; choose one of {', '.join(DATASET_LOADERS)}")
    if name == "digits":
        if data_dir is not None:
            raise InputError("--data-dir applies to fashion-mnist only; digits ships inside scikit-learn")
        return load_digits(validate_on=validate_on, train_size=train_size)
    return load_fashion_mnist(data_dir, validate_on=validate_on, train_size=train_size)
