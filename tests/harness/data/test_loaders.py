import numpy as np
import pytest

from harness.data.idx import write_idx
from harness.data.loaders import (
    DEBIAN_FASHION_MNIST_DIR,
    FASHION_MNIST_FILES,
    find_fashion_mnist,
    load_dataset,
    load_digits,
    load_fashion_mnist,
)
from harness.errors import InputError


def write_fake_fashion(directory, *, n_train=120, n_test=40, labels_max=9, image_shape=(28, 28), n_train_labels=None):
    rng = np.random.default_rng(0)
    directory.mkdir(parents=True, exist_ok=True)
    arrays = {
        "x_train": rng.integers(0, 256, (n_train, *image_shape), dtype=np.uint8),
        "y_train": (np.arange(n_train_labels or n_train) % (labels_max + 1)).astype(np.uint8),
        "x_test": rng.integers(0, 256, (n_test, *image_shape), dtype=np.uint8),
        "y_test": (np.arange(n_test) % 10).astype(np.uint8),
    }
    for key, stem in FASHION_MNIST_FILES.items():
        write_idx(directory / f"{stem}.gz", arrays[key])
    return arrays


def test_loads_fashion_from_a_data_dir_with_a_held_out_split(tmp_path):
    arrays = write_fake_fashion(tmp_path / "fm")
    data = load_fashion_mnist(tmp_path / "fm")
    assert (len(data.y_train), len(data.y_val), len(data.y_test)) == (100, 20, 40)
    assert data.x_train.max() <= 1.0 and data.x_train.dtype == np.float32
    np.testing.assert_array_equal(data.y_test, arrays["y_test"])
    assert np.bincount(data.y_val).tolist() == [2] * 10  # stratified


def test_validate_on_test_reproduces_the_seed(tmp_path):
    write_fake_fashion(tmp_path / "fm")
    data = load_fashion_mnist(tmp_path / "fm", validate_on="test")
    assert len(data.y_train) == 120
    np.testing.assert_array_equal(data.x_val, data.x_test)


def test_train_size_takes_a_stratified_subset(tmp_path):
    write_fake_fashion(tmp_path / "fm")
    data = load_fashion_mnist(tmp_path / "fm", train_size=60)
    assert len(data.y_train) + len(data.y_val) == 60
    assert load_fashion_mnist(tmp_path / "fm", train_size=60).fingerprint == data.fingerprint


@pytest.mark.parametrize("size", [0, 5, 121, True])
def test_bad_train_size(tmp_path, size):
    write_fake_fashion(tmp_path / "fm")
    with pytest.raises(InputError, match="--train-size must be an integer between 20 and 120"):
        load_fashion_mnist(tmp_path / "fm", train_size=size)


def test_unknown_validate_on(tmp_path):
    write_fake_fashion(tmp_path / "fm")
    with pytest.raises(InputError, match="validate_on must be one of split, test"):
        load_fashion_mnist(tmp_path / "fm", validate_on="train")


def test_missing_files_give_the_install_command(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="apt-get install -y dataset-fashion-mnist"):
        find_fashion_mnist(tmp_path / "empty")


def test_mismatched_counts_are_rejected(tmp_path):
    write_fake_fashion(tmp_path / "fm", n_train_labels=119)
    with pytest.raises(InputError, match="120 images but 119 labels"):
        load_fashion_mnist(tmp_path / "fm")


def test_labels_out_of_range_are_rejected(tmp_path):
    write_fake_fashion(tmp_path / "fm", labels_max=11)
    with pytest.raises(InputError, match="labels reach 11, outside 0..9"):
        load_fashion_mnist(tmp_path / "fm")


def test_wrong_image_size_is_rejected(tmp_path):
    write_fake_fashion(tmp_path / "fm", image_shape=(8, 8))
    with pytest.raises(InputError, match="not 28x28"):
        load_fashion_mnist(tmp_path / "fm")


def test_digits_ships_offline_with_a_fixed_test_set():
    data = load_digits()
    assert data.input_shape == (8, 8) and data.num_classes == 10
    assert (len(data.y_train), len(data.y_val), len(data.y_test)) == (1198, 240, 359)
    assert 0.0 <= data.x_train.min() and data.x_train.max() <= 1.0
    assert load_digits().fingerprint == data.fingerprint


