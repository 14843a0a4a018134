"""The plugin's whole lifecycle, run as a user runs it: pytest in a subprocess, with and without xdist."""

import json
import os
import subprocess
import sys

import pytest

BUDGET = ["--n-calls", "2", "-p", "no:randomly", "-p", "no:cacheprovider"]


@pytest.fixture
def run(tuning_project, monkeypatch):
    """pytest on one of the project's two tuning tests (the xdist test below runs both)."""
    def run_pytest(*args, quality="good"):
        monkeypatch.setenv("QUALITY", quality)
        return tuning_project.runpytest_subprocess(*BUDGET, "-rs", "-k", "8", *args)

    return run_pytest


def junit_properties(path, test_name):
    """The <property> elements pytest's --junitxml wrote for one test case."""
    import xml.etree.ElementTree as ElementTree

    [case] = [case for case in ElementTree.parse(path).iter("testcase") if case.get("name") == test_name]
    return {prop.get("name"): prop.get("value") for prop in case.iter("property")}


def baseline_files(pytester):
    return sorted((pytester.path / "baselines").glob("*/*.json"))


@pytest.mark.slow  # an end-to-end run: make test-slow
def test_lifecycle(run, tuning_project, monkeypatch):
    skipped = run()
    skipped.assert_outcomes(skipped=1)
    skipped.stdout.fnmatch_lines(["*mlptune: tune off*", "*needs --tune*"])

    new = run("--tune")
    new.assert_outcomes(failed=1)
    new.stdout.fnmatch_lines([
        "*no baseline for this test in environment *; create it with: "
        "mlptune baselines update 'test_blobs.py::test_blobs[[]8]' --n-calls 2*",
        "*1 tuning test without a baseline*",
    ])
    # found before the search, which then never ran: no best, 0 calls, 0 seconds
    new.stdout.re_match_lines([r".*test_blobs\[8\]\s+-\s+-\s+-\s+-\s+-\s+-\s+new\s+0\s+0\.0$"])
    assert baseline_files(tuning_project) == []

    # The baseline comes from the scrambled labels, so the fixed ones below improve on it. The opposite
    # direction, a regression, is test_user_project.py's subject, with this failure message in full.
    made = run("--tune", "--update-baselines", quality="bad")
    made.assert_outcomes(passed=1)
    made.stdout.fnmatch_lines(["*1 baseline written.*"])
    [path] = baseline_files(tuning_project)
    assert path.name == "test_blobs--test_blobs[8].json"
    stored = json.loads(path.read_text())
    assert stored["schema"] == 2 and stored["test"] == "test_blobs.py::test_blobs[8]"
    [record] = stored["replay"]["configs"][:1]
    assert len(record["seeds"]) == len(record["scores"]) == 4  # each replayed configuration, with four training seeds
    assert stored["budget"] == {"n_calls": 2, "n_initial_points": 1, "acq_func": "EI",
                                "acq_optimizer": "sampling", "epochs": 2, "batch_size": 32}
    assert {"python", "tensorflow", "keras", "numpy", "scikit-optimize", "platform"} <= set(stored["environment"])
    assert path.read_text().endswith("}\n") and '\n    "value"' in path.read_text()  # diff-friendly

    # outside xdist the replay trains beside the search; below, as under `-n <cores>`, after it
    monkeypatch.delenv("PYTEST_XDIST_WORKER_COUNT", raising=False)
    same = run("--tune", "--junitxml=report.xml", quality="bad")
    same.assert_outcomes(passed=1)
    same.stdout.fnmatch_lines(["*test_blobs.py::test_blobs[[]8]*+0.0000*ok*", "*1 tuning result within*"])
    properties = junit_properties(tuning_project.path / "report.xml", "test_blobs[8]")
    assert properties["mlptune_verdict"] == "ok" and properties["mlptune_delta"] == "0.0000"
    assert properties["mlptune_best"] == properties["mlptune_baseline_best"] == f"{stored['search']['value']:.4f}"
    assert float(properties["mlptune_bound"]) == 0.05 and float(properties["mlptune_replay_bound"]) > 0
    row = json.loads(properties["mlptune_row"])
    assert row["status"] == "ok" and row["replay_beside_search"] is True

    unfailable = run("--tune", "-o", "tune_search_floor=1")  # a drop to 0 would pass: an error, not a pass
    unfailable.assert_outcomes(failed=1)
    unfailable.stdout.fnmatch_lines(["*this check cannot fail: the search's best may drop 1.0000 from a baseline*"])
    unfailable.stdout.re_match_lines([r".*test_blobs\[8\].*\s+error\s+0\s+0\.0$"])  # before the search

    other_budget = run("--tune", "--n-calls", "3")
    other_budget.assert_outcomes(failed=1)
    other_budget.stdout.fnmatch_lines(["*is not comparable: n_calls 2 in the baseline, 3 now*--n-calls 2*"])
    other_budget.stdout.re_match_lines([r".*test_blobs\[8\].*\s+not-comparable\s+0\s+0\.0$"])

    monkeypatch.setenv("PYTEST_XDIST_WORKER_COUNT", str(os.cpu_count() or 1))
    better = run("--tune", "--junitxml=better.xml")
    better.assert_outcomes(passed=1)
    better.stdout.fnmatch_lines(["*improved*", "*1 tuning result improved on the baseline*"])
    row = json.loads(junit_properties(tuning_project.path / "better.xml", "test_blobs[8]")["mlptune_row"])
    assert row["status"] == "improved" and row["replay_beside_search"] is False

    # A TensorFlow upgrade: this environment has no baseline, the one before it has. The check says so
    # before recording anything, and judges against the old one when asked.
    before = "linux-x86_64-py3.11-tf9.1-keras9"  # never this environment's key, whatever TensorFlow runs the suite
    path.parent.rename(path.parent.with_name(before))
    moved = path.parent.with_name(before) / path.name
    moved.write_text(json.dumps({**json.loads(moved.read_text()), "environment_key": before}, indent=2))
    upgraded = run("--tune")
    upgraded.assert_outcomes(failed=1)
    upgraded.stdout.fnmatch_lines([f"*no baseline for this test in environment *; it has one in {before}: judge against "
                                   f"it with --baselines-from={before}, or create one here with: mlptune baselines*"])
    across = run("--tune", "--baselines-from", "tf9.1", quality="bad")
    across.assert_outcomes(passed=1)
    across.stdout.fnmatch_lines(["mlptune: tune on (check baselines), *(judged against linux-x86_64-py3.11-tf9.1-keras9's)",
                                 "*test_blobs.py::test_blobs[[]8]*+0.0000*ok*",
                                 f"Judged against the baselines of {before} (--baselines-from), not this environment's *"])


