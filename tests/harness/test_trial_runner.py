"""Trials in a recycled worker process: same trials as in-process, a dead worker is one failed trial."""

import functools
import os
import signal

import keras
import pytest

from harness.data.loaders import load_digits
from harness.errors import InputError
from harness.model import create_model
from harness.search import run_search
from harness.trial_runner import InProcessRunner, WorkerProcessRunner

FAST = dict(epochs=1, batch_size=64)




def suicidal_model(**params):
    """Kills its own process while building: what the kernel's OOM killer does to a trial."""
    if params["num_layers"] > 3:
        os.kill(os.getpid(), signal.SIGKILL)
    data = load_digits(train_size=600)
    return create_model(**params, input_shape=data.input_shape, num_classes=data.num_classes, jit_compile=False)


@pytest.mark.slow  # an end-to-end run: make test-slow
def test_worker_trials_equal_in_process_trials_bit_for_bit_and_the_saved_model_matches(digits, digits_model, tmp_path):
    inline = run_search(create_model=digits_model, data=digits, n_calls=5, seed=3, **FAST,
                        out_dir=tmp_path / "inline")
    worker = run_search(create_model=digits_model, data=digits, n_calls=5, seed=3, **FAST,
                        out_dir=tmp_path / "worker", trials_per_worker=2)
    assert [(t.params, t.score, t.val_loss, t.seed) for t in worker.trials] == \
           [(t.params, t.score, t.val_loss, t.seed) for t in inline.trials]
    model = keras.models.load_model(worker.best_model_path, safe_mode=True)
    _, accuracy = model.evaluate(digits.x_val, digits.y_val, verbose=0)
    assert accuracy == pytest.approx(worker.best.score, abs=1e-7)


def test_workers_are_replaced_after_the_given_number_of_trials(digits, digits_model):
    runner = WorkerProcessRunner(create_model=digits_model, data=digits, trials_per_worker=2, **FAST)
    params = dict(learning_rate=0.01, num_layers=3, num_nodes=8, hidden_activation="relu")
    try:
        pids = []
        for index in range(3):
            trial, _ = runner.run(params=params, index=index, seed=index, log_dir=None)
            assert trial.ok
            pids.append(runner.worker_pid)
    finally:
        runner.close()
    assert pids[0] == pids[1] != pids[2]
    assert runner.workers_started == 2 and runner.worker_pid is None


def test_a_create_model_from_a_folder_only_this_process_has_on_its_path_trains_in_a_worker(digits, tmp_path,
                                                                                          monkeypatch):
    # What pytest does with tests/test_x.py in a folder without __init__.py: it puts the folder on
    # sys.path and imports the file as a top-level module, which the worker must import too.
    (tmp_path / "model_only_here.py").write_text(
        "from harness.model import create_model\n"
        "def model(input_shape, num_classes, **params):\n"
        "    return create_model(**params, input_shape=input_shape, num_classes=num_classes, jit_compile=False)\n")
    monkeypatch.syspath_prepend(tmp_path)
    import model_only_here

    runner = WorkerProcessRunner(create_model=functools.partial(model_only_here.model, input_shape=digits.input_shape,
                                                                num_classes=digits.num_classes),
                                 data=digits, trials_per_worker=1, **FAST)
    try:
        trial, _ = runner.run(params=dict(learning_rate=0.01, num_layers=3, num_nodes=8, hidden_activation="relu"),
                              index=0, seed=0, log_dir=None)
    finally:
        runner.close()
    assert trial.ok, trial.error


SMALL = dict(learning_rate=0.01, num_layers=3, num_nodes=8, hidden_activation="relu")


def test_a_create_model_loaded_by_location_under_a_dotted_name_trains_in_a_worker(digits, model_by_location):
    runner = WorkerProcessRunner(create_model=model_by_location, data=digits, trials_per_worker=1, **FAST)
    try:
        trial, _ = runner.run(params=SMALL, index=0, seed=0, log_dir=None)
    finally:
        runner.close()
    assert trial.ok, trial.error


def test_a_create_model_the_worker_cannot_load_fails_each_trial_with_the_reason(digits, model_by_location, tmp_path):
    (tmp_path / "model_by_location.py").unlink()  # neither its name nor its file imports in a fresh process
    runner = WorkerProcessRunner(create_model=model_by_location, data=digits, trials_per_worker=5, **FAST)
    try:
        trials = [runner.run(params=SMALL, index=index, seed=index, log_dir=None)[0] for index in range(2)]
    finally:
        runner.close()
    for trial in trials:
        assert not trial.ok
        assert trial.error.startswith("WorkerSetupError: the trial process cannot load create_model (FileNotFoundError")
        assert "define it at module level in a module a fresh Python process can import" in trial.error


def test_a_trial_that_kills_its_worker_is_a_failed_trial_and_the_search_goes_on(digits):
    result = run_search(create_model=suicidal_model, data=digits, n_calls=4, seed=0, **FAST, trials_per_worker=5,
                        max_consecutive_failures=4)
    died = [t for t in result.trials if not t.ok]
    assert died, "the search space should have asked for more than 3 layers in 4 calls"
    assert all("WorkerDied" in t.error and "SIGKILL" in t.error for t in died)
    assert result.trials[0].ok  # the default point has 3 layers
    assert all(t.ok == (t.params["num_layers"] <= 3) for t in result.trials)


