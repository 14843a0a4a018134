"""What the Gaussian process is told for a trial (the number scikit-optimize minimises), and back.

Two scales, both decreasing in validation accuracy, so the best trial is the same on either:
- "accuracy": -accuracy, the blog's objective; a baseline's search without a scale used it.
- "log-error": log(1 - accuracy), the log of the error rate. A diverged trial (accuracy 0.1
  on ten classes) lies 0.75 below a good one on the accuracy scale but only 1.8 log units away
  where good trials differ by 0.1-0.5, so one such outlier no longer dominates the fitted
  Gaussian process (its variance and length scales). Expected improvement's margin xi (0.01) is
  then a relative one: 1 % of the error rate, about 0.001 of accuracy near 0.88, instead of a
  whole point. Opt-in (`mlptune tune --objective-scale log-error`): on the blog's 50-call
  protocol, seeds 0-5, it gave the same mean best as -accuracy with a third of the spread
  between seeds, in 1.2x the time (docs/performance.md, "Another CPU, six seeds, and the log of
  the error rate").

A failed trial is told accuracy 0 (the worst), a pruned one its score projected to the last
epoch (`harness.pruning.projected_score`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from harness.errors import InputError
from harness.pruning import projected_score
from harness.trial import Trial

OBJECTIVE_SCALES = ("accuracy", "log-error")
FAILED_TRIAL_ACCURACY = 0.0
"""The accuracy a failed trial is told as: the worst. NaN or inf would crash skopt."""
SMALLEST_ERROR = 1e-4
"""The error rate a perfect score is told as on the log scale, where 0 would be -inf: one error
in 10,000, below what any validation set here can resolve."""


def check_objective_scale(scale: Any) -> None:
    if scale not in OBJECTIVE_SCALES:
        raise InputError(f"objective_scale must be one of {', '.join(OBJECTIVE_SCALES)}, got {scale!r}")


def told_accuracy(trial: Trial, earlier: Sequence[Trial] = ()) -> float:
    """The accuracy the optimizer is told for a trial: its score, the worst when it failed, and for a
    pruned one its score projected to the last epoch from the `earlier` trials."""
    if trial.pruned:
        return projected_score(trial, earlier)
    return trial.score if trial.ok else FAILED_TRIAL_ACCURACY


def objective(trial: Trial, earlier: Sequence[Trial] = (), scale: str = "accuracy") -> float:
    """The value the optimizer minimises for `trial` on `scale` (see the module docstring)."""
    accuracy = told_accuracy(trial, earlier)
    if scale == "log-error":
        return math.log(max(SMALLEST_ERROR, 1.0 - accuracy))
    return -accuracy


def accuracy_from_objective(values, scale: str = "accuracy"):
    """The accuracies objective values stand for (a NumPy array): `objective`'s inverse."""
    import numpy as np

    values = np.asarray(values, dtype=float)
    return 1.0 - np.exp(values) if scale == "log-error" else -values