@pytest.mark.slow  # an end-to-end run: make test-slow
def test_under_xdist_each_worker_writes_its_baselines_and_the_controller_sums_up(tuning_project):
    def run(*args):
        return tuning_project.runpytest_subprocess("-n", "2", *BUDGET, *args)

    # One run: the rows and counts a check sends home travel the same way (the lifecycle checks them in one process).
    made = run("--tune", "--update-baselines")
    made.assert_outcomes(passed=2)
    assert [f.name for f in baseline_files(tuning_project)] == ["test_blobs--test_blobs[16].json",
                                                                "test_blobs--test_blobs[8].json"]
    made.stdout.fnmatch_lines(["=* mlptune =*", "*test_blobs.py::test_blobs[[]16]*updated*",
                               "*test_blobs.py::test_blobs[[]8]*updated*", "2 baselines written."])
    assert made.stdout.str().count("=== mlptune ===") == 1


CORRUPT_BASELINES = [
    ("{not json", "*baseline baselines/*test_blobs[[]8].json is unusable: not valid JSON*regenerate it with: mlptune*"),
    ('{"schema": 99}', "*is unusable: schema 99 is newer than this pytest-mlptune reads (2); upgrade it*"),
    ('{"schema": 1, "value": 0.5}', "*is unusable: schema 1 is older than this pytest-mlptune writes (2)*"),
    ('{"schema": 2, "value": 0.5}', "*is unusable: missing or malformed field*"),
]


def stored_baseline(pytester, name):
    """Where this environment keeps the baseline file `name` (nothing is written)."""
    from harness.environment import environment_key

    path = pytester.path / "baselines" / environment_key() / name
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


ONE_TRIAL = ["--tune", "--n-calls", "1", "-p", "no:randomly", "-p", "no:cacheprovider"]


@pytest.mark.slow  # an end-to-end run: make test-slow
def test_unusable_baseline_is_a_clear_failure(tuning_project):
    path = stored_baseline(tuning_project, "test_blobs--test_blobs[8].json")
    for content, message in CORRUPT_BASELINES:
        path.write_text(content)
        result = tuning_project.runpytest_subprocess(*ONE_TRIAL, "-k", "8")
        result.assert_outcomes(failed=1)
        result.stdout.fnmatch_lines([message])
        assert path.read_text() == content  # a check never rewrites a baseline


