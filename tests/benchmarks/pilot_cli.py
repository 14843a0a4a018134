"""What every pilot script shares: it patches the search, then runs `mlptune` itself in this process.

A pilot's command line is its own options, `--`, then `mlptune`'s arguments as a user would type them.
"""

from __future__ import annotations

import argparse
import sys


def add_mlptune_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("mlptune", nargs=argparse.REMAINDER, help="-- then mlptune's own arguments")


def run_mlptune(arguments: list[str]) -> int:
    """`mlptune` with `arguments` (the `--` dropped), on the search as the pilot patched it."""
    from harness.cli import main

    sys.argv = ["mlptune", *[a for a in arguments if a != "--"]]
    return main()
