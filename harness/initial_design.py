"""The initial design: the points a search trains before its Gaussian process steers."""

from __future__ import annotations

from typing import Any

from harness.errors import InputError

INITIAL_DESIGNS = ("random", "lhs")
"""How the points before the Gaussian process steers are drawn: uniformly at random (skopt's and the
blog's way, `run_search`'s default), or a Latin hypercube, which spreads few points over every
dimension's range (`mlptune tune`'s default: measured in docs/performance.md)."""
MAX_INITIAL_POINTS = {"random": 10,  # the blog post's gp_minimize default, reached at 50 calls
                      "lhs": 5}  # a space-filling design covers the space with fewer


def default_initial_points(n_calls: int, *, has_x0: bool, initial_design: str = "random") -> int:
    """Points evaluated before the Gaussian process steers: the starting point plus drawn ones.

    skopt's fixed 10 would make a 10-call budget pure random search; a fifth of the budget
    (at least one, at most 10 random or 5 Latin hypercube points) keeps most calls model-guided
    and matches the blog's 10 random points at 50 calls.
    """
    drawn = min(MAX_INITIAL_POINTS[initial_design], max(1, n_calls // 5))
    return min(n_calls, drawn + (1 if has_x0 else 0))


def check_initial_design(initial_design: Any) -> None:
    if initial_design not in INITIAL_DESIGNS:
        raise InputError(f"initial_design must be one of {', '.join(INITIAL_DESIGNS)}, got {initial_design!r}")
