"""Fashion-MNIST load: decoding the IDX gz files (cold) against the decoded-array cache (warm)."""

import pytest

from harness.data import loaders

from .conftest import interleaved_seconds, median

pytestmark = pytest.mark.skipif(not loaders.DEBIAN_FASHION_MNIST_DIR.is_dir(), reason="needs dataset-fashion-mnist")


def test_warm_load_against_cold_decode(benchmark, record_ratio):
    identity = loaders._file_identity(loaders.DEBIAN_FASHION_MNIST_DIR)
    loaders._decode_fashion_mnist.__wrapped__(identity)  # fills the disk cache

    def cold():
        loaders._decode_fashion_mnist.__wrapped__(identity, use_cache=False)

    def warm():
        loaders._decode_fashion_mnist.__wrapped__(identity)

    cold_times, warm_times = interleaved_seconds(cold, warm, rounds=5)
    benchmark.pedantic(warm, rounds=5, iterations=1)
    ratio = median(warm_times) / median(cold_times)
    record_ratio(name="dataset load warm/cold", value=ratio, target="<= 0.15", met=ratio <= 0.15,
                 detail=f"cold {median(cold_times):.3f} s, warm {median(warm_times):.3f} s (medians of 5)")
