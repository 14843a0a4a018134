"""The fixture's own decisions, without a search (the workflow itself is test_plugin.py's subject)."""

import pytest

from pytest_mlptune.fixture import a_core_is_free_for_the_replay


@pytest.mark.parametrize(("environ", "cores", "beside"), [
    ({}, 2, True),  # no xdist: the search leaves a core to the replay
    ({}, 1, True),  # one core: beside still overlaps the search's single-threaded Python with training
    ({"PYTEST_XDIST_WORKER_COUNT": "1"}, 2, True),
    ({"PYTEST_XDIST_WORKER_COUNT": "2"}, 2, False),  # every core trains a search already
    ({"PYTEST_XDIST_WORKER_COUNT": "8"}, 2, False),
    ({"PYTEST_XDIST_WORKER_COUNT": "2"}, 4, True),
    ({"PYTEST_XDIST_WORKER_COUNT": "many"}, 2, True),  # not xdist's value: the default
])
def test_the_replay_runs_beside_the_search_only_with_a_core_to_spare(environ, cores, beside):
    assert a_core_is_free_for_the_replay(environ, cores=cores) is beside


def test_the_cores_are_those_this_process_may_use():
    import os

    if not hasattr(os, "sched_getaffinity"):
        pytest.skip("no CPU affinity on this platform")
    cores = len(os.sched_getaffinity(0))
    assert a_core_is_free_for_the_replay({"PYTEST_XDIST_WORKER_COUNT": str(cores)}) is False
    # one worker fewer than the cores leaves one free; with a single core that is "no workers", and
    # the replay then runs beside the search as without xdist (the parametrized case above)
    assert a_core_is_free_for_the_replay({"PYTEST_XDIST_WORKER_COUNT": str(cores - 1)}) is True
