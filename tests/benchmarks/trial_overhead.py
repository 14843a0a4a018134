"""A trial's fixed cost on the tuning gate's two problems, this tree against an earlier commit.

    .venv/bin/python -m tests.benchmarks.trial_overhead [REFERENCE] [--rounds N]

On the gate's small problems most of a trial is fixed cost: tracing the train step (and, before
this version, tracing it twice and tracing a test step for the validation), not training. Each
tree trains the same six trials per problem (three points, two seeds; `harness.trial.run_trial`
as the plugin calls it, one warm-up trial first) in a fresh process pinned to core 0; the trees
alternate, round by round, so background load hits both alike. Prints each tree's seconds and
scores: the scores must be equal (the trials are the same), the seconds are the measurement.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
POINTS = [
    {"learning_rate": 0.01, "num_layers": 3, "num_nodes": 16, "hidden_activation": "relu"},  # the default point
    {"learning_rate": 0.00066, "num_layers": 9, "num_nodes": 176, "hidden_activation": "tanh"},  # replayed by the gate
    {"learning_rate": 0.0004, "num_layers": 4, "num_nodes": 220, "hidden_activation": "relu"},
]

SCRIPT = r"""
import json, sys
from tests.tuning.families import FAMILIES
from harness.trial import run_trial
family = FAMILIES[sys.argv[1]]
points = json.loads(sys.argv[2])
data = family.load()
create_model = family.model(data)
run_trial(create_model=create_model, params=points[0], data=data, index=0, seed=99, epochs=family.epochs,
          batch_size=family.batch_size)  # warm-up: TensorFlow's first graph in this process
seconds, scores = 0.0, []
for params in points:
    for seed in (1, 2):
        trial, _ = run_trial(create_model=create_model, params=params, data=data, index=0, seed=seed,
                             epochs=family.epochs, batch_size=family.batch_size)
        seconds += trial.seconds
        scores.append(trial.score)
print(json.dumps({"seconds": seconds, "scores": scores}))
"""


def trials(tree: Path, family: str) -> dict:
    env = {"PYTHONPATH": str(tree), "TF_CPP_MIN_LOG_LEVEL": "2", "PATH": "/usr/bin:/bin"}
    done = subprocess.run(["taskset", "-c", "0", sys.executable, "-c", SCRIPT, family, json.dumps(POINTS)], cwd=tree,
                          env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reference", nargs="?", default="31b18e8", help="the earlier commit (default: %(default)s)")
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        reference = Path(folder) / "reference"
        subprocess.run(["git", "worktree", "add", "--detach", str(reference), args.reference], cwd=ROOT, check=True,
                       capture_output=True)
        try:
            for family in ("digits", "fashion"):
                totals = {args.reference: [], "this tree": []}
                scores = {}
                for _ in range(args.rounds):
                    for name, tree in ((args.reference, reference), ("this tree", ROOT)):
                        outcome = trials(tree, family)
                        totals[name].append(outcome["seconds"])
                        scores[name] = outcome["scores"]
                before, now = min(totals[args.reference]), min(totals["this tree"])
                same = "the same scores" if scores[args.reference] == scores["this tree"] else "DIFFERENT SCORES"
                print(f"{family}: 6 trials {now:.2f} s against {before:.2f} s for {args.reference} "
                      f"({now / before:.2f}x; best of {args.rounds} rounds), {same}")
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(reference)], cwd=ROOT, capture_output=True)


if __name__ == "__main__":
    main()
