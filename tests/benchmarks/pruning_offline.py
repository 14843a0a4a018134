"""Offline: what each prune rule would have done to finished searches that trained every trial fully.

    .venv/bin/python -m tests.benchmarks.pruning_offline RUN_DIR [RUN_DIR ...]

Each run's per-epoch validation accuracies come from `trials.jsonl` (a run with a prune rule keeps
them) or else from its TensorBoard logs (`mlptune tune` writes one run per trial, validated after
every epoch). A folder without `trials.jsonl` is read as the TensorBoard folder of the blog's own
search (`tests.benchmarks.blog_search --logs DIR`), which trains every trial fully: its trials
come from the logs alone, and since a log has no start time, a trial's first epoch is taken to
last as long as the mean of its others. The trials are replayed in order through each rule
(`harness.pruning.PercentileStop`, the code the search runs), with the thresholds computed from
the earlier trials as the search would have seen them, the pruned ones cut at the epoch they
would have stopped at.

For each rule: the trials it stops, the training time it saves (a trial's time up to an epoch is
read from the epoch end times TensorBoard logged), whether it would have stopped the run's best
trial or one of its best three, and the best score left among the trials it lets finish. Then,
for the trials it stops, how far each value the Gaussian process could be told is from the score
the trial really reached after the last epoch: the partial score, the projected score
(`harness.pruning.projected_score`, what the search tells), and the failure penalty 0.

It is a replay, not a search: with a rule, the Gaussian process hears other values and asks other
points from the first pruned trial on, so it says which trials a rule throws away and what that
would cost, not where a pruned search would end.
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
from dataclasses import replace
from pathlib import Path

from harness.pruning import MedianStop, PercentileStop, projected_score
from harness.run_directory import CHECKPOINT_NAME, RESULTS_NAME, TENSORBOARD_NAME
from harness.trial import OK, PRUNED, Trial

RULES = {
    "median after epoch 1": MedianStop(after_epochs=(1,)),
    "median after epoch 2": MedianStop(after_epochs=(2,)),
    "median after epochs 1, 2": MedianStop(after_epochs=(1, 2)),
    "median after epochs 1-4": MedianStop(after_epochs=(1, 2, 3, 4)),
    "median after epochs 1-4, 3 earlier trials": MedianStop(after_epochs=(1, 2, 3, 4), min_trials=3),
    "75th percentile after epoch 1, 3 earlier trials": PercentileStop(percentile=75, min_trials=3),
    "80th percentile after epoch 1, 3 earlier trials": PercentileStop(percentile=80, min_trials=3),
    "90th percentile after epoch 1, 3 earlier trials": PercentileStop(percentile=90, min_trials=3),
    "75th percentile after epochs 1-4, 3 earlier trials": PercentileStop(percentile=75, after_epochs=(1, 2, 3, 4),
                                                                         min_trials=3),
}


def epoch_curves(run_dir: Path, trial: Trial) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """(validation accuracy after each epoch, seconds from the trial's start to each epoch's end)."""
    # the log's params are in JSON's sorted order, the folder's in the space's: find it by its index
    (folder,) = (run_dir / TENSORBOARD_NAME).glob(f"trial_{trial.index:03d}_*/validation")
    scores, wall_times = accuracy_log(folder)
    ends = tuple(trial.seconds - (wall_times[-1] - wall) for wall in wall_times)
    return scores, ends


def accuracy_log(folder: Path) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """(validation accuracy after each epoch, the wall time it was logged at) from a TensorBoard folder."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorflow import make_ndarray

    events = EventAccumulator(str(folder), size_guidance={"tensors": 0})
    events.Reload()
    points = sorted(events.Tensors("epoch_accuracy"), key=lambda event: event.step)
    return tuple(float(make_ndarray(p.tensor_proto)) for p in points), tuple(p.wall_time for p in points)


