"""pytest hooks and the `mlptune` fixture. Kept thin: the work is in the modules it names.

Nothing here imports TensorFlow, Keras or scikit-optimize: pytest loads this plugin on every
run, and those imports happen inside the fixture's search only.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from pytest_mlptune.baseline import BaselineError, environment_named
from pytest_mlptune.fixture import BASELINE_PROPERTY, ROW_PROPERTY, Tolerance, TuneFixture
from pytest_mlptune.options import TuneSettings, add_options, parse_non_negative_float, resolve_settings
from pytest_mlptune.report import TuneReport, header_line, unused_baselines
from pytest_mlptune.vacuous import BENCHMARK_ONLY_REASON, VACUOUS_PROPERTY, vacuous_problem

SETTINGS_KEY = pytest.StashKey[TuneSettings]()
REPORT_KEY = pytest.StashKey[TuneReport]()
ENVIRONMENT_KEY = pytest.StashKey[str]()
BASELINE_ENVIRONMENT_KEY = pytest.StashKey[str]()  # whose baselines checks read: this environment's, or --baselines-from's
MARKER = "tune"
SKIP_REASON = "needs --tune"


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    from harness.environment import environment_key

    config.addinivalue_line(
        "markers",
        f"{MARKER}(k=None, floor=None, search_floor=None): a tuning regression test, run only with --tune; the "
        "replay may fall max(k * stderr, floor) below its baseline, the search's best max(k * std, search_floor)",
    )
    settings = resolve_settings(config)
    if settings.update and not settings.tune:
        settings = TuneSettings(**{**{f: getattr(settings, f) for f in settings.__dataclass_fields__}, "tune": True})
    config.stash[SETTINGS_KEY] = settings
    if settings.tune:
        _pool_for_tensorflow_started_early(settings.threads)
    config.stash[REPORT_KEY] = TuneReport()
    config.stash[ENVIRONMENT_KEY] = environment_key()
    config.stash[BASELINE_ENVIRONMENT_KEY] = _baseline_environment(settings, own=config.stash[ENVIRONMENT_KEY])
    config.pluginmanager.register(ReportCollector(config), "mlptune-report")


def _baseline_environment(settings: TuneSettings, *, own: str) -> str:
    """The environment whose baselines the checks read: this one, or the recorded one --baselines-from names."""
    if not (settings.tune and settings.baselines_from):
        return own
    try:
        return environment_named(settings.baselines_dir, settings.baselines_from)
    except BaselineError as error:
        raise pytest.UsageError(f"--baselines-from {settings.baselines_from}: {error}") from None


def _pool_for_tensorflow_started_early(threads: int | None) -> None:
    """TensorFlow started in this process before a search (by a model check, by the user's tests) gets its pool.

    A search pins the pool when it starts (harness.threads), but TensorFlow fixes it when it first
    runs, and earlier tests may have run it already; from this variable it takes the same size.
    A value the user set is left alone: a search that asks for another then says so.
    """
    import os

    from harness.threads import ENVIRONMENT_VARIABLE

    if threads is not None and ENVIRONMENT_VARIABLE not in os.environ:
        os.environ[ENVIRONMENT_VARIABLE] = str(threads)


def pytest_report_header(config: pytest.Config) -> str:
    return header_line(settings=config.stash[SETTINGS_KEY], environment_key=config.stash[ENVIRONMENT_KEY],
                       baseline_environment=config.stash[BASELINE_ENVIRONMENT_KEY])


@pytest.hookimpl(trylast=True)  # after pytest-benchmark, whose --benchmark-only marks tuning tests to skip
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.stash[SETTINGS_KEY].tune:
        for item in items:
            if item.get_closest_marker(MARKER) is not None:
                # A tuning test times its trials with pytest-benchmark: it is a benchmark too, and runs.
                item.own_markers[:] = [mark for mark in item.own_markers if not (
                    mark.name == "skip" and str(mark.kwargs.get("reason", "")).startswith(BENCHMARK_ONLY_REASON))]
        return
    skip = pytest.mark.skip(reason=SKIP_REASON)
    for item in items:
        if item.get_closest_marker(MARKER) is not None:
            item.add_marker(skip)


def _tolerance(marker, name: str, default: float) -> float:
    value = marker.kwargs.get(name)
    if value is None:
        return default
    try:
        return parse_non_negative_float(value)
    except Exception:  # noqa: BLE001 - reported as a usage error below
        raise pytest.UsageError(f"@pytest.mark.tune({name}={value!r}): expected a non-negative number") from None


@pytest.fixture
def mlptune(request: pytest.FixtureRequest) -> Iterator[TuneFixture]:
    """Run a budgeted hyperparameter search and check it against this test's stored baseline."""
    marker = request.node.get_closest_marker(MARKER)
    if marker is None:
        raise pytest.UsageError(
            f"{request.node.nodeid} uses the mlptune fixture without @pytest.mark.tune; mark it so it runs only "
            "with --tune"
        )
    settings = request.config.stash[SETTINGS_KEY]
    fixture = TuneFixture(
        settings=settings, nodeid=request.node.nodeid, environment_key=request.config.stash[ENVIRONMENT_KEY],
        baseline_environment=request.config.stash[BASELINE_ENVIRONMENT_KEY], node=request.node,
        tolerance=Tolerance(k=_tolerance(marker, "k", settings.k), floor=_tolerance(marker, "floor", settings.floor),
                            search_floor=_tolerance(marker, "search_floor", settings.search_floor)),
        benchmark=functools.partial(_benchmark_fixture, request),
    )
    request.node.user_properties.append((BASELINE_PROPERTY, str(fixture.baseline_path)))
    yield fixture
    fixture.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """In a --tune run, a tuning test that was skipped or never checked fails: a green gate means it ran."""
    outcome = yield
    report = outcome.get_result()
    if not item.config.stash[SETTINGS_KEY].tune or item.get_closest_marker(MARKER) is None:
        return
    funcargs = getattr(item, "funcargs", None) or {}
    problem = vacuous_problem(report, fixture=funcargs.get("mlptune"),
                              uses_fixture="mlptune" in getattr(item, "fixturenames", ()),
                              skipped_by_marker=any(item.iter_markers("skip")) or any(item.iter_markers("skipif")))
    if problem:
        report.outcome = "failed"
        report.longrepr = problem
        report.user_properties.append((VACUOUS_PROPERTY, item.nodeid))


def _benchmark_fixture(request: pytest.FixtureRequest):
    """pytest-benchmark's fixture, so tuning tests record their trial times; None without that plugin.

    Asked for only when a search is about to be timed: pytest-benchmark warns about a fixture a
    test never used, which a test that fails before its search (no baseline) would otherwise
    print. Under --benchmark-skip that fixture skips the test; the search then runs untimed instead.
    """
    if request.config.getoption("benchmark_skip", default=False) and \
            not request.config.getoption("benchmark_only", default=False):
        return None
    try:
        return request.getfixturevalue("benchmark")
    except pytest.FixtureLookupError:
        return None


@pytest.hookimpl(optionalhook=True)
def pytest_benchmark_update_machine_info(config: pytest.Config, machine_info: dict) -> None:
    """Saved benchmark runs say which TensorFlow and Keras timed the trials (read without importing them)."""
    from harness.environment import environment

    machine_info["mlptune"] = environment()


class ReportCollector:
    """Gathers tuning rows from test reports and prints the summary; one per session.

    Registered as a plugin object so its state lives with the config, not in a module global.
    `pytest_runtest_logreport` also runs on the controller for reports sent by xdist workers,
    so the single summary there sees every row.
    """

    def __init__(self, config: pytest.Config):
        self.config = config

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        tune_report = self.config.stash[REPORT_KEY]
        for name, value in getattr(report, "user_properties", None) or ():
            if name == ROW_PROPERTY and report.when == "call":
                tune_report.rows.append(json.loads(value))
            elif name == BASELINE_PROPERTY and report.when == "setup":
                tune_report.used_baselines.add(value)
            elif name == VACUOUS_PROPERTY:
                tune_report.unchecked.append(value)

    def pytest_terminal_summary(self, terminalreporter) -> None:
        if hasattr(self.config, "workerinput"):
            return
        settings = self.config.stash[SETTINGS_KEY]
        tune_report = self.config.stash[REPORT_KEY]
        if not settings.tune:
            return
        write = terminalreporter.write_line
        if tune_report.rows or tune_report.unchecked:
            terminalreporter.section("mlptune")
            if tune_report.rows:
                for line in tune_report.table():
                    write(line)
            for line in tune_report.summary():
                write(line)
            judged = self.config.stash[BASELINE_ENVIRONMENT_KEY]
            if judged != self.config.stash[ENVIRONMENT_KEY]:
                write(f"Judged against the baselines of {judged} (--baselines-from), not this environment's "
                      f"({self.config.stash[ENVIRONMENT_KEY]}).")
        if settings.update or not _ran_whole_suite(self.config):
            return
        unused = unused_baselines(baselines_dir=settings.baselines_dir,
                                  environment_key=self.config.stash[BASELINE_ENVIRONMENT_KEY],
                                  used=tune_report.used_baselines)
        if unused:
            if not (tune_report.rows or tune_report.unchecked):
                terminalreporter.section("mlptune")
            write(f"{len(unused)} baseline{'s' if len(unused) != 1 else ''} not used by any collected test "
                  "(renamed or deleted test? then delete the file):")
            for path in unused:
                write(f"  {path}")


def _ran_whole_suite(config: pytest.Config) -> bool:
    """Unused baselines are only meaningful when no test was left out on purpose."""
    option = config.option
    if getattr(option, "keyword", "") or getattr(option, "markexpr", "") or getattr(option, "lf", False) \
            or getattr(option, "deselect", None) or getattr(option, "exitfirst", False):
        return False
    if config.args_source in (pytest.Config.ArgsSource.TESTPATHS, pytest.Config.ArgsSource.INVOCATION_DIR):
        return True
    return all(Path(arg).resolve() == config.rootpath for arg in config.args)
