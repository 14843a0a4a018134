"""Command-line options, their ini twins, and the settings resolved from both (CLI wins)."""

from __future__ import annotations

import argparse
import os
import shlex
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.argument_types import parse_non_negative_float, parse_non_negative_int, parse_positive_int
from harness.threads import DEFAULT_THREADS

DEFAULT_N_CALLS = 10
DEFAULT_SEED = 0
DEFAULT_REPEATS = 1
DEFAULT_K = 3.0
DEFAULT_FLOOR = 0.01
DEFAULT_SEARCH_FLOOR = 0.05
DEFAULT_BASELINES_DIR = "baselines"


# (cli flag, ini name, parser, help)
OPTIONS = (
    ("--tune", "tune", None, "run tests marked @pytest.mark.tune (skipped otherwise)"),
    ("--n-calls", "tune_n_calls", parse_positive_int, f"trials per tuning search (default {DEFAULT_N_CALLS})"),
    ("--tune-seed", "tune_seed", parse_non_negative_int, f"search seed of tuning tests (default {DEFAULT_SEED})"),
    ("--update-baselines", "tune_update_baselines", None,
     "write or refresh the baselines of the tuning tests run (command line only: refused in the ini file or addopts)"),
    ("--baselines-dir", "tune_baselines_dir", None, f"where baselines live (default {DEFAULT_BASELINES_DIR}/ at the rootdir)"),
    ("--baselines-from", "tune_baselines_from", str,
     "judge against the baselines recorded in another environment, such as the TensorFlow before an upgrade: its key "
     "under the baselines folder, or a unique part of it (tf2.21); default: this environment's own"),
    ("--tune-workers", "tune_workers", parse_positive_int,
     "train each search's trials on an embedded Dask cluster of N worker processes (default: none)"),
    ("--tune-scheduler", "tune_scheduler", str,
     "train each search's trials on the Dask cluster at this address (tcp://HOST:PORT) or scheduler file"),
    ("--tune-trials-per-batch", "tune_trials_per_batch", parse_positive_int,
     "points asked at once (default 1); part of the search: baselines record it, so set it when you record them"),
    ("--tune-threads", "tune_threads", parse_non_negative_int,
     f"TensorFlow's intra-op threads wherever trials train (default {DEFAULT_THREADS}; 0: one per core); part of the "
     "search: baselines record it, and with it fixed a seed gives the same trials on any machine"),
    ("--tune-repeats", "tune_repeats", parse_positive_int,
     "with --update-baselines: searches per test, with seeds S..S+K-1, to record the search's spread; the replayed "
     "configurations get max(K, 4) training seeds each (default 1)"),
)
TOLERANCE_INI = (
    ("tune_k", parse_non_negative_float, f"allowed drop in standard errors of each signal (default {DEFAULT_K:g})"),
    ("tune_floor", parse_non_negative_float,
     f"smallest allowed drop of the replayed configurations' mean accuracy (default {DEFAULT_FLOOR:g})"),
    ("tune_search_floor", parse_non_negative_float,
     f"smallest allowed drop of the search's best accuracy (default {DEFAULT_SEARCH_FLOOR:g})"),
)


METAVARS = {"--baselines-dir": "DIR", "--baselines-from": "ENV"}


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("mlptune", "regression tests for hyperparameter tuning")
    for flag, ini, parse, help_text in OPTIONS:
        dest = ini
        if parse is None and flag != "--baselines-dir":
            group.addoption(flag, action="store_true", default=None, dest=dest, help=help_text)
        else:
            group.addoption(flag, action="store", default=None, dest=dest, type=parse, help=help_text,
                            metavar=METAVARS.get(flag) or flag.lstrip("-").split("-")[-1].upper())
        ini_type = "bool" if parse is None and flag != "--baselines-dir" else "string"
        parser.addini(ini, help=f"{help_text} [ini twin of {flag}]", type=ini_type, default=None)
    for ini, _, help_text in TOLERANCE_INI:
        parser.addini(ini, help=help_text, type="string", default=None)


@dataclass(frozen=True, slots=True)
class TuneSettings:
    """The options of one pytest session, after CLI and ini are merged."""

    tune: bool
    n_calls: int
    seed: int
    update: bool
    baselines_dir: Path
    baselines_from: str | None  # another environment to judge against, as given (the plugin resolves it to a recorded key)
    repeats: int
    workers: int | None
    scheduler: str | None
    trials_per_batch: int
    threads: int | None  # None: TensorFlow's default, one per core
    k: float
    floor: float
    search_floor: float


def _from_ini(config: pytest.Config, ini: str, parse, default):
    raw = config.getini(ini)
    if raw is None or raw == "":
        return default
    if parse is None:
        return bool(raw)
    try:
        return parse(raw)
    except argparse.ArgumentTypeError as error:
        raise pytest.UsageError(f"ini option {ini} = {raw!r}: {error}") from None


