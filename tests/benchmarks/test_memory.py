"""Resident memory across 30 trials, in-process against trials in recycled worker processes.

Memory is counted for the whole process tree (the search and its live workers, including a
replacement worker warming up), sampled after every trial.
"""

import functools
import os
from pathlib import Path

import pytest

from harness import create_model, load_digits, run_search

N_TRIALS = 30
TRIALS_PER_WORKER = 5  # the `mlptune tune` default


def resident_mb(pid: int) -> float:
    try:
        pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    except FileNotFoundError:  # the process ended between listing and reading
        return 0.0
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def tree_resident_mb() -> float:
    """This process and its children (the trial workers)."""
    me = os.getpid()
    children = Path(f"/proc/{me}/task/{me}/children").read_text().split()
    return resident_mb(me) + sum(resident_mb(int(pid)) for pid in children)


def samples_over_30_trials(trials_per_worker):
    data = load_digits()
    model = functools.partial(create_model, input_shape=data.input_shape, jit_compile=False)
    samples = []
    run_search(create_model=model, data=data, n_calls=N_TRIALS, epochs=1, tensorboard=False, save_best=False,
               trials_per_worker=trials_per_worker, on_trial=lambda trial, _: samples.append(tree_resident_mb()))
    return samples


@pytest.mark.parametrize("trials_per_worker", [None, TRIALS_PER_WORKER], ids=["in-process", "worker"])
def test_resident_memory_over_30_trials(benchmark, record_ratio, trials_per_worker):
    samples = benchmark.pedantic(samples_over_30_trials, args=(trials_per_worker,), rounds=1, iterations=1)
    # From the end of trial 3 (TensorFlow's one-off allocations are done by then) to trial 30, and
    # the worst point after trial 3 (with workers: while a replacement warms up beside the old one).
    growth = samples[-1] - samples[2]
    peak_growth = max(samples[2:]) - samples[2]
    where = "in the search process" if trials_per_worker is None else f"worker replaced every {trials_per_worker} trials"
    benchmark.extra_info.update(resident_mb=samples)
    record_ratio(name=f"resident memory growth over 30 trials, {where} (MB)", value=growth, target="< 100",
                 met=growth < 100,
                 detail=f"{samples[2]:.0f} MB after trial 3, {samples[-1]:.0f} MB after trial 30, "
                        f"peak {peak_growth:+.0f} MB")
