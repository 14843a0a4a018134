"""Early stopping of poor trials: stop a trial whose validation accuracy after a checked epoch is
below a percentile (the median, by default) of what the earlier trials scored after that epoch.

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

import numpy as np

from harness.errors import InputError
from harness.trial import FAILED, OK, Trial

RULES = ("none", "median", "percentile")
MEDIAN = 50.0
# `--prune percentile` without settings: only about the top tenth by epoch-1 score train on, once 3
# trials have one. The quickest rule measured on the blog's protocol (0.69x the median rule's time),
# and the roughest (mean best 0.8762 against 0.8787): docs/performance.md
PERCENTILE_DEFAULTS = {"percentile": 90.0, "after_epochs": (1,), "min_trials": 3}


@dataclass(frozen=True, slots=True)
class PercentileStop:
    """Stop at epoch e when the trial's validation accuracy is below the `percentile`-th percentile at e
    of the earlier trials' (50, the default, is the median; 90 lets about the top tenth train on).

    `after_epochs` are the epochs checked (a check at or beyond the last epoch is never made);
    `min_trials` earlier trials must have reached an epoch before its threshold is trusted.
    """

    after_epochs: tuple[int, ...] = (1,)
    min_trials: int = 5
    percentile: float = MEDIAN

    def __post_init__(self):
        if not self.after_epochs or any(isinstance(e, bool) or not isinstance(e, int) or e < 1
                                        for e in self.after_epochs):
            raise InputError(f"prune epochs must be whole numbers >= 1, got {list(self.after_epochs)}; "
                             "give e.g. --prune-after 1 or --prune-after 1,2")
        if isinstance(self.min_trials, bool) or not isinstance(self.min_trials, int) or self.min_trials < 1:
            raise InputError(f"the prune rule needs at least 1 earlier trial, got min_trials={self.min_trials!r}; "
                             "give e.g. --prune-min-trials 3")
        if isinstance(self.percentile, bool) or not isinstance(self.percentile, (int, float)) \
                or not 0 < self.percentile < 100:
            raise InputError(f"the prune percentile must be a number between 0 and 100 (exclusive), "
                             f"got {self.percentile!r}; give e.g. --prune-percentile 90")
        object.__setattr__(self, "after_epochs", tuple(sorted(set(self.after_epochs))))
        object.__setattr__(self, "percentile", float(self.percentile))

    def to_json(self) -> dict[str, Any]:
        settings = {"after_epochs": list(self.after_epochs), "min_trials": self.min_trials}
        if self.percentile == MEDIAN:  # the rule's record from before other percentiles existed
            return {"rule": "median", **settings}
        return {"rule": "percentile", "percentile": self.percentile, **settings}

    def thresholds(self, earlier: Sequence[Trial], *, epochs: int) -> dict[int, float]:
        """{epoch: the score a trial must reach after it}, from the trials told so far."""
        found = {}
        for epoch in self.after_epochs:
            if epoch >= epochs:
                continue
            scores = [t.epoch_scores[epoch - 1] for t in earlier
                      if t.status != FAILED and len(t.epoch_scores) >= epoch]
            if len(scores) >= self.min_trials:
                found[epoch] = _percentile(scores, self.percentile)
        return found


# the name the rule had while the median was its only threshold (docs, tests and user code use it)
MedianStop = PercentileStop


def _percentile(scores: Sequence[float], percentile: float) -> float:
    if percentile == MEDIAN:
        return statistics.median(scores)  # as before other percentiles existed, to the last bit
    return float(np.quantile(scores, percentile / 100))  # linear between the two nearest scores


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


def parse_rule(rule: str, after_epochs: Sequence[int] | None = None, *, percentile: float | None = None,
               min_trials: int | None = None) -> PercentileStop | None:
    """The rule named on the command line or in run.json, with the settings given (None: the rule's own)."""
    if rule not in RULES:
        raise InputError(f"unknown prune rule {rule!r}; give one of {', '.join(RULES)}")
    if rule == "none":
        if after_epochs or percentile is not None or min_trials is not None:
            raise InputError("prune settings were given but the prune rule is none; drop them or give --prune median")
        return None
    if rule == "median" and percentile is not None:
        raise InputError("a prune percentile was given with the median rule; give --prune percentile for it")
    defaults = PERCENTILE_DEFAULTS if rule == "percentile" else {}
    given = {"after_epochs": tuple(after_epochs) if after_epochs else None, "percentile": percentile,
             "min_trials": min_trials}
    return PercentileStop(**{**defaults, **{k: v for k, v in given.items() if v is not None}})


def every_epoch_but_the_last(epochs: int) -> tuple[int, ...]:
    """The epochs `mlptune tune` checks by default: each one after which a trial could still stop.

    On the blog's 50-call protocol (docs/performance.md), checking epochs 1-4 of 5 instead of
    epoch 1 alone stopped 27-33 trials instead of 16-20 and cut each run's wall time by a fifth
    to a third; the mean best of seeds 0-2 was 0.8787 against 0.8792.
    """
    return tuple(range(1, epochs)) or (1,)  # one epoch: nothing to check; (1,) is then never made


TUNE_MEDIAN_MIN_TRIALS = 1
"""Earlier trials `mlptune tune`'s median rule waits for before it checks an epoch (the rule's own
default, for `run_search` and the plugin, stays 5, Optuna's median pruner's number).

With 5, the median could stop none of a search's first 5 trials, so the default point and the
first random points trained every epoch, however poor their first epoch. With 1, the second trial
is checked against the first (the space's default point, which the search always trains first),
the third against the median of two, and so on. On the blog's 50-call protocol, seeds 0-5, each
step passed a rule set before its runs (docs/performance.md, "Three trials before the median,
not five" and "One trial before the median"): 5 to 3 the same time and mean best; 3 to 1 0.87x
the time, a mean best 0.0003 lower (inside the noise), 0.875 within 120 s of training at two seeds
instead of one. Waiting for 2 was measured too, over seeds 0-11 ("One or two trials before the
median, on twelve seeds"): the same mean best and one more seed within 120 s, for 1.09x the time.
Run folders record the number, so one made with 3 resumes with 3.
"""


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
