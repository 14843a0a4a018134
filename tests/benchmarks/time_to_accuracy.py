"""Time to accuracy of finished searches: the figures of docs/performance.md's search tables.

    .venv/bin/python -m tests.benchmarks.time_to_accuracy RUN [RUN ...]

A RUN is a folder `mlptune tune` wrote, or the saved output of `tests.benchmarks.blog_search`
(the blog's own code), so both searches of a side-by-side run print as rows of one table. For
each: wall time, the best full-budget score and its call, and for each threshold the first call
that reached it with the training seconds summed up to that call (the wall time of a search is
that plus the optimizer and start-ups). Pruned trials never count as reaching a threshold.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

THRESHOLDS = (0.870, 0.875, 0.880)


def summary(run_dir: Path) -> dict:
    results = json.loads((run_dir / "results.json").read_text())
    trials = results["trials"]
    calls = [(trial["score"] if trial["status"] == "ok" else None, trial["seconds"]) for trial in trials]
    return _row(run_dir, results["timing"]["wall_seconds"], results["best"]["score"], results["best"]["index"] + 1,
                sum(trial["status"] == "pruned" for trial in trials), calls)


def blog_summary(log: Path) -> dict:
    """The same row for the blog's code, from the JSON line `blog_search` prints last (it prunes nothing)."""
    result = json.loads(log.read_text().strip().splitlines()[-1])
    calls = [(call["accuracy"], call["seconds"]) for call in result["calls"]]
    scores = [score for score, _ in calls]
    return _row(log, result["wall_seconds"], result["best"], scores.index(max(scores)) + 1, 0, calls)


def _row(run: Path, wall_seconds: float, best: float, best_call: int, pruned: int, calls) -> dict:
    row = {"run": str(run), "wall_min": wall_seconds / 60, "best": best, "best_call": best_call,
           "pruned": pruned, "calls": len(calls)}
    for threshold in THRESHOLDS:
        row[threshold] = first_reaching(calls, threshold)
    return row


def first_reaching(calls, threshold: float) -> tuple[int, float] | None:
    """The first call (1-based) whose score reached `threshold`, with the seconds summed up to it; None if none did.

    `calls` holds (score, seconds) in call order; a score of None (a pruned or failed trial) never counts.
    """
    spent = 0.0
    for call, (score, seconds) in enumerate(calls, start=1):
        spent += seconds
        if score is not None and score >= threshold:
            return call, spent
    return None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path)
    args = parser.parse_args(argv)
    rows = []
    for run in args.runs:
        if (run / "results.json").is_file():
            rows.append(summary(run))
            continue
        try:
            rows.append(blog_summary(run))
        except (OSError, ValueError, KeyError, IndexError):
            parser.error(f"{run} is neither a folder with results.json nor a file ending in blog_search's JSON line: "
                         "pass the folders `mlptune tune` wrote, or the saved output of tests.benchmarks.blog_search")
    print("| run | wall | best (call) | " + " | ".join(f"first >= {t:.3f}" for t in THRESHOLDS) + " | pruned |")
    print("|---" * (4 + len(THRESHOLDS)) + "|")
    for row in rows:
        reached = [f"call {r[0]} ({r[1]:.0f} s)" if r else "never" for r in (row[t] for t in THRESHOLDS)]
        print(f"| {row['run']} | {row['wall_min']:.1f} min | {row['best']:.4f} ({row['best_call']}) | "
              + " | ".join(reached) + f" | {row['pruned']} of {row['calls']} |")


if __name__ == "__main__":
    main()
