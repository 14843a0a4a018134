"""Early stopping of poor trials: stop a trial whose validation accuracy after a checked epoch is
below the median of what the earlier trials scored after that epoch.

The rule sees only the epoch scores of trials told to the optimizer before the trial's batch, so
the thresholds a trial trains against, and so the whole search, follow from the seed as before.
A stopped ("pruned") trial never becomes the best: the best is always a full-budget score and
its model the full-budget model. What the Gaussian process is told for a pruned trial is its
score projected to the last epoch (`projected_score`); docs/search.md says why.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from harness.errors import InputError
from harness.trial import FAILED, OK, Trial

RULES = ("none", "median")


@dataclass(frozen=True, slots=True)
class MedianStop:
    """Stop at epoch e when the trial's validation accuracy is below the median at e of earlier trials.

    `after_epochs` are the epochs checked (a check at or beyond the last epoch is never made);
    `min_trials` earlier trials must have reached an epoch before its median is trusted.
    """

    after_epochs: tuple[int, ...] = (1,)
    min_trials: int = 5

    def __post_init__(self):
        if not self.after_epochs or any(isinstance(e, bool) or not isinstance(e, int) or e < 1
                                        for e in self.after_epochs):
            raise InputError(f"prune epochs must be whole numbers >= 1, got {list(self.after_epochs)}; "
                             "give e.g. --prune-after 1 or --prune-after 1,2")
        if isinstance(self.min_trials, bool) or not isinstance(self.min_trials, int) or self.min_trials < 1:
            raise InputError(f"the median needs at least 1 earlier trial, got min_trials={self.min_trials!r}")
        object.__setattr__(self, "after_epochs", tuple(sorted(set(self.after_epochs))))

    def to_json(self) -> dict[str, Any]:
        return {"rule": "median", "after_epochs": list(self.after_epochs), "min_trials": self.min_trials}

    def thresholds(self, earlier: Sequence[Trial], *, epochs: int) -> dict[int, float]:
        """{epoch: the score a trial must reach after it}, from the trials told so far."""
        found = {}
        for epoch in self.after_epochs:
            if epoch >= epochs:
                continue
            scores = [t.epoch_scores[epoch - 1] for t in earlier
                      if t.status != FAILED and len(t.epoch_scores) >= epoch]
            if len(scores) >= self.min_trials:
                found[epoch] = statistics.median(scores)
        return found


def projected_score(trial: Trial, earlier: Sequence[Trial]) -> float:
    """What a pruned trial would likely have scored after the last epoch: its last score plus the
    median gain from that epoch to the last among the earlier full-budget trials (none: its last score).

    Told to the Gaussian process instead of the raw partial score, which understates every pruned
    point by the gain still to come, or a penalty, which makes the surface a cliff (docs/search.md
    has the measured comparison).
    """
    stopped = len(trial.epoch_scores)
    gains = [t.epoch_scores[-1] - t.epoch_scores[stopped - 1] for t in earlier
             if t.status == OK and len(t.epoch_scores) > stopped]
    projected = trial.epoch_scores[-1] + (statistics.median(gains) if gains else 0.0)
    return min(1.0, max(0.0, projected))


def parse_rule(rule: str, after_epochs: Sequence[int] | None = None) -> MedianStop | None:
    """The rule named on the command line or in an ini file; None for "none"."""
    if rule not in RULES:
        raise InputError(f"unknown prune rule {rule!r}; give one of {', '.join(RULES)}")
    if rule == "none":
        if after_epochs:
            raise InputError("prune epochs were given but the prune rule is none; drop them or give --prune median")
        return None
    return MedianStop(after_epochs=tuple(after_epochs)) if after_epochs else MedianStop()


def every_epoch_but_the_last(epochs: int) -> tuple[int, ...]:
    """The epochs `mlptune tune` checks by default: each one after which a trial could still stop.

    On the blog's 50-call protocol (docs/performance.md), checking epochs 1-4 of 5 instead of
    epoch 1 alone stopped 27-33 trials instead of 16-20 and cut each run's wall time by a fifth
    to a third; the mean best of seeds 0-2 was 0.8787 against 0.8792.
    """
    return tuple(range(1, epochs)) or (1,)  # one epoch: nothing to check; (1,) is then never made


def format_epochs(epochs: Sequence[int]) -> str:
    """(1, 2) -> '1,2': how run.json and the command line write checked epochs (`parse_epochs` reads them)."""
    return ",".join(map(str, epochs))


def parse_epochs(text: str) -> tuple[int, ...]:
    """'1,2' -> (1, 2); a one-line InputError for anything else."""
    try:
        epochs = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise InputError(f"prune epochs must be a comma-separated list of whole numbers, got {text!r}; "
                         "give e.g. 1 or 1,2") from None
    return MedianStop(after_epochs=epochs).after_epochs
