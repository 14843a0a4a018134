"""The run folder: created once, locked, never following a symlink, validated on resume."""

import json
import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.errors import InputError
from harness.run_directory import (
    BEST_MODEL_NAME,
    CHECKPOINT_NAME,
    SETTINGS_NAME,
    RunDirectory,
    RunSettings,
    file_sha256,
    read_checkpoint,
)
from harness.trial import Trial, TrialFormatError

SETTINGS = RunSettings(dataset="digits", data_dir=None, validate_on="split", train_size=None, n_calls=4, epochs=1,
                       batch_size=64, seed=0)


def trial(index, score=0.5, **extra):
    return Trial(index=index, params={"units": 8, "activation": "relu"}, seed=index + 10, status="ok", score=score,
                 val_loss=0.7, seconds=1.25, **extra)


def made_run(tmp_path, trials=()):
    with RunDirectory.create(tmp_path / "run", SETTINGS) as run:
        for t in trials:
            run.append_trial(t)
    return tmp_path / "run"


def test_a_new_run_folder_is_never_adopted(tmp_path):
    (tmp_path / "run").mkdir()
    with pytest.raises(InputError, match="run directory .*run already exists; resume it with --resume"):
        RunDirectory.create(tmp_path / "run", SETTINGS)


def test_a_run_folder_is_locked_while_open(tmp_path):
    path = made_run(tmp_path)
    with RunDirectory.resume(path):
        with pytest.raises(InputError, match="is in use by another mlptune process"):
            RunDirectory.resume(path)
    RunDirectory.resume(path).close()  # released when closed


def test_the_lock_holds_across_processes(tmp_path):
    import subprocess
    import sys

    path = made_run(tmp_path)
    with RunDirectory.resume(path):
        other = subprocess.run([sys.executable, "-c", "from harness.run_directory import RunDirectory; "
                                f"RunDirectory.resume({str(path)!r})"], capture_output=True, text=True)
    assert other.returncode != 0 and "is in use by another mlptune process" in other.stderr


def test_resume_reads_settings_and_trials_and_repairs_a_torn_last_line(tmp_path):
    path = made_run(tmp_path, [trial(0), trial(1)])
    with open(path / CHECKPOINT_NAME, "a") as log:
        log.write('{"index": 2, "par')  # killed mid-write
    with RunDirectory.resume(path) as run:
        assert run.settings == SETTINGS and [t.index for t in run.trials] == [0, 1]
        run.append_trial(trial(2))
    assert [t.index for t in read_checkpoint(path / CHECKPOINT_NAME)[0]] == [0, 1, 2]


@pytest.mark.parametrize("where", ["log", "subfolder", "model"])
def test_a_symlink_anywhere_in_a_run_folder_is_refused_on_resume(tmp_path, where):
    path = made_run(tmp_path, [trial(0)])
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    if where == "log":
        (path / CHECKPOINT_NAME).unlink()
        (path / CHECKPOINT_NAME).symlink_to(victim)
    elif where == "subfolder":
        (path / "tensorboard").symlink_to(tmp_path, target_is_directory=True)
    else:
        (path / BEST_MODEL_NAME).symlink_to(victim)
    with pytest.raises(InputError, match="is a symlink; .* cannot be resumed: start a new run"):
        RunDirectory.resume(path)
    assert victim.read_text() == "precious"


