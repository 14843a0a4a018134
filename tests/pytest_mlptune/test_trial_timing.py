"""The timing helper: every trial of the search is served on the caller's thread, and nothing hangs."""

import threading

import pytest

from pytest_mlptune.trial_timing import search_with_timed_trials


class RoundsBenchmark:
    """What pytest-benchmark's `pedantic` does with `rounds`: call the target that many times."""

    def pedantic(self, target, *, rounds, iterations, warmup_rounds):
        for _ in range(rounds):
            target()


class UsedBenchmark:
    """pytest-benchmark's fixture the second time it is used in a test: it refuses at once."""

    def pedantic(self, *args, **kwargs):
        raise RuntimeError("FixtureAlreadyUsed: fixture can only be used once")


def three_trial_search(execute):
    return [execute(lambda index=index: (index, threading.current_thread().name)) for index in range(3)]


def test_every_trial_runs_on_the_callers_thread():
    caller = threading.current_thread().name
    assert search_with_timed_trials(RoundsBenchmark(), three_trial_search, rounds=3) == \
        [(0, caller), (1, caller), (2, caller)]


def test_a_benchmark_that_refuses_ends_the_search_instead_of_leaving_it_waiting():
    before = {t.name for t in threading.enumerate()}
    with pytest.raises(RuntimeError, match="FixtureAlreadyUsed"):
        search_with_timed_trials(UsedBenchmark(), three_trial_search, rounds=3)
    assert "mlptune-search" not in {t.name for t in threading.enumerate()} - before