def test_a_create_model_the_worker_cannot_import_is_refused_before_any_trial(digits, digits_model):
    with pytest.raises(InputError, match="create_model cannot be sent to a trial worker.*module level"):
        run_search(create_model=lambda **p: None, data=digits, n_calls=2, trials_per_worker=1, **FAST)
    with pytest.raises(InputError, match="trials_per_worker must be a positive integer"):
        run_search(create_model=digits_model, data=digits, n_calls=2, trials_per_worker=0, **FAST)


def test_a_create_model_from_the_main_script_is_refused(digits):
    def main_script_model(**params):
        return None

    main_script_model.__module__ = "__main__"
    with pytest.raises(InputError, match="defined in the __main__ script"):
        run_search(create_model=main_script_model, data=digits, n_calls=2, trials_per_worker=1, **FAST)


ORPHANING_SCRIPT = """
import functools, sys, time
from harness.data.loaders import load_digits
from harness.model import create_model
from harness.trial_runner import WorkerProcessRunner

data = load_digits(train_size=300)
model = functools.partial(create_model, input_shape=data.input_shape, num_classes=data.num_classes, jit_compile=False)
runner = WorkerProcessRunner(create_model=model, data=data, epochs=1, batch_size=64, trials_per_worker=3)
runner.run(params=dict(learning_rate=0.01, num_layers=3, num_nodes=8, hidden_activation="relu"), index=0, seed=0,
           log_dir=None)
print(runner.worker_pid, flush=True)
time.sleep(600)
"""


def test_a_worker_whose_search_is_killed_exits_on_its_own(tmp_path):
    import subprocess
    import sys
    import time

    script = tmp_path / "search.py"
    script.write_text(ORPHANING_SCRIPT)
    search = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    worker_pid = int(search.stdout.readline())
    assert os.path.exists(f"/proc/{worker_pid}")
    search.kill()
    search.wait()
    deadline = time.monotonic() + 20
    while os.path.exists(f"/proc/{worker_pid}") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not os.path.exists(f"/proc/{worker_pid}"), "the orphaned worker kept running"


def sleepy_model(**params):
    """Hangs while building: a trial that would block the search forever without a timeout."""
    import time

    time.sleep(600)


def test_a_trial_past_its_timeout_is_stopped_and_fails_alone(digits):
    runner = WorkerProcessRunner(create_model=sleepy_model, data=digits, trials_per_worker=5, trial_timeout=2, **FAST)
    params = dict(learning_rate=0.01, num_layers=3, num_nodes=8, hidden_activation="relu")
    try:
        trial, model = runner.run(params=params, index=0, seed=0, log_dir=None)
        pid = runner.worker_pid
    finally:
        runner.close()
    assert not trial.ok and model is None and pid is None
    assert trial.error == "TrialTimeout: the trial ran longer than 2 s and was stopped"


def test_a_timeout_without_workers_is_refused(digits, digits_model):
    with pytest.raises(InputError, match="a trial timeout needs trials in worker processes"):
        run_search(create_model=digits_model, data=digits, n_calls=1, trial_timeout=5, **FAST)


def test_a_worker_that_cannot_start_is_a_clear_error(digits, digits_model, monkeypatch):
    import errno
    import subprocess

    from harness.trial_runner import WorkerStartError

    def no_more_processes(*args, **kwargs):
        raise OSError(errno.EAGAIN, "Resource temporarily unavailable")

    monkeypatch.setattr(subprocess, "Popen", no_more_processes)
    runner = WorkerProcessRunner(create_model=digits_model, data=digits, trials_per_worker=2, **FAST)
    params = dict(learning_rate=0.01, num_layers=3, num_nodes=8, hidden_activation="relu")
    with pytest.raises(WorkerStartError, match=r"cannot start a trial worker process \(Resource temporarily "
                                               r"unavailable\); free memory or processes"):
        runner.run(params=params, index=0, seed=0, log_dir=None)
    runner.close()


def test_a_worker_scores_a_saved_model_as_this_process_does_and_names_a_failure(digits, digits_model, tmp_path):
    params = dict(learning_rate=0.01, num_layers=3, num_nodes=8, hidden_activation="relu")
    inline = InProcessRunner(create_model=digits_model, data=digits, **FAST)
    _, model = inline.run(params=params, index=0, seed=0, log_dir=None)
    path = tmp_path / "best_model.keras"
    model.save(path)
    runner = WorkerProcessRunner(create_model=digits_model, data=digits, trials_per_worker=2, **FAST)
    try:
        scores = runner.score_saved_model(path)  # no trial ran: a worker is started for it
        assert runner.workers_started == 1
        with pytest.raises(OSError, match="scoring the saved model .*missing.keras failed in the trial worker"):
            runner.score_saved_model(tmp_path / "missing.keras")
        assert runner.score_saved_model(path) == scores  # the worker survives a failed load
    finally:
        runner.close()
    assert scores == inline.score_saved_model(path)
