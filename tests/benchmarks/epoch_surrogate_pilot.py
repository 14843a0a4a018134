"""Pilot: `mlptune tune` with a Gaussian process that learns from every epoch's score, the epoch an input.

    .venv/bin/python -m tests.benchmarks.epoch_surrogate_pilot -- \\
        tune --validate-on test --n-calls 50 --seed 0 --prune percentile --out runs/epochs-s0

Not a product option (docs/performance.md, "What the Gaussian process is told for a pruned trial",
has the measurements: no better than the projected score). With a prune rule most trials stop
after an epoch or two, and the search tells the Gaussian process one value per trial: a pruned
trial's score projected to the last epoch with the median gain of the earlier full trials
(`harness.pruning.projected_score`). That gain is one number for the whole space, while a network
with a small learning rate gains more after epoch 1 than one with a large rate.

This pilot tells instead the validation accuracy after every epoch a trial trained, with the epoch
as one more input of the Gaussian process (a multi-fidelity surrogate, as in freeze-thaw
optimisation): a pruned trial is one real observation at the epoch it reached, a full trial one at
every epoch, and the model learns from the full trials nearby how much a point still gains. The
next point is the one with the highest expected improvement at the last epoch over the best
full-budget score. The initial points are drawn exactly as in the plain search, and the same seed
gives the same trials. It needs a prune rule (the epoch scores are kept only then).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np

import harness.search
from harness.trial import Trial
from tests.benchmarks.pilot_cli import add_mlptune_arguments, run_mlptune


class EpochAwareOptimizer:
    """scikit-optimize's ask/tell, with a Gaussian process over (point, epoch).

    `initial` is the search's usual skopt `Optimizer`: it draws the initial points (so they are the
    same as in the plain search) and its random state draws the candidate points afterwards. Asking
    scores `n_points` random candidates at the last epoch and returns the best by `acq_func`; a
    batch of q points is asked with the constant liar (each asked point told the best objective so
    far at the last epoch before the next is asked), as skopt's `cl_min`.
    """

    def __init__(self, initial, *, epochs: int, seed: int, n_points: int = 10000):
        from skopt.space import Real, Space
        from skopt.utils import cook_estimator

        self._initial = initial
        self.space = initial.space
        self.epochs = epochs
        self._n_points = n_points
        self._acq_func = initial.acq_func
        self._acq_func_kwargs = initial.acq_func_kwargs
        self._rng = initial.rng
        # its own stream for the kernel's restarts: the initial points draw from `initial.rng` as before
        gp_seed = int(np.random.SeedSequence([seed, 1]).generate_state(1)[0] & 0x7FFFFFFF)
        with_epoch = Space(list(self.space.dimensions) + [Real(0.0, 1.0, name="epoch")])
        self._estimator = cook_estimator("GP", space=with_epoch, random_state=gp_seed, noise="gaussian")
        self._X: list[np.ndarray] = []  # transformed point with the epoch's column last
        self._y: list[float] = []  # -accuracy, as skopt minimises
        self._full: list[bool] = []  # an observation at the last epoch
        self._points: list[list] = []
        self._objectives: list[float] = []  # one per trial, for get_result (plots)
        self.models: list = []
        self._asked: tuple[int | None, Any] | None = None  # (n_points, what ask returned) until the next tell

    @property
    def n_initial_points_(self) -> int:
        return self._initial.n_initial_points_

    @property
    def steering(self) -> bool:
        return self._initial._n_initial_points <= 0

    def ask(self, n_points: int | None = None):
        """The next point (a list of `n_points` with the constant liar); the same until the next tell, as in skopt."""
        if not self.steering:
            return self._initial.ask() if n_points is None else self._initial.ask(n_points=n_points)
        if self._asked is None or self._asked[0] != n_points:
            self._asked = (n_points, self._ask(n_points))
        return self._asked[1]

    def _ask(self, n_points: int | None):
        if n_points is None:
            return self._next(self._X, self._y, self._full)
        X, y, full = list(self._X), list(self._y), list(self._full)
        lie = min((v for v, f in zip(y, full) if f), default=0.0)
        points = []
        for _ in range(n_points):
            point = self._next(X, y, full)
            points.append(point)
            X.append(self._row(point, self.epochs))
            y.append(lie)
            full.append(True)
        return points

    def tell(self, x, y) -> None:
        """The search loop's tell, given trials instead of objectives (the pilot's `objective` returns the trial)."""
        if isinstance(y, Trial):
            x, y = [x], [y]
        self.tell_trials(x, y)

    def tell_trials(self, points: Sequence[Sequence], trials: Sequence[Trial]) -> None:
        """Learn from finished trials: every epoch score of each (a failed one: accuracy 0 at the last epoch)."""
        for point, trial in zip(points, trials, strict=True):
            point = list(point)
            if trial.failed:
                observed = {self.epochs: 0.0}
            elif trial.epoch_scores:
                observed = {epoch: score for epoch, score in enumerate(trial.epoch_scores, start=1)}
            else:  # a trial from a run without epoch scores: its final score only
                observed = {self.epochs: trial.score}
            for epoch, score in observed.items():
                self._X.append(self._row(point, epoch))
                self._y.append(-score)
                self._full.append(epoch == self.epochs)
            self._points.append(point)
            self._objectives.append(-trial.score if trial.ok else 0.0)
        self._asked = None
        # the initial optimizer counts its initial points down; it never fits a model of its own
        self._initial.tell([list(p) for p in points], [0.0] * len(points), fit=False)
        if self.steering:
            self._fit(self._X, self._y)

    def get_result(self):
        """A skopt result over the trials (pruned and failed ones at objective 0), with the model at the last epoch."""
        from skopt.utils import create_result

        return create_result(self._points, self._objectives, self.space, self._rng, models=self.models)

    # -- internals ---------------------------------------------------------------------------------
    def _row(self, point: Sequence, epoch: int) -> np.ndarray:
        column = (epoch - 1) / (self.epochs - 1) if self.epochs > 1 else 1.0
        return np.append(self.space.transform([list(point)])[0], column)

    def _fit(self, X, y):
        import warnings

        from sklearn.base import clone

        model = clone(self._estimator)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(np.asarray(X), np.asarray(y))
        self.models = [AtLastEpoch(model)]
        return model

    def _next(self, X, y, full) -> list:
        from skopt.acquisition import _gaussian_acquisition

        model = self._fit(X, y) if len(X) != len(self._X) else self.models[-1].model
        full_y = [v for v, f in zip(y, full) if f]
        y_opt = min(full_y) if full_y else min(y)
        candidates = self.space.transform(self.space.rvs(n_samples=self._n_points, random_state=self._rng))
        values = _gaussian_acquisition(X=AtLastEpoch.rows(candidates), model=model, y_opt=y_opt,
                                       acq_func=self._acq_func, acq_func_kwargs=self._acq_func_kwargs)
        return self.space.inverse_transform(candidates[np.argmin(values)].reshape(1, -1))[0]


class AtLastEpoch:
    """The epoch-aware Gaussian process seen at the last epoch: what skopt's plots call a model of the space."""

    def __init__(self, model):
        self.model = model

    @staticmethod
    def rows(X) -> np.ndarray:
        X = np.asarray(X)
        return np.hstack([X, np.ones((len(X), 1))])

    def predict(self, X, return_std: bool = False, **kwargs):
        return self.model.predict(self.rows(X), return_std=return_std, **kwargs)


def patch_search() -> None:
    """For this process: the search's optimizer learns from every epoch, and is told the trials themselves."""
    plain_optimizer = harness.search.make_optimizer
    epochs = {}

    def epoch_aware_optimizer(space, *, seed, **options):
        return EpochAwareOptimizer(plain_optimizer(space, seed=seed, **options), epochs=epochs["last"], seed=seed)

    def trial_itself(trial, earlier=()):
        if trial.ok and not trial.epoch_scores:
            raise SystemExit("epoch_surrogate_pilot: the trials keep no epoch scores; give a prune rule (--prune ...)")
        return trial

    plain_run_search = harness.search.run_search

    def run_search(**arguments):
        epochs["last"] = arguments.get("epochs", 5)
        return plain_run_search(**arguments)

    harness.search.make_optimizer = epoch_aware_optimizer
    harness.search.objective = trial_itself
    harness.search.run_search = run_search


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_mlptune_arguments(parser)
    args = parser.parse_args(argv)
    patch_search()
    return run_mlptune(args.mlptune)


if __name__ == "__main__":
    sys.exit(main())
