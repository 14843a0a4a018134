"""On paper: the wall time of a search in synchronous batches on q workers, from one finished run.

    .venv/bin/python -m tests.benchmarks.batch_projection RUN_DIR [--q 1 4 8 16]

A batch of q trials takes as long as its slowest trial (the others wait for it: the batch is told
to the Gaussian process whole), plus the optimizer's time to ask for its q points. Trial times
come from the run's `trials.jsonl`, taken in index order and cut into the batches a search with
that q would make (`harness.search.batch_sizes`). The optimizer is timed here: the run's trials
are told to a fresh optimizer batch by batch, and each `ask(n_points=q)` and `tell` is measured.

It is a projection, not a measurement: a search with another q asks other points, so its trials
take other times; each worker is assumed to train one trial at the speed the run's trials had,
and moving data and starting workers is not counted.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from harness.objective import objective
from harness.run_directory import CHECKPOINT_NAME, RESULTS_NAME
from harness.search import batch_sizes, make_optimizer
from harness.space import REFERENCE_SPACE
from harness.trial import Trial


def project(trials: list[Trial], *, q: int, n_initial_points: int, acq_func: str, seed: int) -> dict:
    names = [dimension.name for dimension in REFERENCE_SPACE]
    optimizer = make_optimizer(REFERENCE_SPACE, n_initial_points=n_initial_points, acq_func=acq_func, seed=seed)
    training = asking = 0.0
    start = 0
    sizes = batch_sizes(n_calls=len(trials), trials_per_batch=q, n_initial_points=n_initial_points)
    for size in sizes:
        batch = trials[start:start + size]
        tick = time.perf_counter()
        if size == 1:
            optimizer.ask()
        else:
            optimizer.ask(n_points=size)
        asking += time.perf_counter() - tick
        training += max(t.seconds for t in batch)
        points = [[t.params[name] for name in names] for t in batch]
        tick = time.perf_counter()
        # a tell fits the GP and picks the next point; a pruned trial is told from the trials before its batch
        optimizer.tell(points, [objective(t, trials[:start]) for t in batch])
        asking += time.perf_counter() - tick
        start += size
    return {"q": q, "batches": len(sizes), "training": training, "optimizer": asking}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--q", type=int, nargs="+", default=[1, 4, 8, 16])
    args = parser.parse_args()
    results = json.loads((args.run_dir / RESULTS_NAME).read_text())
    trials = [Trial.from_json(json.loads(line)) for line in (args.run_dir / CHECKPOINT_NAME).read_text().splitlines()]
    budget = results["budget"]
    rows = [project(trials, q=q, n_initial_points=budget["n_initial_points"], acq_func=budget["acq_func"],
                    seed=results["seed"]) for q in args.q]
    serial = rows[0]["training"] + rows[0]["optimizer"]
    print(f"{len(trials)} trials, {sum(t.seconds for t in trials):.0f} s of training in all")
    print("| q (workers) | batches | training (slowest trial per batch) | optimizer (ask and tell) | total "
          "| speed-up over q = 1 |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        total = row["training"] + row["optimizer"]
        print(f"| {row['q']} | {row['batches']} | {row['training'] / 60:.1f} min | {row['optimizer']:.1f} s | "
              f"{total / 60:.1f} min | {serial / total:.2f}x |")


if __name__ == "__main__":
    main()
