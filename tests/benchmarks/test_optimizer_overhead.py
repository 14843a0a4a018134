"""Optimizer (Gaussian process fit + acquisition) seconds per search, on an objective that costs nothing."""

import math
import time

import pytest

from harness.search import default_initial_points, make_optimizer
from harness.space import DEFAULT_POINT, REFERENCE_SPACE

# Measured by the blog protocol run recorded in docs/performance.md (50 calls, full data, 5 epochs).
BLOG_PROTOCOL_TRAINING_SECONDS_PER_CALL = 20.0


def cheap_objective(point):
    learning_rate, layers, nodes, activation = point
    return -(0.8 - 0.02 * abs(math.log10(learning_rate) + 3) - 0.001 * abs(layers - 6) + 0.0001 * nodes
             + {"relu": 0.01, "tanh": 0.0, "sigmoid": -0.01}[activation])


def optimizer_seconds(n_calls: int) -> float:
    optimizer = make_optimizer(REFERENCE_SPACE, n_initial_points=default_initial_points(n_calls, has_x0=True),
                               acq_func="EI", seed=0)
    spent = 0.0
    for index in range(n_calls):
        started = time.perf_counter()
        point = list(DEFAULT_POINT) if index == 0 else optimizer.ask()
        optimizer.tell(point, cheap_objective(point))
        spent += time.perf_counter() - started
    return spent


@pytest.mark.parametrize("n_calls", [10, 50, 100])
def test_optimizer_overhead(benchmark, record_ratio, n_calls):
    seconds = benchmark.pedantic(optimizer_seconds, args=(n_calls,), rounds=1, iterations=1)
    benchmark.extra_info["optimizer_seconds"] = seconds
    training = n_calls * BLOG_PROTOCOL_TRAINING_SECONDS_PER_CALL
    share = seconds / (seconds + training)
    record_ratio(name=f"optimizer share of a {n_calls}-call blog-protocol search", value=share,
                 target="< 0.05 at 50 calls", met=share < 0.05 if n_calls == 50 else True,
                 detail=f"optimizer {seconds:.1f} s against {training:.0f} s of training "
                        f"({BLOG_PROTOCOL_TRAINING_SECONDS_PER_CALL:.0f} s per call)")
