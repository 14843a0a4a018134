"""TensorFlow's intra-op thread pool, fixed in every process that trains, so trials do not depend on the machine.

TensorFlow splits a matrix product over its intra-op pool, and on some CPUs the pool size changes
how the sums are rounded. Left alone, the pool has one thread per usable core, so the same seed
gave other trials on one core and on two (measured on one CPU: the quick start's second trial
scored 0.7809 with one thread and 0.8109 with two; on an AVX-512 EPYC the size changed nothing,
docs/performance.md). The pool size is therefore part of
a search's budget, like the epochs, and is set before TensorFlow starts in the process that trains.
`None` leaves TensorFlow's default (one thread per core): faster on a big machine, but a seed then
fixes the trials only for that machine's core count.

Light on purpose: TensorFlow is imported only when a pool is actually pinned.
"""

from __future__ import annotations

import os

from harness.argument_types import require_int
from harness.errors import InputError

DEFAULT_THREADS = 2  # what the committed baselines were recorded with (two-core machines, unpinned)
ENVIRONMENT_VARIABLE = "TF_NUM_INTRAOP_THREADS"  # read by TensorFlow when its runtime starts


def check_threads(threads: int | None) -> int | None:
    """`threads` itself when it is a pool size (1 or more) or None; InputError otherwise."""
    if threads is not None:
        require_int("threads", threads, fix="give 1 or more, or None for one per core")
    return threads


def pool_size_if_started(tf) -> int:
    """The intra-op pool TensorFlow uses or will use in this process: set, from the environment, or one per core."""
    configured = tf.config.threading.get_intra_op_parallelism_threads()
    if configured:
        return configured
    from_environment = os.environ.get(ENVIRONMENT_VARIABLE, "").strip()
    if from_environment.isdigit() and int(from_environment) > 0:
        return int(from_environment)
    return usable_cores()


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity where the OS has one, else all of them)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def pin_threads(threads: int | None) -> None:
    """Give TensorFlow in this process an intra-op pool of `threads` (None: leave its default).

    Must run before TensorFlow executes its first operation here; afterwards the pool can no longer
    change, and a pool of another size is an InputError that says how to fix it.
    """
    if check_threads(threads) is None:
        return
    from harness.native_logs import import_tensorflow

    import_tensorflow()
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
    except RuntimeError:  # TensorFlow has started in this process: its pool is what it is
        current = pool_size_if_started(tf)
        if current != threads:
            raise InputError(
                f"TensorFlow already runs in this process with {current} intra-op threads, and the search asks for "
                f"{threads}; set {ENVIRONMENT_VARIABLE}={threads} before the process starts, train in worker "
                f"processes (trials_per_worker), or ask for {current} (mlptune tune --threads {current}, pytest "
                f"--tune-threads {current}; a baseline records it)") from None


def environment_for_workers(threads: int | None) -> dict[str, str]:
    """This process's environment for a trial worker, with the pool size TensorFlow reads when it starts."""
    environment = dict(os.environ)
    if threads is not None:
        environment[ENVIRONMENT_VARIABLE] = str(threads)
    return environment