@pytest.mark.slow  # an end-to-end run: make test-slow
def test_unused_baselines_are_reported_when_the_whole_suite_runs(tuning_project):
    # Only the files' names matter here: test_blobs[8] owns the first, no collected test the second.
    stored_baseline(tuning_project, "test_blobs--test_blobs[8].json").write_text("{}")
    stale = stored_baseline(tuning_project, "test_gone--test_old.json")
    stale.write_text("{}")
    part = tuning_project.runpytest_subprocess(*ONE_TRIAL, "-k", "8")
    assert "not used by any collected test" not in part.stdout.str()  # -k leaves tests out on purpose
    whole = tuning_project.runpytest_subprocess(*ONE_TRIAL)
    whole.stdout.fnmatch_lines(["*1 baseline not used by any collected test*", "*test_gone--test_old.json"])
    lines = whole.stdout.lines
    start = next(i for i, line in enumerate(lines) if "not used by any collected test" in line) + 1
    listed = [line for line in lines[start:start + 3] if line.startswith("  ")]
    assert len(listed) == 1 and listed[0].endswith("test_gone--test_old.json")


@pytest.mark.parametrize(("args", "message"), [
    (["--n-calls", "0"], "*--n-calls: expected a positive integer, got '0'*"),
    (["--tune-seed", "x"], "*--tune-seed: expected a non-negative integer, got 'x'*"),
    (["--tune-repeats", "-1"], "*--tune-repeats: expected a positive integer*"),
])
def test_invalid_options_fail_at_parse_time(pytester, args, message):
    pytester.makepyfile("def test_nothing(): pass")
    result = pytester.runpytest_subprocess(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])


@pytest.mark.parametrize("flag", ["--baselines-dir", "--tune-scheduler"])
def test_a_path_after_an_option_that_moved_the_rootdir_is_refused(pytester, monkeypatch, flag):
    # pytest picks the rootdir before plugins add their options: a path given as the next word counts
    # as a test path there, and with no ini file the rootdir (so every test id and baseline name)
    # moves to a folder above both.
    pytester.makepyfile("def test_nothing(): pass")
    outside = pytester.path.parent / f"{pytester.path.name}-shared"
    outside.mkdir()
    (pytester.path / "inside").mkdir()
    split = pytester.runpytest_subprocess(flag, str(outside))
    assert split.ret == pytest.ExitCode.USAGE_ERROR
    split.stderr.fnmatch_lines([f"*{flag} {outside}: pytest took this path for a test path and moved its rootdir to "
                                f"{pytester.path.parent}, which renames every baseline; write it with an equals sign: "
                                f"{flag}={outside}"])
    monkeypatch.setenv("PYTEST_ADDOPTS", f"{flag} {outside}")  # read before the rootdir is picked, too
    assert pytester.runpytest_subprocess().ret == pytest.ExitCode.USAGE_ERROR
    monkeypatch.delenv("PYTEST_ADDOPTS")
    for harmless in ([f"{flag}={outside}"], [flag, "inside"], [flag, "not-a-path-yet"]):
        result = pytester.runpytest_subprocess(*harmless, "-p", "no:randomly")
        result.assert_outcomes(passed=1)
        result.stdout.fnmatch_lines([f"rootdir: {pytester.path}"])
    pytester.makeini("[pytest]\n")  # with a test path, pytest finds the ini file from it, which keeps the rootdir
    anchored = pytester.runpytest_subprocess(".", flag, str(outside), "-p", "no:randomly")
    anchored.assert_outcomes(passed=1)
    anchored.stdout.fnmatch_lines([f"rootdir: {pytester.path}"])