UPDATE_FLAG = "--update-baselines"


def _update_requested(config: pytest.Config) -> bool:
    """--update-baselines, accepted only when typed on this command line.

    From the ini file, `addopts` or PYTEST_ADDOPTS it would turn every CI run into a silent
    re-record that passes, with no flag to switch it off; so those are usage errors.
    """
    if config.getini("tune_update_baselines"):
        raise pytest.UsageError(
            "tune_update_baselines is set in the ini file: updating baselines must be asked for on the command line; "
            f"remove it and run pytest --tune {UPDATE_FLAG} (or mlptune baselines update) when you mean to")
    if not config.getoption("tune_update_baselines"):
        return False
    if UPDATE_FLAG not in config.invocation_params.args:
        raise pytest.UsageError(
            f"{UPDATE_FLAG} comes from addopts or PYTEST_ADDOPTS: updating baselines must be asked for on the "
            f"command line; remove it there and pass {UPDATE_FLAG} when you mean to")
    return True


PATH_FLAGS = ("--baselines-dir", "--tune-scheduler")  # the options whose value may be a file or folder


def _refuse_path_values_that_moved_the_rootdir(config: pytest.Config) -> None:
    """`--baselines-dir DIR` (or `--tune-scheduler FILE`), two words, where DIR moved pytest's rootdir.

    pytest picks its rootdir before it loads plugins, so it reads an existing DIR as a test path
    then (pytest-dev/pytest#8846). Without an ini file to anchor it, a DIR outside the folder pytest
    runs in makes the rootdir a folder above both: every test id, and with it every baseline's name,
    changes, and each test would report no baseline. Inside that folder, or under the ini file's,
    it changes nothing and is left alone. `--baselines-dir=DIR` never moves it.
    """
    here = Path(config.invocation_params.dir).resolve()
    anchors = [here] + ([config.inipath.parent.resolve()] if config.inipath else [])
    args = [*shlex.split(os.environ.get("PYTEST_ADDOPTS", "")), *map(str, config.invocation_params.args)]
    for flag, value in zip(args, args[1:]):
        if flag not in PATH_FLAGS or not os.path.exists(os.path.join(here, value)):
            continue
        path = (here / value).resolve()
        if path.is_relative_to(config.rootpath.resolve()) and not any(path.is_relative_to(a) for a in anchors):
            raise pytest.UsageError(
                f"{flag} {value}: pytest took this path for a test path and moved its rootdir to "
                f"{config.rootpath}, which renames every baseline; write it with an equals sign: {flag}={value}")


def resolve_settings(config: pytest.Config) -> TuneSettings:
    """CLI value if given, else the ini value, else the default; invalid ini values are usage errors."""
    _refuse_path_values_that_moved_the_rootdir(config)

    def pick(ini: str, parse, default):
        value = config.getoption(ini)
        return value if value is not None else _from_ini(config, ini, parse, default)

    raw_dir = config.getoption("tune_baselines_dir")
    if raw_dir is not None:
        baselines_dir = Path(raw_dir)
        if not baselines_dir.is_absolute():
            baselines_dir = Path(config.invocation_params.dir) / baselines_dir
    else:
        ini_dir = config.getini("tune_baselines_dir") or DEFAULT_BASELINES_DIR
        base = config.inipath.parent if config.inipath else config.rootpath
        baselines_dir = Path(ini_dir) if Path(ini_dir).is_absolute() else base / ini_dir
    settings = TuneSettings(
        tune=bool(pick("tune", None, False)),
        n_calls=pick("tune_n_calls", parse_positive_int, DEFAULT_N_CALLS),
        seed=pick("tune_seed", parse_non_negative_int, DEFAULT_SEED),
        update=_update_requested(config),
        baselines_dir=baselines_dir.resolve(),
        baselines_from=pick("tune_baselines_from", str, None) or None,
        repeats=pick("tune_repeats", parse_positive_int, DEFAULT_REPEATS),
        workers=pick("tune_workers", parse_positive_int, None),
        scheduler=pick("tune_scheduler", str, None),
        trials_per_batch=pick("tune_trials_per_batch", parse_positive_int, 1),
        threads=pick("tune_threads", parse_non_negative_int, DEFAULT_THREADS) or None,
        k=_from_ini(config, "tune_k", parse_non_negative_float, DEFAULT_K),
        floor=_from_ini(config, "tune_floor", parse_non_negative_float, DEFAULT_FLOOR),
        search_floor=_from_ini(config, "tune_search_floor", parse_non_negative_float, DEFAULT_SEARCH_FLOOR),
    )
    if settings.update and settings.baselines_from:
        raise pytest.UsageError(
            f"{UPDATE_FLAG} records this environment's baselines, --baselines-from {settings.baselines_from} judges "
            "against another's: drop --baselines-from (or the tune_baselines_from ini option) to record")
    return settings
