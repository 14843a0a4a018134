"""`mlptune baselines update` and `mlptune baselines show`.

Registered with the `mlptune` command through the `mlptune.commands` entry-point group
(pyproject.toml), so the harness's command line never imports the plugin.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

from harness.errors import InputError
from pytest_mlptune.baseline import Baseline, BaselineError, all_baselines

EXIT_USAGE = 2


class _OneLineParser(argparse.ArgumentParser):
    def error(self, message: str):  # noqa: D102
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _OneLineParser(prog="mlptune baselines", description="Create, refresh or list tuning baselines.")
    commands = parser.add_subparsers(dest="baselines_command", required=True, parser_class=_OneLineParser)
    update = commands.add_parser(
        "update", help="run tuning tests with --tune --update-baselines",
        description="Run pytest --tune --update-baselines with the given pytest arguments.")
    update.add_argument("pytest_args", nargs=argparse.REMAINDER, help="arguments passed to pytest (test ids, --n-calls, ...)")
    show = commands.add_parser("show", help="table of every stored baseline and drift across environments")
    show.add_argument("--baselines-dir", type=Path, default=None, help="default: baselines/ in the current folder")
    return parser


def main(argv: list[str]) -> int:
    """create, refresh or list tuning baselines (the pytest plugin's)"""
    if argv[:1] == ["update"] and not {"-h", "--help"} & set(argv[1:]):
        # everything after `update` belongs to pytest, options included (argparse would claim them)
        return update_baselines(argv[1:])
    args = build_parser().parse_args(argv)
    if args.baselines_command == "update":
        return update_baselines(args.pytest_args)
    return show_baselines(args.baselines_dir)


def update_baselines(pytest_args: list[str]) -> int:
    """Run pytest --tune --update-baselines with the user's arguments; its exit status is ours."""
    command = [sys.executable, "-m", "pytest", "--tune", "--update-baselines", *pytest_args]
    print("running:", " ".join(command[2:]), flush=True)
    return subprocess.call(command)


def _version_key(baseline: Baseline) -> tuple:
    version = baseline.environment.get("tensorflow") or "0"
    parts = []
    for part in version.split(".")[:3]:
        digits = "".join(ch for ch in part if ch.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


def drift_table(found: list[tuple[Path, Baseline | BaselineError]]) -> list[str]:
    """One row per test and environment: best, spread, the change against the newest TF, replay mean, budget, date."""
    by_test: dict[str, list[Baseline]] = defaultdict(list)
    problems = []
    for path, item in found:
        if isinstance(item, BaselineError):
            problems.append(f"unusable: {path}: {item}")
        else:
            by_test[item.test].append(item)
    columns = ("test", "environment", "best", "spread", "vs newest TF", "replay", "budget", "created")
    rows = []
    for test in sorted(by_test):
        baselines = sorted(by_test[test], key=_version_key)
        newest = baselines[-1]
        for baseline in baselines:
            spread = baseline.spread
            spread_text = (f"±{spread.std:.4f} (n={len(spread.values)}, {min(spread.values):.4f}..{max(spread.values):.4f})"
                           if len(spread.values) > 1 else "single run")
            change = "(newest)" if baseline is newest else f"{baseline.value - newest.value:+.4f}"
            budget = baseline.budget
            replay = baseline.replay
            replay_text = f"{baseline.replay_mean:.4f} ({len(replay)}x{len(replay[0].seeds)})"
            rows.append((test, baseline.environment_key, f"{baseline.value:.4f}", spread_text, change, replay_text,
                         f"{budget.get('n_calls')} calls x {budget.get('epochs')} ep, batch {budget.get('batch_size')}",
                         baseline.created[:10]))
    if not rows:
        return problems or ["no baselines found"]
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths)) for row in rows]
    return lines + problems


def show_baselines(baselines_dir: Path | None) -> int:
    """Print the drift table; exit status 1 when a file is unusable (the table names it)."""
    directory = baselines_dir or Path("baselines")
    if not directory.is_dir():
        raise InputError(f"no baselines directory at {directory}; pass --baselines-dir DIR or create baselines first")
    found = all_baselines(directory)
    for line in drift_table(found):
        print(line)
    return 1 if any(isinstance(item, BaselineError) for _, item in found) else 0  # as the gate: fix, then trust