def test_baselines_from_names_one_recorded_environment_and_never_records(pytester):
    pytester.makepyfile("def test_nothing(): pass")
    recorded = ["linux-x86_64-py3.11-tf9.1-keras9", "linux-x86_64-py3.11-tf9.2-keras9"]  # never this environment's
    for key in recorded:
        (pytester.path / "baselines" / key).mkdir(parents=True)
        (pytester.path / "baselines" / key / "test_x--test_y.json").write_text("{}")
    named = pytester.runpytest_subprocess("--tune", "--baselines-from", "tf9.2")
    named.stdout.fnmatch_lines([f"mlptune: tune on (check baselines), *, baselines {pytester.path}/baselines "
                                f"(judged against {recorded[1]}'s)"])
    for wanted, message in [("tf9.3", f"no environment under {pytester.path}/baselines is 'tf9.3'; recorded: "
                                      f"{', '.join(recorded)}"),
                            ("keras9", f"'keras9' names several environments ({', '.join(recorded)}); give more of the key")]:
        refused = pytester.runpytest_subprocess("--tune", "--baselines-from", wanted)
        assert refused.ret == pytest.ExitCode.USAGE_ERROR
        refused.stderr.fnmatch_lines([f"ERROR: --baselines-from {wanted}: {message}"])
    pytester.makeini("[pytest]\ntune_baselines_from = tf9.1\n")
    from_ini = pytester.runpytest_subprocess("--tune")
    from_ini.stdout.fnmatch_lines([f"mlptune: tune on (check baselines), *(judged against {recorded[0]}'s)"])
    recording = pytester.runpytest_subprocess("--tune", "--update-baselines")
    assert recording.ret == pytest.ExitCode.USAGE_ERROR
    recording.stderr.fnmatch_lines(["ERROR: --update-baselines records this environment's baselines, --baselines-from "
                                    "tf9.1 judges against another's: drop --baselines-from (or the "
                                    "tune_baselines_from ini option) to record"])


def test_ini_twins_and_cli_precedence(pytester):
    pytester.makeini("[pytest]\ntune = true\ntune_n_calls = 7\ntune_seed = 3\ntune_baselines_dir = stored\n")
    pytester.makepyfile("def test_nothing(): pass")
    header = pytester.runpytest_subprocess()
    header.stdout.fnmatch_lines(["mlptune: tune on (check baselines), n_calls 7, seed 3, environment *, baselines */stored"])
    cli = pytester.runpytest_subprocess("--n-calls", "4")
    cli.stdout.fnmatch_lines(["mlptune: tune on (check baselines), n_calls 4, seed 3,*"])


def test_invalid_ini_value_is_a_usage_error(pytester):
    pytester.makeini("[pytest]\ntune_n_calls = many\n")
    pytester.makepyfile("def test_nothing(): pass")
    result = pytester.runpytest_subprocess()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*ini option tune_n_calls = 'many': expected a positive integer*"])


def test_marker_is_registered_for_strict_markers(pytester):
    pytester.makepyfile("import pytest\n@pytest.mark.tune(floor=0.02)\ndef test_x(): pass")
    pytester.runpytest_subprocess("--strict-markers").assert_outcomes(skipped=1)


def test_fixture_without_marker_is_refused(pytester):
    pytester.makepyfile("def test_x(mlptune): pass")
    result = pytester.runpytest_subprocess("--tune")
    result.stdout.fnmatch_lines(["*uses the mlptune fixture without @pytest.mark.tune*"])
    assert result.ret != 0


def test_plugin_import_stays_light():
    code = ("import sys, pytest_mlptune.plugin; "
            "heavy = [m for m in ('tensorflow', 'keras', 'skopt', 'sklearn') if m in sys.modules]; print(heavy)")
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert output.strip() == "[]"


def test_a_check_that_can_only_fail_fails_before_the_search_starts(pytester, monkeypatch):
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)  # pytest-benchmark stays on in the inner run
    pytester.makepyfile(
        "import sys\n"
        "import numpy as np\n"
        "import pytest\n"
        "from skopt.space import Integer\n"
        "from harness import Dataset\n"
        "def create_model(units):\n"
        "    raise AssertionError('the search ran')\n"
        "@pytest.mark.tune\n"
        "def test_x(mlptune):\n"
        "    data = Dataset(x_train=np.zeros((8, 2)), y_train=np.arange(8) % 2, x_val=np.zeros((4, 2)),\n"
        "                   y_val=np.arange(4) % 2)\n"
        "    try:\n"
        "        mlptune.search(create_model=create_model, space=[Integer(1, 4, name='units')], data=data)\n"
        "    finally:\n"
        "        assert 'tensorflow' not in sys.modules, 'TensorFlow was loaded'\n")
    result = pytester.runpytest_subprocess("--tune")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*no baseline for this test in environment *; create it with: mlptune baselines update*"])
    assert "the search ran" not in result.stdout.str() and "TensorFlow was loaded" not in result.stdout.str()
    # Nothing was timed, so pytest-benchmark has nothing to say (it warns when its fixture goes unused).
    assert "Benchmark fixture was not used" not in result.stdout.str()


