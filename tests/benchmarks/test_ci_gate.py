"""Wall time of the CI tuning gate, `pytest --tune --n-calls 10 -m tune`, side by side with earlier gates.

Each reference is an earlier commit, run from a git worktree of this repository with the same venv:
- the last gate whose verdict compared the search's best alone (no replay, the smaller
  Fashion-MNIST problem): the replay was allowed to cost at most 1.5 times as much;
- the gate as it was when issue #14 (time to accuracy) was filed, which asks for at most 0.6 of it.
Their verdicts do not matter here (the older baselines were recorded on another CPU), only their
wall time. Each pair runs one after the other, so background load hits both alike.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import interleaved_seconds

ROOT = Path(__file__).resolve().parents[2]
TARGET_SECONDS = 300
REFERENCES = [
    pytest.param(os.environ.get("MLPTUNE_GATE_REFERENCE", "ecb7039"), "search-only verdict", 1.5, id="before-replay"),
    pytest.param("e770966", "the gate when #14 was filed", 0.6, id="issue-14"),
]


def gate(directory: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(directory)}  # the worktree's packages before the installed ones
    subprocess.run([sys.executable, "-m", "pytest", "--tune", "--n-calls", "10", "-m", "tune", "-q",
                    "-p", "no:cacheprovider", "-p", "no:randomly", "tests/tuning"],
                   cwd=directory, env=env, capture_output=True)


@pytest.mark.parametrize(("reference", "label", "target"), REFERENCES)
def test_ci_gate_wall_time_against_an_earlier_gate(benchmark, record_ratio, tmp_path, reference, label, target):
    worktree = tmp_path / "reference"
    subprocess.run(["git", "worktree", "add", "--detach", str(worktree), reference], cwd=ROOT, check=True,
                   capture_output=True)
    try:
        started = time.perf_counter()
        before, now = interleaved_seconds(lambda: gate(worktree), lambda: gate(ROOT), rounds=1)
        benchmark.pedantic(lambda: None, rounds=1, iterations=1)  # the ratio is the measurement, recorded below
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(worktree)], cwd=ROOT, capture_output=True)
    ratio = now[0] / before[0]
    record_ratio(name=f"CI tuning gate, this version / {label} ({reference})", value=ratio,
                 target=f"<= {target}", met=ratio <= target,
                 detail=f"{now[0]:.0f} s vs {before[0]:.0f} s, side by side in {time.perf_counter() - started:.0f} s")
    record_ratio(name="CI tuning gate wall time / 5 min", value=now[0] / TARGET_SECONDS, target="< 1",
                 met=now[0] < TARGET_SECONDS, detail=f"{now[0]:.0f} s")
