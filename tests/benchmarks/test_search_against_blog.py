"""`mlptune tune` against the blog's own search code, side by side: issue #14's search-time targets.

For each of seeds 0, 1 and 2 both searches start together, each pinned to a core of its own: the
blog's code (`tests.benchmarks.blog_search`) on the first usable core, `mlptune tune
--validate-on test --threads 1` on the second (one thread, since it has one core). Both follow the
blog protocol: full Fashion-MNIST validated on the test set, 5 epochs, batch 64, the same number
of calls. Running the pair at once, not one after the other, makes a slow hour of a shared host
slow for both alike (identical trials here ran 1.15-1.4x apart between hours). The time ratio is
of the whole commands' wall times summed over the seeds; the bests are compared by their mean,
since one seed's best moves by about 0.005 with its trials' training seeds.

The 11-call budget runs with `make benchmarks` (about 20 min here: the blog's code takes 6-9 min
a seed). The 50-call protocol takes about 1 h 45 min (the blog's code 27-40 min a seed) and runs only
with MLPTUNE_BENCH_50_CALLS=1; it also reports how many seeds reached 0.875 within 120 s of
training, issue #14's time-to-accuracy target.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.data import loaders
from tests.benchmarks.time_to_accuracy import blog_summary, summary

ROOT = Path(__file__).resolve().parents[2]
SEEDS = (0, 1, 2)
TIME_TARGET = 0.3
THRESHOLD, THRESHOLD_SECONDS = 0.875, 120


def usable_core_ids() -> list[int]:
    return sorted(os.sched_getaffinity(0))


pytestmark = [
    pytest.mark.skipif(not loaders.DEBIAN_FASHION_MNIST_DIR.is_dir(), reason="needs dataset-fashion-mnist"),
    pytest.mark.skipif(len(usable_core_ids()) < 2, reason="needs two cores to run the two searches side by side"),
]


@dataclass(frozen=True, slots=True)
class SearchRun:
    """One search command: its wall time, its best score, and the training seconds to the first >= THRESHOLD."""

    wall: float
    best: float
    seconds_to_threshold: float | None  # None: never reached

    def describe(self) -> str:
        reached = "never" if self.seconds_to_threshold is None else f"after {self.seconds_to_threshold:.0f} s"
        return f"{self.wall:.0f} s, best {self.best:.4f}, {THRESHOLD} {reached}"


def search_run(row: dict, wall: float) -> SearchRun:
    """A `time_to_accuracy` row with the whole command's wall time."""
    reached = row[THRESHOLD]
    return SearchRun(wall=wall, best=row["best"], seconds_to_threshold=None if reached is None else reached[1])


def side_by_side(n_calls: int, seed: int, folder: Path) -> tuple[SearchRun, SearchRun]:
    """Both searches at once, each on its own core; each one's wall time is from its start to its exit."""
    folder.mkdir(parents=True)
    blog_core, mlptune_core = usable_core_ids()[:2]
    commands = {
        "blog": ([sys.executable, "-m", "tests.benchmarks.blog_search", "--n-calls", str(n_calls), "--seed", str(seed),
                  "--logs", str(folder / "blog-logs")], blog_core),
        "mlptune": ([sys.executable, "-m", "harness.cli", "tune", "--validate-on", "test", "--n-calls", str(n_calls),
                     "--seed", str(seed), "--threads", "1", "--out", str(folder / "run")], mlptune_core),
    }
    processes, started, walls = {}, {}, {}
    for name, (command, core) in commands.items():
        log = (folder / f"{name}.log").open("w")
        started[name] = time.perf_counter()
        processes[name] = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                           preexec_fn=lambda core=core: os.sched_setaffinity(0, {core}))
        log.close()  # the child holds its own copy
    while len(walls) < len(processes):
        for name, process in processes.items():
            if name not in walls and process.poll() is not None:
                walls[name] = time.perf_counter() - started[name]
        time.sleep(0.2)
    for name, process in processes.items():
        assert process.returncode == 0, f"{name} search failed at seed {seed}:\n{(folder / f'{name}.log').read_text()[-2000:]}"
    return (search_run(blog_summary(folder / "blog.log"), walls["blog"]),
            search_run(summary(folder / "run"), walls["mlptune"]))


# Issue #14's bar for the mean best: at 11 calls no worse than the blog's code, at 50 calls 0.878 (None: the blog's)
BUDGETS = [
    pytest.param(11, None, id="11-calls"),
    pytest.param(50, 0.878, id="50-calls", marks=pytest.mark.skipif(
        os.environ.get("MLPTUNE_BENCH_50_CALLS") != "1", reason="about 1 h 45 min: set MLPTUNE_BENCH_50_CALLS=1")),
]


@pytest.mark.parametrize(("n_calls", "best_bar"), BUDGETS)
def test_mlptune_tune_against_the_blogs_search_side_by_side(benchmark, record_ratio, tmp_path, n_calls, best_bar):
    pairs = benchmark.pedantic(lambda: [side_by_side(n_calls, seed, tmp_path / f"seed-{seed}") for seed in SEEDS],
                               rounds=1, iterations=1)
    blog, ours = [pair[0] for pair in pairs], [pair[1] for pair in pairs]
    ratio = sum(run.wall for run in ours) / sum(run.wall for run in blog)
    mean_blog, mean_ours = statistics.mean(run.best for run in blog), statistics.mean(run.best for run in ours)
    seeds = "; ".join(f"seed {seed}: blog {b.describe()} / ours {o.describe()}" for seed, b, o in zip(SEEDS, blog, ours))
    bar = mean_blog if best_bar is None else best_bar
    record_ratio(name=f"{n_calls}-call search, mlptune tune / the blog's code, seeds 0-2 side by side", value=ratio,
                 target=f"<= {TIME_TARGET} with a mean best of at least "
                        + ("the blog's" if best_bar is None else f"{best_bar}"),
                 met=ratio <= TIME_TARGET and mean_ours >= bar,
                 detail=f"mean best {mean_ours:.4f} vs {mean_blog:.4f}; {seeds}")
    if n_calls == 50:
        within = [run.seconds_to_threshold is not None and run.seconds_to_threshold <= THRESHOLD_SECONDS for run in ours]
        record_ratio(name=f"50-call search, share of seeds 0-2 at {THRESHOLD} within {THRESHOLD_SECONDS} s of training",
                     value=sum(within) / len(within), target="1 (every seed)", met=all(within), detail=seeds)
