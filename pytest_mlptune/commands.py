"""`mlptune baselines update` and `mlptune baselines show`."""

from __future__ import annotations

import subprocess
import sys
from collections import defaultdict
from pathlib import Path

from pytest_mlptune.baseline import Baseline, BaselineError, all_baselines


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
    from harness.errors import InputError

    directory = baselines_dir or Path("baselines")
    if not directory.is_dir():
        raise InputError(f"no baselines directory at {directory}; pass --baselines-dir DIR or create baselines first")
    for line in drift_table(all_baselines(directory)):
        print(line)
    return 0
