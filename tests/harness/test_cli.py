"""`mlptune tune` as a user runs it: in a subprocess, reading its output and exit status."""

import json
import os
import subprocess
import sys

import pytest

QUICK = ["--dataset", "digits", "--n-calls", "2", "--epochs", "1", "--train-size", "300"]


def mlptune(*args, cwd, env=None):
    return subprocess.run([sys.executable, "-m", "harness.cli", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=600, env=env)


def as_a_user_runs_it():
    """The environment without the test suite's own TF_CPP_MIN_LOG_LEVEL (tests/conftest.py)."""
    return {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}


def assert_one_line_usage_error(run, message):
    assert run.returncode == 2, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert message in lines[0]
    assert "Traceback" not in run.stderr


@pytest.mark.parametrize(("args", "message"), [
    (["tune", "--n-calls", "0"], "--n-calls: expected a positive integer, got '0'"),
    (["tune", "--epochs", "x"], "--epochs: expected a positive integer, got 'x'"),
    (["tune", "--dataset", "mnist"], "invalid choice: 'mnist'"),
    (["tune", "--validate-on", "train"], "invalid choice: 'train'"),
    (["tune", "--seed", "-3"], "--seed: expected a non-negative integer"),
    (["tune", "--frobnicate"], "unrecognized arguments: --frobnicate"),
    (["tune", "--prune", "hyperband"], "invalid choice: 'hyperband'"),
    (["tune", "--prune", "none", "--prune-after", "1"], "prune settings were given but the prune rule is none"),
    (["tune", "--prune-after", "1,x"], "prune epochs must be a comma-separated list of whole numbers, got '1,x'"),
    (["tune", "--prune-after", "0"], "prune epochs must be whole numbers >= 1, got [0]"),
    (["tune", "--prune", "median", "--prune-percentile", "90"], "give --prune percentile for it"),
    (["tune", "--prune", "percentile", "--prune-percentile", "100"], "prune percentile must be a number between 0"),
    (["tune", "--prune", "percentile", "--prune-percentile", "x"], "--prune-percentile: invalid float value: 'x'"),
    (["tune", "--prune", "none", "--prune-min-trials", "3"], "prune settings were given but the prune rule is none"),
    (["tune", "--prune-min-trials", "0"], "--prune-min-trials: expected a positive integer, got '0'"),
    (["tune", "--initial-design", "sobol"], "invalid choice: 'sobol'"),
    (["tune", "--initial-points", "0"], "--initial-points: expected a positive integer, got '0'"),
    (["tune", "--threads", "-1"], "--threads: expected a non-negative integer, got '-1'"),
])
def test_bad_arguments_are_one_line_and_exit_2(tmp_path, args, message):
    assert_one_line_usage_error(mlptune(*args, cwd=tmp_path), message)


@pytest.mark.parametrize(("args", "message"), [
    (["--epochs", "3", "--prune-after", "9"], "--prune-after 9: a check must come before the last epoch (3), where a "
                                              "trial could still stop early; give e.g. --prune-after 1,2"),
    (["--epochs", "3", "--prune-after", "1,3"], "--prune-after 3: a check must come before the last epoch (3)"),
    (["--epochs", "1", "--prune-after", "1"], "a one-epoch trial has none to check; drop --prune-after"),
])
def test_a_prune_check_at_or_after_the_last_epoch_is_refused_before_any_folder(tmp_path, args, message):
    run = mlptune("tune", "--dataset", "digits", "--out", "r", *args, cwd=tmp_path)
    assert_one_line_usage_error(run, message)
    assert not (tmp_path / "r").exists()


def test_version_is_the_installed_package_s(tmp_path):
    from importlib.metadata import version

    run = mlptune("--version", cwd=tmp_path)
    assert (run.returncode, run.stdout) == (0, f"pytest-mlptune {version('pytest-mlptune')}\n")


def test_missing_data_dir_names_the_fix(tmp_path):
    run = mlptune("tune", "--data-dir", str(tmp_path / "nowhere"), "--out", "r", cwd=tmp_path)
    assert_one_line_usage_error(run, "apt-get install -y dataset-fashion-mnist")


def test_data_dir_with_digits_is_refused(tmp_path):
    run = mlptune("tune", "--dataset", "digits", "--data-dir", str(tmp_path), "--out", "r", cwd=tmp_path)
    assert_one_line_usage_error(run, "--data-dir applies to fashion-mnist only")


def test_train_size_too_large(tmp_path):
    run = mlptune("tune", "--dataset", "digits", "--train-size", "5000", "--out", "r", cwd=tmp_path)
    assert_one_line_usage_error(run, "--train-size must be an integer between 20 and 1438 for digits")


def test_existing_run_directory_is_not_overwritten(tmp_path):
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "results.json").write_text("{}")
    run = mlptune("tune", *QUICK, "--out", "old", cwd=tmp_path)
    assert_one_line_usage_error(run, "run directory old already exists; resume it with --resume old")
    assert (tmp_path / "old" / "results.json").read_text() == "{}"


