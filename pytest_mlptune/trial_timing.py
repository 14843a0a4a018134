"""Each trial of a tuning test's search, timed as one pytest-benchmark round.

With pytest-benchmark installed, `pytest --tune --benchmark-autosave` stores how long every
trial of every tuning test took, and `--benchmark-compare-fail=mean:20%` fails a later run whose
trials got slower (a TensorFlow upgrade, a slower data pipeline). The trials of a seeded search
are the same on every run, so their mean is comparable from run to run.

pytest-benchmark owns the timing loop (`pedantic` calls its target once per round) and the
search owns the order of the trials. So the search runs in a helper thread and hands each trial
to the benchmark's loop on the test's thread: only training is timed, never the optimizer, and
TensorFlow runs on the thread it would run on without timing.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any

_SEARCH_DONE = None


class _SearchEnded(Exception):
    """The search finished before pytest-benchmark's planned rounds (it stopped early)."""


class TimingFailed(Exception):
    """Raised in the search thread when the timing loop gave up, so the search ends instead of waiting."""


def search_with_timed_trials(benchmark, search: Callable[[Callable], Any], *, rounds: int) -> Any:
    """Run `search(trial_executor)`, timing each trial it runs as a round of `benchmark`.

    When pytest-benchmark is disabled (`--benchmark-disable`, or under xdist) it runs its target
    once untimed; the remaining trials then run here, also untimed.
    """
    jobs: queue.Queue = queue.Queue()
    outcome: dict[str, Any] = {}

    def execute(run_trial: Callable[[], Any]) -> Any:  # on the search thread
        reply: queue.Queue = queue.Queue(maxsize=1)
        jobs.put((run_trial, reply))
        succeeded, value = reply.get()
        if not succeeded:
            raise value
        return value

    def run_search() -> None:
        try:
            outcome["result"] = search(execute)
        except BaseException as error:  # noqa: BLE001 - re-raised on the test's thread
            outcome["error"] = error
        finally:
            jobs.put(_SEARCH_DONE)

    def serve_one_trial() -> None:  # on the test's thread, inside pytest-benchmark's timer
        job = jobs.get()
        if job is _SEARCH_DONE:
            jobs.put(_SEARCH_DONE)
            raise _SearchEnded
        run_trial, reply = job
        try:
            value = run_trial()
        except BaseException as error:
            reply.put((False, error))
            raise
        reply.put((True, value))

    thread = threading.Thread(target=run_search, name="mlptune-search", daemon=True)
    thread.start()
    try:
        benchmark.pedantic(serve_one_trial, rounds=rounds, iterations=1, warmup_rounds=0)
    except _SearchEnded:
        pass
    except BaseException as error:
        # pytest-benchmark refused (used twice) or a trial raised: release the search thread, which
        # would otherwise wait forever for its trial to be served.
        _refuse_remaining(jobs, TimingFailed(f"trial timing stopped ({type(error).__name__}: {error})"))
        thread.join()
        raise
    else:
        try:
            while True:
                serve_one_trial()
        except _SearchEnded:
            pass
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]


def _refuse_remaining(jobs: queue.Queue, error: BaseException) -> None:
    while True:
        job = jobs.get()
        if job is _SEARCH_DONE:
            return
        _, reply = job
        reply.put((False, error))
