"""Resident memory across a search: in-process, in recycled worker processes, and on Dask workers.

Memory is counted for the whole process tree (the search, its live workers including a
replacement warming up, and on Dask the worker processes and the trial process each keeps),
sampled after every trial. Each place runs at least 30 trials and long enough for every trial
process to be replaced once: a bound that no replacement has shown yet would pass vacuously.
"""

import functools
import os
from pathlib import Path

import pytest

from harness import create_model, load_digits, run_search
from harness.trial_runner import DEFAULT_TRIALS_PER_WORKER

MIN_TRIALS = 30
TRIALS_PER_WORKER = 5  # the `mlptune tune` default until 2026-12-05


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


def trials_to_run(where) -> int:
    """30, or enough for each trial process to train its last trial and be replaced, and 5 more each."""
    per_process = where.get("trials_per_worker") or 0
    return max(MIN_TRIALS, (per_process + 5) * where.get("workers", 1))


def samples_over_the_trials(where):
    data = load_digits()
    model = functools.partial(create_model, input_shape=data.input_shape, jit_compile=False)
    samples = []
    run_search(create_model=model, data=data, n_calls=trials_to_run(where), epochs=1, tensorboard=False, save_best=False,
               trials_per_worker=where.get("trials_per_worker"), workers=where.get("workers"),
               trials_per_batch=where.get("trials_per_batch"),
               on_trial=lambda trial, _: samples.append(tree_resident_mb()))
    return samples


PLACES = {
    "in-process": {},
    "worker": {"trials_per_worker": TRIALS_PER_WORKER},
    "worker-default": {"trials_per_worker": DEFAULT_TRIALS_PER_WORKER},
    # two Dask workers, each with a trial process replaced every DEFAULT_TRIALS_PER_WORKER trials (the default there)
    "dask": {"workers": 2, "trials_per_batch": 2, "trials_per_worker": DEFAULT_TRIALS_PER_WORKER},
}


@pytest.mark.parametrize("place", list(PLACES))
def test_resident_memory_over_a_search(benchmark, record_ratio, place):
    where = PLACES[place]
    trials_per_worker, n_trials = where.get("trials_per_worker"), trials_to_run(where)
    samples = benchmark.pedantic(samples_over_the_trials, args=(where,), rounds=1, iterations=1)
    assert len(samples) == n_trials
    # From the end of trial 3 (TensorFlow's one-off allocations are done by then) to the last trial,
    # and the worst point after trial 3 (with workers: a worker's last trials, or a replacement
    # warming up beside the old one).
    growth = samples[-1] - samples[2]
    peak_growth = max(samples[2:]) - samples[2]
    where = {"in-process": "in the search process",
             "worker": f"worker replaced every {trials_per_worker} trials",
             "worker-default": f"worker replaced every {trials_per_worker} trials (the default)",
             "dask": f"2 Dask workers, trial processes replaced every {DEFAULT_TRIALS_PER_WORKER} trials"}[place]
    benchmark.extra_info.update(resident_mb=samples)
    record_ratio(name=f"resident memory growth over {n_trials} trials, {where} (MB)", value=growth,
                 target="< 100", met=growth < 100,
                 detail=f"{samples[2]:.0f} MB after trial 3, {samples[-1]:.0f} MB after trial {n_trials}, "
                        f"peak {peak_growth:+.0f} MB")
