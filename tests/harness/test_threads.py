"""TensorFlow's intra-op pool: pinned where trials train, recorded in the budget, a clear error when it cannot be."""

import os
import subprocess
import sys

import pytest

from harness.errors import InputError
from harness.run_directory import RunSettings
from harness.search import planned_budget
from harness.threads import ENVIRONMENT_VARIABLE, check_threads
from harness.trial_runner import WorkerProcessRunner

FAST = dict(epochs=1, batch_size=64)
PARAMS = dict(learning_rate=0.01, num_layers=1, num_nodes=4, hidden_activation="relu")


def pool_reporting_model(**params):
    """Fails on purpose, and the failure says which pool TensorFlow was given in the trial's process."""
    import tensorflow as tf

    pool = tf.config.threading.get_intra_op_parallelism_threads()
    raise RuntimeError(f"pool {pool} variable {os.environ.get(ENVIRONMENT_VARIABLE)}")


@pytest.mark.parametrize("threads", [1, 3])
def test_a_trial_worker_trains_with_the_pool_it_was_given(digits, threads):
    runner = WorkerProcessRunner(create_model=pool_reporting_model, data=digits, trials_per_worker=1,
                                 threads=threads, **FAST)
    try:
        trial, _ = runner.run(params=PARAMS, index=0, seed=0, log_dir=None)
    finally:
        runner.close()
    assert trial.error == f"RuntimeError: pool {threads} variable {threads}"


def test_a_worker_left_at_one_thread_per_core_gets_no_pool(digits, monkeypatch):
    monkeypatch.delenv(ENVIRONMENT_VARIABLE)
    runner = WorkerProcessRunner(create_model=pool_reporting_model, data=digits, trials_per_worker=1,
                                 threads=None, **FAST)
    try:
        trial, _ = runner.run(params=PARAMS, index=0, seed=0, log_dir=None)
    finally:
        runner.close()
    assert trial.error == "RuntimeError: pool 0 variable None"


STARTED_WITH = """
import sys
import tensorflow as tf
from harness.errors import InputError
from harness.threads import pin_threads
{start}
tf.constant(1.0) + 1.0  # TensorFlow runs: its pool is fixed from here on
pin_threads({same})
try:
    pin_threads({other})
except InputError as error:
    print(error)
"""


@pytest.mark.parametrize(("start", "environment", "same"), [
    ("tf.config.threading.set_intra_op_parallelism_threads(3)", {}, 3),
    ("", {ENVIRONMENT_VARIABLE: "3"}, 3),  # the size TensorFlow read from the environment
])
def test_a_pool_that_can_no_longer_change_is_accepted_when_it_is_the_size_asked_and_named_when_not(
        start, environment, same):
    code = STARTED_WITH.format(start=start, same=same, other=1)
    env = {name: value for name, value in os.environ.items() if name != ENVIRONMENT_VARIABLE} | environment
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout
    assert output.strip().splitlines() == [
        "TensorFlow already runs in this process with 3 intra-op threads, and the search asks for 1; set "
        "TF_NUM_INTRAOP_THREADS=1 before the process starts, train in worker processes (trials_per_worker), or ask "
        "for 3 (mlptune tune --threads 3, pytest --tune-threads 3; a baseline records it)"]


@pytest.mark.parametrize("bad", [0, -2, True, 2.0, "2"])
def test_a_pool_size_is_a_positive_integer_or_none(bad):
    assert check_threads(None) is None and check_threads(4) == 4
    with pytest.raises(InputError, match=f"threads must be a positive integer, got {bad!r}; give 1 or more, or None"):
        check_threads(bad)


def test_the_budget_records_the_pool_and_leaves_the_default_out_as_earlier_baselines_did():
    default, _ = planned_budget(n_calls=10, epochs=5, batch_size=64)
    assert default.threads == 2 and "threads" not in default.to_json()
    assert planned_budget(n_calls=10, epochs=5, batch_size=64, threads=1)[0].to_json()["threads"] == 1
    assert planned_budget(n_calls=10, epochs=5, batch_size=64, threads=None)[0].to_json()["threads"] is None
    with pytest.raises(InputError, match="threads must be a positive integer"):
        planned_budget(n_calls=10, epochs=5, batch_size=64, threads=0)


def test_a_run_folder_from_before_the_pool_was_pinned_resumes_with_one_thread_per_core():
    recorded = RunSettings(dataset="digits", data_dir=None, validate_on="split", train_size=None, n_calls=3,
                           epochs=1, batch_size=64, seed=0).to_json()
    assert recorded["threads"] == 2
    del recorded["threads"]
    assert RunSettings.from_json(recorded).threads is None  # what TensorFlow then did: one per core
    assert RunSettings.from_json({**recorded, "threads": 1}).threads == 1
    with pytest.raises(ValueError, match="threads 0 is not valid"):
        RunSettings.from_json({**recorded, "threads": 0})


def test_a_dask_task_hands_the_pool_to_its_trial_process(digits):
    from harness.dask_runner import _close_trial_process, _run_trial_task
    from harness.trial_runner import PickledModel

    try:
        trial, _ = _run_trial_task(token="pool", create_model=PickledModel.of(pool_reporting_model), data=digits,
                                   trials_per_worker=1, trial_timeout=None, threads=3, params=PARAMS, index=0, seed=0,
                                   log_dir=None, beat=None, **FAST)
    finally:
        _close_trial_process("pool")
    assert trial.error == "RuntimeError: pool 3 variable 3"
