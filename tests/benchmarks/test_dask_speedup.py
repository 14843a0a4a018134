"""A 10-call search on full Fashion-MNIST: one trial at a time against 2 Dask workers (q = 2), side by side.

On 2 cores a worker's training competes with the other's for the same cores, so expect a modest
gain; whatever it is, the ratio and both best accuracies are reported.
"""

import functools
import time

from harness.data.loaders import load_fashion_mnist
from harness.model import create_model
from harness.search import run_search

from .conftest import interleaved_seconds

N_CALLS = 10


def test_ten_calls_on_two_workers_against_one_at_a_time(benchmark, record_ratio):
    data = load_fashion_mnist(validate_on="test")
    model = functools.partial(create_model, input_shape=data.input_shape, num_classes=data.num_classes,
                              jit_compile=True)
    best = {}

    def search(name, **options):
        result = run_search(create_model=model, data=data, n_calls=N_CALLS, seed=0, epochs=5, batch_size=64,
                            trials_per_worker=5, **options)
        best[name] = result.best.score

    started = time.perf_counter()
    serial, parallel = interleaved_seconds(lambda: search("serial"),
                                           lambda: search("workers", workers=2, trials_per_batch=2), rounds=1)
    benchmark.pedantic(lambda: None, rounds=1, iterations=1)  # the ratio is the measurement, recorded below
    ratio = parallel[0] / serial[0]
    record_ratio(name="10-call Fashion-MNIST search, 2 Dask workers (q = 2) / one trial at a time", value=ratio,
                 target="< 1", met=ratio < 1,
                 detail=f"{parallel[0]:.0f} s vs {serial[0]:.0f} s; best {best['workers']:.4f} (q = 2) vs "
                        f"{best['serial']:.4f} (q = 1); {time.perf_counter() - started:.0f} s in all")