def test_unknown_dataset_by_name():
    with pytest.raises(InputError, match="unknown dataset 'mnist'; choose one of fashion-mnist, digits"):
        load_dataset("mnist")


@pytest.mark.skipif(not DEBIAN_FASHION_MNIST_DIR.is_dir(), reason="dataset-fashion-mnist is not installed")
def test_real_fashion_mnist_sizes():
    data = load_fashion_mnist(DEBIAN_FASHION_MNIST_DIR)
    assert (len(data.y_train), len(data.y_val), len(data.y_test)) == (50000, 10000, 10000)
    assert data.input_shape == (28, 28)


def test_decoded_arrays_are_cached_on_disk(tmp_path, monkeypatch):
    from harness.data import decoded_cache, loaders

    monkeypatch.setenv("MLPTUNE_CACHE_DIR", str(tmp_path / "cache"))
    write_fake_fashion(tmp_path / "fm")
    first = load_fashion_mnist(tmp_path / "fm")
    [cached] = (tmp_path / "cache").glob("fashion-mnist-*.npz")
    loaders._decode_fashion_mnist.cache_clear()

    def no_decoding(*_, **__):
        raise AssertionError("decoded again despite the cache")

    monkeypatch.setattr(loaders, "read_idx", no_decoding)
    assert load_fashion_mnist(tmp_path / "fm").fingerprint == first.fingerprint

    monkeypatch.undo()
    monkeypatch.setenv("MLPTUNE_CACHE_DIR", str(tmp_path / "cache"))
    cached.write_bytes(b"torn")  # a broken cache file is ignored and rewritten
    loaders._decode_fashion_mnist.cache_clear()
    assert load_fashion_mnist(tmp_path / "fm").fingerprint == first.fingerprint
    assert decoded_cache.load("fashion-mnist", cached.stem.split("-", 2)[-1]) is not None


def test_changed_files_are_not_served_from_the_cache(tmp_path, monkeypatch):
    from harness.data import loaders

    monkeypatch.setenv("MLPTUNE_CACHE_DIR", str(tmp_path / "cache"))
    write_fake_fashion(tmp_path / "fm")
    first = load_fashion_mnist(tmp_path / "fm")
    write_fake_fashion(tmp_path / "fm", labels_max=4)
    loaders._decode_fashion_mnist.cache_clear()
    assert load_fashion_mnist(tmp_path / "fm").fingerprint != first.fingerprint


def test_a_replaced_file_with_the_same_size_and_time_is_decoded_again(tmp_path, monkeypatch):
    import os

    from harness.data import loaders

    monkeypatch.setenv("MLPTUNE_CACHE_DIR", str(tmp_path / "cache"))
    write_fake_fashion(tmp_path / "fm")
    first = load_fashion_mnist(tmp_path / "fm")
    labels = tmp_path / "fm" / f"{FASHION_MNIST_FILES['y_train']}.gz"
    status = labels.stat()
    write_idx(labels, (np.arange(120)[::-1] % 10).astype(np.uint8))  # same length, same gzip size here
    assert labels.stat().st_size == status.st_size
    os.utime(labels, ns=(status.st_atime_ns, status.st_mtime_ns))
    loaders._decode_fashion_mnist.cache_clear()
    assert load_fashion_mnist(tmp_path / "fm").fingerprint != first.fingerprint


def test_cached_arrays_pass_the_same_checks_as_decoded_ones(tmp_path, monkeypatch):
    from harness.data import decoded_cache, loaders

    monkeypatch.setenv("MLPTUNE_CACHE_DIR", str(tmp_path / "cache"))
    arrays = write_fake_fashion(tmp_path / "fm")
    first = load_fashion_mnist(tmp_path / "fm")
    [cached] = (tmp_path / "cache").glob("fashion-mnist-*.npz")
    key = cached.stem.split("-", 2)[-1]
    decoded_cache.store("fashion-mnist", key, {**arrays, "y_train": np.full(120, 200, dtype=np.uint8)})
    loaders._decode_fashion_mnist.cache_clear()
    assert load_fashion_mnist(tmp_path / "fm").fingerprint == first.fingerprint  # decoded again, not served
