"""The initial design: the points a search trains before its Gaussian process steers."""

from __future__ import annotations

from typing import Any

from harness.errors import InputError

INITIAL_DESIGNS = ("random", "lhs")
"""How the initial points are drawn: uniformly at random (skopt's and the blog's way, the default),
or as a Latin hypercube, each point in its own slice of every dimension's range."""
BLOG_INITIAL_POINTS = 10  # gp_minimize's random points, the blog's; run_search's cap, reached at 50 calls


def default_initial_points(n_calls: int, *, has_x0: bool, max_drawn: int = BLOG_INITIAL_POINTS) -> int:
    """Points evaluated before the Gaussian process steers: the starting point plus drawn ones.

    skopt's fixed 10 would make a 10-call budget pure random search; a fifth of the budget (at
    least one, at most `max_drawn`) keeps most calls model-guided and matches the blog's 10 at 50
    calls. `mlptune tune` draws at most 5 (docs/performance.md: the Gaussian process then steers
    sooner, and over three seeds reached 0.875 in fewer calls on average, with a best no worse).
    """
    drawn = min(max_drawn, max(1, n_calls // 5))
    return min(n_calls, drawn + (1 if has_x0 else 0))


def check_initial_design(initial_design: Any) -> None:
    if initial_design not in INITIAL_DESIGNS:
        raise InputError(f"initial_design must be one of {', '.join(INITIAL_DESIGNS)}, got {initial_design!r}")