def load_blog_logs(folder: Path) -> list[tuple[Trial, tuple[float, ...]]]:
    """The blog search's trials from its TensorBoard folder: one `<name>_<call index>` run per call."""
    loaded = []
    for run in folder.iterdir():
        scores, wall_times = accuracy_log(run / "validation")
        lengths = [later - earlier for earlier, later in zip(wall_times, wall_times[1:])]
        ends = tuple(itertools.accumulate([statistics.mean(lengths), *lengths]))  # epoch 1: as long as the others
        index = int(run.name.rsplit("_", 1)[1])
        loaded.append((Trial(index=index, params={}, seed=0, status=OK, score=scores[-1], val_loss=None,
                             seconds=ends[-1], epoch_scores=scores), ends))
    return sorted(loaded, key=lambda pair: pair[0].index)


def load_run(run_dir: Path) -> list[tuple[Trial, tuple[float, ...]]]:
    if not (run_dir / CHECKPOINT_NAME).exists():
        return load_blog_logs(run_dir)
    lines = (run_dir / CHECKPOINT_NAME).read_text().splitlines()
    trials = [Trial.from_json(json.loads(line)) for line in lines]
    loaded = []
    for trial in trials:
        if not trial.ok:
            continue  # a failed trial has no curve, and told the penalty either way
        scores, ends = epoch_curves(run_dir, trial)
        assert abs(scores[-1] - trial.score) < 1e-6, f"trial {trial.index}: log and checkpoint disagree"
        loaded.append((replace(trial, epoch_scores=scores), ends))
    return loaded


def replay(run: list[tuple[Trial, tuple[float, ...]]], rule: MedianStop, epochs: int) -> dict:
    seen: list[Trial] = []
    stopped, saved, told = [], 0.0, {"partial": [], "projected": [], "penalty 0": []}
    for trial, ends in run:
        thresholds = rule.thresholds(seen, epochs=epochs)
        stop = next((e for e in sorted(thresholds) if trial.epoch_scores[e - 1] < thresholds[e]), None)
        if stop is None:
            seen.append(trial)
            continue
        cut = replace(trial, status=PRUNED, score=trial.epoch_scores[stop - 1], epoch_scores=trial.epoch_scores[:stop])
        stopped.append(trial)
        saved += trial.seconds - ends[stop - 1]
        for name, value in (("partial", cut.score), ("projected", projected_score(cut, seen)), ("penalty 0", 0.0)):
            told[name].append(value - trial.score)
        seen.append(cut)
    ranked = sorted((t for t, _ in run), key=lambda t: (-t.score, t.index))
    stopped_indices = {t.index for t in stopped}
    finished = [t.score for t in seen if not t.pruned]
    return {
        "stopped": len(stopped), "trials": len(run), "saved": saved, "total": sum(t.seconds for t, _ in run),
        "best_stopped": ranked[0].index in stopped_indices,
        "top3_stopped": sum(t.index in stopped_indices for t in ranked[:3]),
        "best_left": max(finished), "best": ranked[0].score,
        "told": {name: (statistics.mean(abs(v) for v in values), statistics.mean(values)) if values else None
                 for name, values in told.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dirs", type=Path, nargs="+")
    args = parser.parse_args()
    print("| run | rule | trials stopped | training time saved | best stopped? | of the best 3 stopped | "
          "best left / best | told - final score, mean abs (mean): partial / projected / penalty 0 |")
    print("|---|---|---|---|---|---|---|---|")
    for run_dir in args.run_dirs:
        run = load_run(run_dir)
        results = run_dir / RESULTS_NAME
        epochs = json.loads(results.read_text())["budget"]["epochs"] if results.exists() else len(run[0][0].epoch_scores)
        for name, rule in RULES.items():
            row = replay(run, rule, epochs)
            told = " / ".join(f"{mae:.3f} ({bias:+.3f})" if (mae, bias) else "-"
                              for mae, bias in (v or (None, None) for v in row["told"].values()))
            print(f"| {run_dir.name} | {name} | {row['stopped']} of {row['trials']} | "
                  f"{row['saved'] / 60:.1f} of {row['total'] / 60:.1f} min ({row['saved'] / row['total']:.0%}) | "
                  f"{'yes' if row['best_stopped'] else 'no'} | {row['top3_stopped']} | "
                  f"{row['best_left']:.4f} / {row['best']:.4f} | {told} |")


if __name__ == "__main__":
    main()
