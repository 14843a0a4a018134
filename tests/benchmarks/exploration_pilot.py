"""Pilot: `mlptune tune` with another exploration margin xi for expected improvement.

    .venv/bin/python -m tests.benchmarks.exploration_pilot --xi 0.001 -- \\
        tune --validate-on test --n-calls 50 --seed 0 --prune percentile --out runs/xi001-s0

Not a product option (docs/performance.md has the measurements). Expected improvement counts only
the improvement beyond the best score so far plus xi, in the objective's own units, and
`gp_minimize`'s xi of 0.01 is a whole point of accuracy: on Fashion-MNIST, where the good
networks lie within a few tenths of a point of each other, EI then rewards the points whose
prediction is most uncertain more than those predicted best. This runs one search with another
xi; everything else is `mlptune` as installed, so the same seed still gives the same trials.
"""

from __future__ import annotations

import argparse
import sys

import harness.search
from tests.benchmarks.pilot_cli import add_mlptune_arguments, run_mlptune


def patch_search(*, xi: float) -> None:
    plain_optimizer = harness.search.make_optimizer

    def optimizer_with_xi(space, **options):
        optimizer = plain_optimizer(space, **options)
        optimizer.acq_func_kwargs = {**optimizer.acq_func_kwargs, "xi": xi}
        return optimizer

    harness.search.make_optimizer = optimizer_with_xi


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--xi", type=float, required=True, help="EI's exploration margin (gp_minimize's is 0.01)")
    add_mlptune_arguments(parser)
    args = parser.parse_args(argv)
    patch_search(xi=args.xi)
    return run_mlptune(args.mlptune)


if __name__ == "__main__":
    sys.exit(main())
