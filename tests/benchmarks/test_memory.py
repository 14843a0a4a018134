"""Resident memory across 30 trials: in-process, in recycled worker processes, and on Dask workers.

Memory is counted for the whole process tree (the search, its live workers including a
replacement warming up, and on Dask the worker processes and the trial process each keeps),
sampled after every trial.
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


def children(pid: int) -> list[int]:
    """Every thread's children: a worker started from another thread is listed under that thread."""
    found = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            try:
                found += [int(child) for child in (task / "children").read_text().split()]
            except FileNotFoundError:
                continue
    except FileNotFoundError:
        pass
    return found


def tree_resident_mb(pid: int | None = None) -> float:
    """This process and all its descendants (trial workers; Dask workers and their trial processes)."""
    pid = os.getpid() if pid is None else pid
    return resident_mb(pid) + sum(tree_resident_mb(child) for child in children(pid))


def samples_over_30_trials(where):
    data = load_digits()
    model = functools.partial(create_model, input_shape=data.input_shape, jit_compile=False)
    samples = []
    run_search(create_model=model, data=data, n_calls=N_TRIALS, epochs=1, tensorboard=False, save_best=False,
               trials_per_worker=where.get("trials_per_worker"), workers=where.get("workers"),
               trials_per_batch=where.get("trials_per_batch"),
               on_trial=lambda trial, _: samples.append(tree_resident_mb()))
    return samples


PLACES = {
    "in-process": {},
    "worker": {"trials_per_worker": TRIALS_PER_WORKER},
    # two Dask workers, each with a trial process replaced every 5 trials (the default on Dask)
    "dask": {"workers": 2, "trials_per_batch": 2},
}


@pytest.mark.parametrize("place", list(PLACES))
def test_resident_memory_over_30_trials(benchmark, record_ratio, place):
    where = PLACES[place]
    trials_per_worker = where.get("trials_per_worker")
    samples = benchmark.pedantic(samples_over_30_trials, args=(where,), rounds=1, iterations=1)
    # From the end of trial 3 (TensorFlow's one-off allocations are done by then) to trial 30, and
    # the worst point after trial 3 (with workers: while a replacement warms up beside the old one).
    growth = samples[-1] - samples[2]
    peak_growth = max(samples[2:]) - samples[2]
    where = {"in-process": "in the search process",
             "worker": f"worker replaced every {trials_per_worker} trials",
             "dask": "2 Dask workers, trial processes replaced every 5 trials"}[place]
    benchmark.extra_info.update(resident_mb=samples)
    record_ratio(name=f"resident memory growth over 30 trials, {where} (MB)", value=growth, target="< 100",
                 met=growth < 100,
                 detail=f"{samples[2]:.0f} MB after trial 3, {samples[-1]:.0f} MB after trial 30, "
                        f"peak {peak_growth:+.0f} MB")