def test_bad_search_input_is_a_one_line_test_failure(pytester):
    pytester.makepyfile(
        "import pytest\n"
        "from harness import Dataset\n"
        "import numpy as np\n"
        "@pytest.mark.tune\n"
        "def test_x(mlptune):\n"
        "    data = Dataset(x_train=np.zeros((4, 2)), y_train=np.array([0, 1, 0, 1]),\n"
        "                   x_val=np.zeros((2, 2)), y_val=np.array([0, 1]))\n"
        "    mlptune.search(create_model=None, space=[], data=data)\n")
    result = pytester.runpytest_subprocess("--tune")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*mlptune.search(): the search space is empty: give at least one named skopt dimension*"])
    output = result.stdout.str()
    assert "Traceback" not in output
    assert "During handling" not in output  # said once, not chained to the error it came from
    assert result.stdout.lines.count("mlptune.search(): the search space is empty: give at least one named skopt "
                                     "dimension") == 1


@pytest.mark.slow  # an end-to-end run: make test-slow
def test_trials_are_timed_as_benchmark_rounds_without_changing_the_search(tuning_project, monkeypatch):
    # Under `pytest -n 2` this test runs in an xdist worker, whose variable would make pytest-benchmark
    # in the inner pytest believe it is a worker too, and switch itself off.
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    budget = ["--n-calls", "2", "-p", "no:randomly", "-p", "no:cacheprovider", "-k", "8"]
    tuning_project.runpytest_subprocess("--tune", "--update-baselines", "--benchmark-disable", *budget) \
        .assert_outcomes(passed=1)
    timed = tuning_project.runpytest_subprocess("--tune", "--benchmark-json=timing.json", *budget)
    timed.assert_outcomes(passed=1)
    timed.stdout.fnmatch_lines(["*test_blobs.py::test_blobs[[]8]*+0.0000*ok*"])  # the same search as untimed
    saved = json.loads((tuning_project.path / "timing.json").read_text())
    [benchmark] = saved["benchmarks"]
    assert benchmark["name"] == "test_blobs[8]"
    assert benchmark["stats"]["rounds"] == 2  # one round per trial
    info = benchmark["extra_info"]
    assert len(info["trial_seconds"]) == 2 and info["n_calls"] == 2 and info["tensorflow"]
    # Each round encloses its whole trial, so the rounds can only be longer than the trials they timed.
    stats, tolerance = benchmark["stats"], 0.001  # trial_seconds are rounded to milliseconds
    assert stats["min"] >= min(info["trial_seconds"]) - tolerance
    assert stats["max"] >= max(info["trial_seconds"]) - tolerance
    assert stats["mean"] * stats["rounds"] >= sum(info["trial_seconds"]) - 2 * tolerance
    assert saved["machine_info"]["mlptune"]["tensorflow"] == info["tensorflow"]


UNCHECKED_TESTS = '''
import pytest

from test_blobs import create_model, make_data, SPACE


@pytest.mark.tune
def test_no_search(mlptune):
    pass


@pytest.mark.tune
def test_skipped_in_body(mlptune):
    pytest.skip("flaky on this machine")


@pytest.mark.tune
@pytest.mark.skip(reason="on purpose")
def test_skipped_by_marker(mlptune):
    pass


@pytest.mark.tune
def test_search_without_check(mlptune):
    mlptune.search(create_model=create_model, space=SPACE, data=make_data(), epochs=1, batch_size=32)


@pytest.mark.tune
def test_search_twice(mlptune):
    result = mlptune.search(create_model=create_model, space=SPACE, data=make_data(), epochs=1, batch_size=32)
    mlptune.search(create_model=create_model, space=SPACE, data=make_data(), epochs=1, batch_size=32)
    mlptune.check(result)


@pytest.mark.tune
def test_check_twice(mlptune):
    result = mlptune.search(create_model=create_model, space=SPACE, data=make_data(), epochs=1, batch_size=32)
    mlptune.check(result)
    mlptune.check(result)
'''


@pytest.mark.parametrize("benchmark_option", [[], ["--benchmark-only"], ["--benchmark-skip"]],
                         ids=["plain", "benchmark-only", "benchmark-skip"])