def test_unwritable_output_directory(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    run = mlptune("tune", *QUICK, "--out", "file/run", cwd=tmp_path)
    assert_one_line_usage_error(run, "choose a writable --out")


def test_resume_of_something_that_is_not_a_run(tmp_path):
    (tmp_path / "empty").mkdir()
    run = mlptune("tune", "--resume", "empty", cwd=tmp_path)
    assert_one_line_usage_error(run, "empty is not a run directory")


@pytest.mark.slow  # an end-to-end run: make test-slow
def test_quick_run_reports_like_the_seed_notebook_then_resume_refuses_other_settings(tmp_path):
    run = mlptune("tune", *QUICK, "--out", "run", cwd=tmp_path, env=as_a_user_runs_it())
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""  # quiet by default: no TensorFlow start-up lines, from this process or its workers
    out = run.stdout
    assert "[1/2] val_acc" in out and "[2/2] val_acc" in out and "ETA" in out
    assert "trials by validation accuracy (best first):" in out
    assert "best parameters (trial" in out
    assert "best model reloaded from run/best_model.keras: validation accuracy" in out and "test accuracy" in out
    results = json.loads((tmp_path / "run" / "results.json").read_text())
    assert results["best_model_check"]["matches_recorded"] is True
    assert len(results["trials"]) == 2
    assert "2 initial points (random)" in out and "initial_design" not in results["budget"]  # random: as before
    stored = json.loads((tmp_path / "run" / "run.json").read_text())
    assert (stored["initial_design"], stored["initial_points"]) == ("random", 5)  # mlptune tune's defaults
    assert "2 TensorFlow threads per trial" in out and stored["threads"] == 2 and "threads" not in results["budget"]
    # -accuracy, as the blog, written down so a resume keeps it whatever later defaults are
    assert "objective" not in out.splitlines()[0] and stored["objective_scale"] == "accuracy"
    assert "objective_scale" not in results["budget"]

    refused = mlptune("tune", "--resume", "run", "--n-calls", "3", cwd=tmp_path)
    assert_one_line_usage_error(refused, "cannot resume run with other settings (n_calls 2 -> 3)")
    one_per_core = mlptune("tune", "--resume", "run", "--threads", "0", cwd=tmp_path)
    assert_one_line_usage_error(one_per_core, "cannot resume run with other settings (threads 2 -> None)")
    log_scale = mlptune("tune", "--resume", "run", "--objective-scale", "log-error", cwd=tmp_path)
    assert_one_line_usage_error(log_scale,
                                "cannot resume run with other settings (objective_scale 'accuracy' -> 'log-error')")

    again = mlptune("tune", "--resume", "run", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "2 of 2 trials already done" in again.stdout and "(replayed)" in again.stdout
    assert json.loads((tmp_path / "run" / "results.json").read_text())["trials"] == results["trials"]


IMPORTS_AFTER_A_RUN = """
import sys
from harness.cli import main
code = main(sys.argv[1:])
print("exit", code, "tensorflow imported:", "tensorflow" in sys.modules)
"""


@pytest.mark.slow  # an end-to-end run: make test-slow
def test_with_trial_workers_the_mlptune_process_never_imports_tensorflow(tmp_path):
    # seconds of a one-core machine's time per run: the worker trains, and reloads the best model for the report
    run = subprocess.run([sys.executable, "-c", IMPORTS_AFTER_A_RUN, "tune", *QUICK, "--out", "run"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=600)
    assert "exit 0 tensorflow imported: False" in run.stdout, run.stderr
    assert "best model reloaded from run/best_model.keras: validation accuracy" in run.stdout
    assert json.loads((tmp_path / "run" / "results.json").read_text())["best_model_check"]["matches_recorded"] is True


@pytest.mark.slow  # an end-to-end run: make test-slow
def test_poor_trials_are_pruned_by_default_and_the_best_is_a_full_budget_trial(tmp_path):
    # in this process (--trials-per-worker 0): the worker path is the other tests' subject, and its start-ups
    # would be most of this one's time
    args = ["--dataset", "digits", "--n-calls", "8", "--epochs", "3", "--train-size", "300", "--seed", "2",
            "--trials-per-worker", "0"]
    run = mlptune("tune", *args, "--out", "run", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "median pruning after epoch 1,2, 2 TensorFlow threads per trial; writing run" in run.stdout  # every epoch but the last
    assert "pruned after epoch" in run.stdout
    results = json.loads((tmp_path / "run" / "results.json").read_text())
    assert results["budget"]["prune"] == {"rule": "median", "after_epochs": [1, 2], "min_trials": 1}
    written = json.loads((tmp_path / "run" / "run.json").read_text())
    assert (written["prune_after"], written["prune_min_trials"]) == ("1,2", 1)  # a resume keeps them
    statuses = [t["status"] for t in results["trials"]]
    assert statuses[0] == "ok" and "pruned" in statuses  # the first trial has nothing to be checked against
    assert results["best"]["status"] == "ok" and len(results["best"]["epoch_scores"]) == 3
    assert results["best_model_check"]["matches_recorded"] is True

    unpruned = mlptune("tune", *args, "--prune", "none", "--out", "full", cwd=tmp_path)
    assert unpruned.returncode == 0, unpruned.stderr
    full = json.loads((tmp_path / "full" / "results.json").read_text())
    assert "prune" not in full["budget"] and "pruned" not in unpruned.stdout
    # the trials before the first pruned one are the same search, bit for bit
    first_pruned = statuses.index("pruned")
    assert [(t["params"], t["score"]) for t in full["trials"][:first_pruned]] == \
        [(t["params"], t["score"]) for t in results["trials"][:first_pruned]]

    top = mlptune("tune", *args, "--n-calls", "5", "--prune", "percentile", "--prune-percentile", "75",
                  "--objective-scale", "log-error", "--out", "top", cwd=tmp_path)
    assert top.returncode == 0, top.stderr
    assert "pruning below the 75th percentile after epoch 1 (once 3 trials reached it), 2 TensorFlow threads per " \
           "trial, objective log-error; writing top" in top.stdout
    settings = json.loads((tmp_path / "top" / "run.json").read_text())  # written in full: a resume keeps the rule
    assert (settings["prune"], settings["prune_after"], settings["prune_percentile"], settings["prune_min_trials"]) == \
        ("percentile", "1", 75.0, 3)
    top_budget = json.loads((tmp_path / "top" / "results.json").read_text())["budget"]
    assert top_budget["prune"] == {"rule": "percentile", "percentile": 75.0, "after_epochs": [1], "min_trials": 3}
    assert top_budget["objective_scale"] == settings["objective_scale"] == "log-error"


def _start(args, cwd):
    return subprocess.Popen([sys.executable, "-m", "harness.cli", *args], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _wait_for_trials(path, count, process, timeout=300):
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.read_text().count("\n") >= count:
            return
        assert process.poll() is None, process.communicate()
        time.sleep(0.05)
    raise AssertionError(f"no {count} trials in {path} after {timeout} s")


RESUMABLE = ["--dataset", "digits", "--n-calls", "4", "--epochs", "1", "--train-size", "300", "--seed", "5"]


@pytest.mark.slow  # an end-to-end run: make test-slow
def test_sigkill_mid_run_then_resume_gives_the_uninterrupted_trials(tmp_path):
    import signal

    # the reference trains in this process: the same trials as in a worker (test_trial_runner.py), one start-up less
    reference = mlptune("tune", *RESUMABLE, "--trials-per-worker", "0", "--out", "whole", cwd=tmp_path)
    assert reference.returncode == 0, reference.stderr
    expected = json.loads((tmp_path / "whole" / "results.json").read_text())["trials"]

    process = _start(["tune", *RESUMABLE, "--out", "killed"], tmp_path)
    _wait_for_trials(tmp_path / "killed" / "trials.jsonl", 2, process)
    process.send_signal(signal.SIGKILL)
    process.communicate()
    done = (tmp_path / "killed" / "trials.jsonl").read_text().count("\n")
    assert 2 <= done < 4

    resumed = mlptune("tune", "--resume", "killed", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert f"{done} of 4 trials already done" in resumed.stdout
    trials = json.loads((tmp_path / "killed" / "results.json").read_text())["trials"]

    def strip(trial):  # the time taken and the saved file's hash (a zip with time stamps) are not the trial
        return {k: v for k, v in trial.items() if k not in ("seconds", "model_sha256")}

    assert [strip(t) for t in trials] == [strip(t) for t in expected]
    assert "best model reloaded from killed/best_model.keras" in resumed.stdout  # adopted or saved again, checked


def test_ctrl_c_saves_and_prints_how_to_resume(tmp_path):
    import signal

    process = _start(["tune", *RESUMABLE, "--out", "stopped"], tmp_path)
    _wait_for_trials(tmp_path / "stopped" / "trials.jsonl", 1, process)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert "Resume with: mlptune tune --resume stopped" in stderr
    assert (tmp_path / "stopped" / "trials.jsonl").read_text().count("\n") >= 1


def test_a_failed_data_check_leaves_no_folder_behind(tmp_path):
    first = mlptune("tune", "--data-dir", str(tmp_path / "nowhere"), "--out", "r", cwd=tmp_path)
    assert_one_line_usage_error(first, "apt-get install -y dataset-fashion-mnist")
    assert not (tmp_path / "r").exists()  # so the same command, once the data is there, is not refused


def test_an_os_error_is_one_line_and_exit_2(monkeypatch, capsys):
    import errno

    from harness import cli

    def disk_full(args):
        raise OSError(errno.ENOSPC, "No space left on device", "runs/x/trials.jsonl")

    monkeypatch.setattr(cli, "run_tune", disk_full)
    assert cli.main(["tune"]) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("mlptune tune: error: No space left on device (runs/x/trials.jsonl); free space")


def test_a_run_folder_in_use_is_refused(tmp_path):
    from harness.run_directory import RunDirectory, RunSettings

    settings = RunSettings(dataset="digits", data_dir=None, validate_on="split", train_size=300, n_calls=2,
                           epochs=1, batch_size=64, seed=0)
    with RunDirectory.create(tmp_path / "busy", settings):
        run = mlptune("tune", "--resume", "busy", cwd=tmp_path)
    assert_one_line_usage_error(run, "run directory busy is in use by another mlptune process")


ON_WORKERS = ["--dataset", "digits", "--n-calls", "6", "--epochs", "1", "--train-size", "300", "--workers", "2"]


def _descendants(pid):
    import psutil

    return psutil.Process(pid).children(recursive=True)


def _all_gone(processes, timeout=60):
    import psutil

    _, alive = psutil.wait_procs(processes, timeout=timeout)
    return [p.pid for p in alive]


@pytest.mark.slow  # an end-to-end run: make test-slow
def test_no_process_is_left_behind_when_a_run_on_workers_is_killed(tmp_path):
    import signal

    process = _start(["tune", *ON_WORKERS, "--out", "run"], tmp_path)
    _wait_for_trials(tmp_path / "run" / "trials.jsonl", 2, process)
    children = _descendants(process.pid)
    assert len(children) >= 4  # two Dask workers, each with its trial process (and the nannies' helpers)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=120)
    assert _all_gone(children) == []


@pytest.mark.slow  # an end-to-end run: make test-slow
def test_a_run_on_workers_stopped_by_ctrl_c_leaves_no_process_and_resumes_on_another_worker_count(tmp_path):
    import signal

    process = _start(["tune", *ON_WORKERS, "--out", "run"], tmp_path)
    _wait_for_trials(tmp_path / "run" / "trials.jsonl", 2, process)
    children = _descendants(process.pid)
    assert len(children) >= 4
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 130 and "Resume with: mlptune tune --resume run" in stderr
    assert "2 trials per batch, on 2 Dask workers" in stdout
    assert _all_gone(children) == []
    assert json.loads((tmp_path / "run" / "run.json").read_text())["trials_per_batch"] == 2
    done = (tmp_path / "run" / "trials.jsonl").read_text().count("\n")

    other_q = mlptune("tune", "--resume", "run", "--trials-per-batch", "3", cwd=tmp_path)
    assert_one_line_usage_error(other_q, "cannot resume run with other settings (trials_per_batch 2 -> 3)")
    one_worker = mlptune("tune", "--resume", "run", "--workers", "1", cwd=tmp_path)
    assert one_worker.returncode == 0, one_worker.stderr  # the number of workers is not part of the search
    assert f"{done} of 6 trials already done" in one_worker.stdout and "on 1 Dask worker" in one_worker.stdout
    assert len(json.loads((tmp_path / "run" / "results.json").read_text())["trials"]) == 6


def test_an_unreachable_scheduler_is_one_line_and_exit_2_within_10_s(tmp_path):
    import time

    started = time.monotonic()
    run = mlptune("tune", *QUICK, "--scheduler", "tcp://127.0.0.1:9", "--out", "r", cwd=tmp_path)
    assert_one_line_usage_error(run, "cannot reach the Dask scheduler at tcp://127.0.0.1:9 within 8 s")
    assert time.monotonic() - started < 10 + 6  # plus this interpreter's own start-up
    assert not (tmp_path / "r").exists()


def tune_settings(**given):
    """`mlptune tune`'s settings with its defaults, as the command line gives them before a run starts."""
    from harness import cli
    from harness.run_directory import RunSettings

    return RunSettings(**{**cli.TUNE_DEFAULTS, **given})


def test_the_initial_points_count_the_default_point_and_at_most_the_drawn_ones():
    from harness import cli

    assert cli._initial_point_count(tune_settings()) == 6  # mlptune tune at 50 calls: the default point and 5 drawn
    assert cli._initial_point_count(tune_settings(initial_points=10)) == 11  # the blog's
    assert cli._initial_point_count(tune_settings(n_calls=10)) == 3  # a fifth of the calls when that is fewer
    assert cli._describe_initial_design(tune_settings(initial_design="lhs")) == "6 initial points (Latin hypercube)"


def test_a_new_median_run_waits_for_1_trial_and_older_folders_resume_with_their_own_count():
    from harness import cli
    from harness.run_directory import RunSettings

    new = cli._settings_with_prune_rule(tune_settings())
    assert (new.prune, new.prune_after, new.prune_min_trials) == ("median", "1,2,3,4", 1)  # written to run.json
    assert cli._prune_rule(new).min_trials == 1
    # run.json of a median run made while the default was 3 says so, and resumes with it
    three = RunSettings.from_json({**new.to_json(), "prune_min_trials": 3})
    assert cli._prune_rule(three).min_trials == 3
    given = cli._settings_with_prune_rule(tune_settings(prune_min_trials=5))
    assert cli._prune_rule(given).min_trials == 5  # --prune-min-trials still wins
    # run.json of a median run made before: no count written, so it resumes with the rule's own
    before = RunSettings.from_json({**new.to_json(), "prune_min_trials": None})
    assert cli._prune_rule(before).min_trials == 5
    # the percentile rule's settings are untouched, and a rule of none gets no count
    assert cli._settings_with_prune_rule(tune_settings(prune="none")).prune_min_trials is None
    top = cli._settings_with_prune_rule(tune_settings(prune="percentile"))
    assert (top.prune_after, top.prune_percentile, top.prune_min_trials) == ("1", 90.0, 3)
