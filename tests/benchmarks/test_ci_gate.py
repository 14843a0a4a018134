"""Wall time of the CI tuning gate, `pytest --tune --n-calls 10 -m tune`, side by side with the gate before the replay.

The reference is the last commit whose verdict compared the search's best alone (no replay, the
smaller Fashion-MNIST problem); it runs from a git worktree of this repository with the same venv.
Its verdicts do not matter here (its baselines were recorded on another CPU), only its wall time.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

from .conftest import interleaved_seconds

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = os.environ.get("MLPTUNE_GATE_REFERENCE", "ecb7039")
TARGET_RATIO = 1.5
TARGET_SECONDS = 300


def gate(directory: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(directory)}  # the worktree's packages before the installed ones
    subprocess.run([sys.executable, "-m", "pytest", "--tune", "--n-calls", "10", "-m", "tune", "-q",
                    "-p", "no:cacheprovider", "-p", "no:randomly", "tests/tuning"],
                   cwd=directory, env=env, capture_output=True)


def test_ci_gate_wall_time_against_the_gate_before_the_replay(benchmark, record_ratio, tmp_path):
    worktree = tmp_path / "reference"
    subprocess.run(["git", "worktree", "add", "--detach", str(worktree), REFERENCE], cwd=ROOT, check=True,
                   capture_output=True)
    try:
        started = time.perf_counter()
        before, now = interleaved_seconds(lambda: gate(worktree), lambda: gate(ROOT), rounds=1)
        benchmark.pedantic(lambda: None, rounds=1, iterations=1)  # the ratio is the measurement, recorded below
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(worktree)], cwd=ROOT, capture_output=True)
    ratio = now[0] / before[0]
    record_ratio(name=f"CI tuning gate, replay verdict / search-only verdict ({REFERENCE})", value=ratio,
                 target=f"<= {TARGET_RATIO}", met=ratio <= TARGET_RATIO,
                 detail=f"{now[0]:.0f} s vs {before[0]:.0f} s, side by side in {time.perf_counter() - started:.0f} s")
    record_ratio(name="CI tuning gate wall time / 5 min", value=now[0] / TARGET_SECONDS, target="< 1",
                 met=now[0] < TARGET_SECONDS, detail=f"{now[0]:.0f} s")