def test_the_log_is_never_appended_through_a_symlink(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    with RunDirectory.create(tmp_path / "run", SETTINGS) as run:
        (run.path / CHECKPOINT_NAME).symlink_to(victim)  # planted while the run is open
        with pytest.raises(InputError, match="is a symlink"):
            run.append_trial(trial(0))
    assert victim.read_text() == "precious"


@pytest.mark.parametrize(("line", "problem"), [
    ({"score": None}, "an ok trial needs a score between 0 and 1"),
    ({"score": 1.5}, "an ok trial needs a score between 0 and 1"),
    ({"score": "0.9"}, "an ok trial needs a score between 0 and 1"),
    ({"index": "0"}, "index must be a non-negative integer"),
    ({"params": [1, 2]}, "params must map names"),
    ({"status": "great"}, "status must be"),
    ({"seconds": -1}, "seconds must be a finite number"),
])
def test_a_malformed_trial_is_a_one_line_error(tmp_path, line, problem):
    path = made_run(tmp_path, [trial(0)])
    bad = {**trial(1).to_json(), **line}
    with open(path / CHECKPOINT_NAME, "a") as log:
        log.write(json.dumps(bad) + "\n" + json.dumps(trial(2).to_json()) + "\n")
    with pytest.raises(InputError, match=f"line 2 is corrupt .*{problem}"):
        RunDirectory.resume(path)


def test_invalid_utf8_in_the_log_is_a_one_line_error(tmp_path):
    path = made_run(tmp_path, [trial(0)])
    with open(path / CHECKPOINT_NAME, "ab") as log:
        log.write(b'{"index": 1, "params": {"\xff": 1}}\n' + json.dumps(trial(2).to_json()).encode() + b"\n")
    with pytest.raises(InputError, match="line 2 is corrupt"):
        RunDirectory.resume(path)


@pytest.mark.parametrize("content", [
    '{"schema": 1, "dataset": "digits"}', '{"schema": 1, "dataset": 3, "data_dir": null, "validate_on": "split", '
    '"train_size": null, "n_calls": 4, "epochs": 1, "batch_size": 64, "seed": 0}', "[]", "\xff"])
def test_a_malformed_run_json_is_a_one_line_error(tmp_path, content):
    path = made_run(tmp_path)
    (path / SETTINGS_NAME).write_bytes(content.encode("latin-1"))
    with pytest.raises(InputError, match=r"run\.json (is corrupt|has schema|is unreadable)"):
        RunDirectory.resume(path)


def test_the_best_model_is_adopted_only_when_its_hash_is_the_logged_one(tmp_path):
    path = tmp_path / "run"
    with RunDirectory.create(path, SETTINGS) as run:
        (path / BEST_MODEL_NAME).write_bytes(b"model bytes")
        run.append_trial(trial(0, score=0.9, model_sha256=file_sha256(path / BEST_MODEL_NAME)))
        run.append_trial(trial(1, score=0.4))
    with RunDirectory.resume(path) as run:
        assert run.best_model_path == str(path / BEST_MODEL_NAME)
    (path / BEST_MODEL_NAME).write_bytes(b"another model")  # replaced, or saved by a trial the log lost
    with RunDirectory.resume(path) as run:
        assert run.best_model_path is None
    assert not (path / BEST_MODEL_NAME).exists()


def test_trials_round_trip_through_json():
    original = trial(3, model_sha256="ab" * 32)
    assert Trial.from_json(json.loads(json.dumps(original.to_json()))) == original
    failed = Trial(index=0, params={"x": 1}, seed=1, status="failed", score=None, val_loss=None, seconds=0.1,
                   error="ValueError: bad")
    assert Trial.from_json(failed.to_json()) == failed


JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                                       max_size=4), max_leaves=12)
TRIAL_LIKE = st.fixed_dictionaries({}, optional={key: JSON_VALUES for key in (
    "index", "params", "seed", "status", "score", "val_loss", "seconds", "error", "model_sha256")})


@given(st.one_of(JSON_VALUES, TRIAL_LIKE))
def test_any_json_is_a_trial_or_the_trial_format_error(data):
    try:
        loaded = Trial.from_json(data)
    except TrialFormatError:
        return
    assert loaded.status == "failed" or 0.0 <= loaded.score <= 1.0


@given(settings_bytes=st.binary(max_size=200), log_bytes=st.binary(max_size=300))
def test_arbitrary_run_folder_bytes_resume_or_give_the_one_line_error(tmp_path_factory, settings_bytes, log_bytes):
    path = tmp_path_factory.mktemp("fuzz")
    (path / SETTINGS_NAME).write_bytes(settings_bytes)
    (path / CHECKPOINT_NAME).write_bytes(log_bytes)
    try:
        RunDirectory.resume(path).close()
    except InputError as error:
        assert "\n" not in str(error)


