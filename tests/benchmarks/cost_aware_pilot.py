"""Pilot: `mlptune tune` with cost-aware acquisition (EI per unit of a deterministic cost).

    .venv/bin/python -m tests.benchmarks.cost_aware_pilot --offset 80000 -- \\
        tune --validate-on test --n-calls 50 --seed 0 --out runs/eips80k-s0

Not a product option yet (docs/performance.md has the measurements and why). For one run it makes
the search's optimizer scikit-optimize's "EIps", which divides the expected improvement by the
cost a second Gaussian process predicts, and tells it each trial's cost as `offset` plus the
point's trainable parameter count (the blog's MLP, `--input-size` inputs, `--classes` outputs)
instead of measured seconds, so the same seed still gives the same trials. The offset stands for
the part of a trial's time that does not grow with the network: on full Fashion-MNIST a trial
takes about 5 s plus 62 s per million parameters here (docs/performance.md, "Where a trial's time
goes"), which makes 80,000 parameters' worth. `--exponent` tempers the aversion: skopt divides the
expected improvement by the predicted cost, so telling it cost ** 0.5 divides by the cost's square
root (1, the default, is plain EIps). Everything else is `mlptune` as installed.
"""

from __future__ import annotations

import argparse
import sys

import harness.search
from harness.model import trainable_parameter_count
from tests.benchmarks.pilot_cli import add_mlptune_arguments, run_mlptune


def patch_search(*, offset: float, input_size: int, classes: int, exponent: float = 1.0) -> None:
    plain_objective, plain_optimizer = harness.search.objective, harness.search.make_optimizer

    def cost(trial) -> float:
        parameters = trainable_parameter_count(input_size=input_size, num_layers=trial.params["num_layers"],
                                               num_nodes=trial.params["num_nodes"], num_classes=classes)
        return (offset + parameters) ** exponent

    def objective_and_cost(trial, earlier=()):
        return [plain_objective(trial, earlier), cost(trial)]

    def cost_aware_optimizer(space, **options):
        return plain_optimizer(space, **{**options, "acq_func": "EIps"})

    harness.search.objective = objective_and_cost
    harness.search.make_optimizer = cost_aware_optimizer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--offset", type=float, default=80_000, help="the cost of a trial beyond its parameters")
    parser.add_argument("--exponent", type=float, default=1.0, help="tell the cost to this power (1: plain EIps)")
    parser.add_argument("--input-size", type=int, default=784)
    parser.add_argument("--classes", type=int, default=10)
    add_mlptune_arguments(parser)
    args = parser.parse_args(argv)
    patch_search(offset=args.offset, input_size=args.input_size, classes=args.classes, exponent=args.exponent)
    return run_mlptune(args.mlptune)


if __name__ == "__main__":
    sys.exit(main())
