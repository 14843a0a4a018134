"""Wall time of the CI tuning gate, `pytest --tune --n-calls 10`, against its 5-minute target."""

import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TARGET_SECONDS = 300


def test_ci_gate_wall_time(benchmark, record_ratio):
    def gate():
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "pytest", "--tune", "--n-calls", "10", "-q", "-p", "no:cacheprovider",
                        "tests/tuning"], cwd=ROOT, check=True, capture_output=True)
        return time.perf_counter() - started

    seconds = benchmark.pedantic(gate, rounds=1, iterations=1)
    record_ratio(name="CI tuning gate wall time / 5 min", value=seconds / TARGET_SECONDS, target="< 1",
                 met=seconds < TARGET_SECONDS, detail=f"{seconds:.0f} s")
