"""Time to accuracy of finished `mlptune tune` runs: the figures of docs/performance.md's search tables.

    .venv/bin/python -m tests.benchmarks.time_to_accuracy RUN_DIR [RUN_DIR ...]

For each run folder: wall time, the best full-budget score and its call, and for each threshold the
first call that reached it with the training seconds summed up to that call (the wall time of a
search is that plus the optimizer and start-ups). Pruned trials never count as reaching a threshold.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

THRESHOLDS = (0.870, 0.875, 0.880)


def summary(run_dir: Path) -> dict:
    results = json.loads((run_dir / "results.json").read_text())
    trials = results["trials"]
    row = {"run": str(run_dir), "wall_min": results["timing"]["wall_seconds"] / 60,
           "best": results["best"]["score"], "best_call": results["best"]["index"] + 1,
           "pruned": sum(t["status"] == "pruned" for t in trials), "calls": len(trials)}
    calls = [(trial["score"] if trial["status"] == "ok" else None, trial["seconds"]) for trial in trials]
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
    for run_dir in args.runs:
        if not (run_dir / "results.json").is_file():
            parser.error(f"{run_dir} has no results.json: pass the folders `mlptune tune` wrote, not their files")
    print("| run | wall | best (call) | " + " | ".join(f"first >= {t:.3f}" for t in THRESHOLDS) + " | pruned |")
    print("|---" * (4 + len(THRESHOLDS)) + "|")
    for run_dir in args.runs:
        row = summary(run_dir)
        reached = [f"call {r[0]} ({r[1]:.0f} s)" if r else "never" for r in (row[t] for t in THRESHOLDS)]
        print(f"| {row['run']} | {row['wall_min']:.1f} min | {row['best']:.4f} ({row['best_call']}) | "
              + " | ".join(reached) + f" | {row['pruned']} of {row['calls']} |")


if __name__ == "__main__":
    main()
