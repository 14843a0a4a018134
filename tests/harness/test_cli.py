"""`mlptune tune` as a user runs it: in a subprocess, reading its output and exit status."""

import json
import subprocess
import sys

import pytest

QUICK = ["--dataset", "digits", "--n-calls", "2", "--epochs", "1", "--train-size", "300"]


def mlptune(*args, cwd):
    return subprocess.run([sys.executable, "-m", "harness.cli", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=600)


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
])
def test_bad_arguments_are_one_line_and_exit_2(tmp_path, args, message):
    assert_one_line_usage_error(mlptune(*args, cwd=tmp_path), message)


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


def test_quick_run_reports_like_the_seed_notebook_then_resume_refuses_other_settings(tmp_path):
    run = mlptune("tune", *QUICK, "--out", "run", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert "[1/2] val_acc" in out and "[2/2] val_acc" in out and "ETA" in out
    assert "trials by validation accuracy (best first):" in out
    assert "best parameters (trial" in out
    assert "best model reloaded from run/best_model.keras: validation accuracy" in out and "test accuracy" in out
    results = json.loads((tmp_path / "run" / "results.json").read_text())
    assert results["best_model_check"]["matches_recorded"] is True
    assert len(results["trials"]) == 2

    refused = mlptune("tune", "--resume", "run", "--n-calls", "3", cwd=tmp_path)
    assert_one_line_usage_error(refused, "cannot resume run with other settings (n_calls 2 -> 3)")

    again = mlptune("tune", "--resume", "run", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "2 of 2 trials already done" in again.stdout and "(replayed)" in again.stdout
    assert json.loads((tmp_path / "run" / "results.json").read_text())["trials"] == results["trials"]