def test_a_tuning_test_that_checks_nothing_fails(tuning_project, monkeypatch, benchmark_option):
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)  # see the timing test below
    tuning_project.makepyfile(test_unchecked=UNCHECKED_TESTS)
    # Recording: a check run would fail these searches at once for want of a baseline, before the
    # point where a test can forget its check.
    result = tuning_project.runpytest_subprocess("--tune", "--update-baselines", "--n-calls", "1", "-p", "no:randomly",
                                                 "-rfs", "test_unchecked.py", *benchmark_option)
    result.assert_outcomes(failed=5, skipped=1)
    result.stdout.fnmatch_lines_random([
        "*used the mlptune fixture but ran no search and no check*",
        "*tuning test skipped in a --tune run (flaky on this machine)*",
        "*called mlptune.search() but never mlptune.check(result)*",
        "*mlptune.search() runs once per test*",
        "*mlptune.check() runs once per test (one search, one verdict)*",
        "*SKIPPED*on purpose*",
        "*3 tuning tests checked nothing (skipped, or no mlptune.check call), so they failed: *",
    ])
    assert "Benchmark fixture was not used" not in result.stdout.str()  # test_no_search timed nothing


@pytest.mark.parametrize(("where", "message"), [
    ("ini", "*tune_update_baselines is set in the ini file: updating baselines must be asked for on the command line*"),
    ("addopts", "*--update-baselines comes from addopts or PYTEST_ADDOPTS*"),
    ("env", "*--update-baselines comes from addopts or PYTEST_ADDOPTS*"),
])
def test_updating_baselines_needs_the_command_line(pytester, monkeypatch, where, message):
    pytester.makepyfile("def test_nothing(): pass")
    if where == "ini":
        pytester.makeini("[pytest]\ntune_update_baselines = true\n")
    elif where == "addopts":
        pytester.makeini("[pytest]\naddopts = --update-baselines\n")
    else:
        monkeypatch.setenv("PYTEST_ADDOPTS", "--tune --update-baselines")
    result = pytester.runpytest_subprocess("--tune")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])


@pytest.mark.slow  # an end-to-end run: make test-slow
def test_a_baseline_recorded_on_dask_workers_holds_in_process_with_the_same_batch_size(tuning_project, monkeypatch):
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)  # pytest-benchmark stays on in the inner runs
    budget = ["--n-calls", "4", "-p", "no:randomly", "-p", "no:cacheprovider", "-k", "8", "--tune-trials-per-batch", "2"]
    made = tuning_project.runpytest_subprocess("--tune", "--update-baselines", "--tune-workers", "2", *budget)
    made.assert_outcomes(passed=1)
    made.stdout.fnmatch_lines(["mlptune: tune on (update baselines), n_calls 4, seed 0, 2 trials per batch, "
                               "on Dask (2 workers)*"])
    assert "Benchmark fixture was not used" not in made.stdout.str()  # trials on Dask are not timed here
    [path] = (tuning_project.path / "baselines").glob("*/*.json")
    assert json.loads(path.read_text())["budget"]["trials_per_batch"] == 2
    here = tuning_project.runpytest_subprocess("--tune", *budget)  # the same trials, trained one by one here
    here.assert_outcomes(passed=1)
    here.stdout.fnmatch_lines(["*test_blobs.py::test_blobs[[]8]*+0.0000*ok*"])
    # q is in the budget (asserted above), so a q = 1 run is not comparable: test_verdict.py covers that.


def test_the_thread_pool_is_part_of_the_baseline_and_tensorflow_started_early_gets_it(tuning_project, monkeypatch):
    monkeypatch.delenv("TF_NUM_INTRAOP_THREADS", raising=False)  # the plugin sets it from --tune-threads
    tuning_project.makeconftest("import tensorflow as tf\ntf.constant(1.0) + 1.0  # TensorFlow runs before any search\n")
    budget = [*BUDGET, "-k", "8"]
    made = tuning_project.runpytest_subprocess("--tune", "--update-baselines", "--tune-threads", "1", *budget)
    made.assert_outcomes(passed=1)
    made.stdout.fnmatch_lines(["mlptune: tune on (update baselines), n_calls 2, seed 0, TensorFlow threads 1,*"])
    [path] = baseline_files(tuning_project)
    assert json.loads(path.read_text())["budget"]["threads"] == 1
    default = tuning_project.runpytest_subprocess("--tune", *budget)
    default.assert_outcomes(failed=1)
    default.stdout.fnmatch_lines(["*is not comparable: threads 1 in the baseline, 2 now. After an intentional change "
                                  "refresh it with: mlptune baselines update 'test_blobs.py::test_blobs[[]8[]]' --n-calls 2"])
    pinned = tuning_project.runpytest_subprocess("--tune", "--tune-threads", "1", *budget)
    pinned.assert_outcomes(passed=1)
    pinned.stdout.fnmatch_lines(["*test_blobs.py::test_blobs[[]8]*+0.0000*ok*"])
