"""Resident memory across 30 trials: sessions are cleared and models dropped, so it must not grow."""

import functools

from harness import create_model, load_digits, run_search


def resident_mb() -> float:
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    import os

    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def test_resident_memory_over_30_trials(benchmark, record_ratio):
    data = load_digits()
    model = functools.partial(create_model, input_shape=data.input_shape, jit_compile=False)
    samples = []

    def search():
        run_search(create_model=model, data=data, n_calls=30, epochs=1, tensorboard=False, save_best=False,
                   on_trial=lambda trial, _: samples.append(resident_mb()))

    benchmark.pedantic(search, rounds=1, iterations=1)
    # Growth from the end of trial 3 (TensorFlow's one-off allocations are done by then) to trial 30.
    growth = samples[-1] - samples[2]
    benchmark.extra_info.update(resident_mb=samples)
    record_ratio(name="resident memory growth over 30 trials (MB)", value=growth, target="< 100", met=growth < 100,
                 detail=f"{samples[2]:.0f} MB after trial 3, {samples[-1]:.0f} MB after trial 30, peak {max(samples):.0f} MB")