@given(st.lists(st.sampled_from([json.dumps(trial(0).to_json()), '{"index": 1}', "\xff", "[]", "", "{"]),
                max_size=4))
def test_log_lines_from_valid_and_broken_pieces_load_or_give_the_one_line_error(tmp_path_factory, pieces):
    path = tmp_path_factory.mktemp("fuzz")
    (path / CHECKPOINT_NAME).write_bytes("\n".join(pieces).encode("utf-8", "surrogateescape"))
    try:
        read_checkpoint(path / CHECKPOINT_NAME)
    except InputError as error:
        assert "\n" not in str(error)


def test_the_lock_file_is_not_followed_through_a_symlink(tmp_path):
    path = tmp_path / "run"
    path.mkdir()
    (path / SETTINGS_NAME).write_text(json.dumps(SETTINGS.to_json()))
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    os.symlink(victim, path / ".lock")
    with pytest.raises(InputError):
        RunDirectory.resume(path)
    assert victim.read_text() == "precious"


def test_a_run_folder_from_before_pruning_resumes_without_it_and_a_bad_rule_is_refused():
    old = {k: v for k, v in SETTINGS.to_json().items()
           if k not in ("prune", "prune_after", "prune_percentile", "prune_min_trials")}
    assert RunSettings.from_json(old).prune == "none"  # it trained every trial fully: resuming must too
    before_designs = {k: v for k, v in SETTINGS.to_json().items() if k not in ("initial_design", "initial_points")}
    resumed = RunSettings.from_json(before_designs)
    assert (resumed.initial_design, resumed.initial_points) == ("random", 10)  # the blog's 10 random points
    with pytest.raises(ValueError, match="initial_points 0 is not valid"):
        RunSettings.from_json({**SETTINGS.to_json(), "initial_points": 0})
    with pytest.raises(ValueError, match="initial_design 'sobol' is not valid"):
        RunSettings.from_json({**SETTINGS.to_json(), "initial_design": "sobol"})
    pruned = {**SETTINGS.to_json(), "prune": "median", "prune_after": "1,2"}
    assert RunSettings.from_json(pruned).prune_after == "1,2"
    before_percentiles = {k: v for k, v in pruned.items() if k not in ("prune_percentile", "prune_min_trials")}
    assert RunSettings.from_json(before_percentiles) == RunSettings.from_json(pruned)  # the median's own settings
    top_tenth = {**pruned, "prune": "percentile", "prune_after": "1", "prune_percentile": 90.0, "prune_min_trials": 3}
    assert RunSettings.from_json(top_tenth).prune_percentile == 90.0
    for bad in ({**pruned, "prune": "hyperband"}, {**pruned, "prune_after": "0"}, {**pruned, "prune_after": 1},
                {**top_tenth, "prune_percentile": 100}, {**top_tenth, "prune_percentile": "90"},
                {**top_tenth, "prune_min_trials": 0}, {**top_tenth, "prune_min_trials": 2.5}):
        with pytest.raises(ValueError, match="prune"):
            RunSettings.from_json(bad)


def test_a_run_folder_from_before_the_objective_scale_resumes_on_accuracy_and_a_bad_scale_is_refused():
    before_scales = {k: v for k, v in SETTINGS.to_json().items() if k != "objective_scale"}
    assert RunSettings.from_json(before_scales).objective_scale == "accuracy"  # its optimizer was told -accuracy
    assert RunSettings.from_json({**SETTINGS.to_json(), "objective_scale": "log-error"}).objective_scale == "log-error"
    with pytest.raises(ValueError, match="objective_scale 'logit' is not valid"):
        RunSettings.from_json({**SETTINGS.to_json(), "objective_scale": "logit"})
