"""The `mlptune` fixture: run a budgeted search, then check it against this test's baseline."""

from __future__ import annotations

import functools
import shlex
from pathlib import Path
from typing import Any

import pytest

from pytest_mlptune.baseline import (
    BaselineError,
    baseline_from_results,
    baseline_path,
    read_baseline,
    write_baseline,
)
from pytest_mlptune.options import TuneSettings
from pytest_mlptune.verdict import (
    IMPROVED,
    NEW,
    NOT_COMPARABLE,
    OK,
    REGRESSED,
    UPDATED,
    Verdict,
    allowed_drop,
    comparability_problems,
    compare_scores,
)

ROW_PROPERTY = "mlptune_row"
BASELINE_PROPERTY = "mlptune_baseline"


class TuneFixture:
    """What a tuning test gets as `mlptune`.

    `search(...)` runs `harness.run_search` with the session's budget (`--n-calls`) and seed
    (`--tune-seed`); `check(result)` compares its best validation accuracy with the stored
    baseline and fails the test on a regression, a missing or incomparable baseline.
    """

    def __init__(self, *, settings: TuneSettings, nodeid: str, environment_key: str, node, k: float, floor: float,
                 benchmark=None):
        self.settings = settings
        self.nodeid = nodeid
        self.environment_key = environment_key
        self.baseline_path = baseline_path(settings.baselines_dir, environment_key, nodeid)
        self.k = k
        self.floor = floor
        self._node = node
        self._benchmark = benchmark  # pytest-benchmark's fixture when that plugin is active, else None
        self._repeats: list = []

    def search(self, *, create_model, data, space=None, epochs: int = 5, batch_size: int = 64,
               x0=None, n_initial_points: int | None = None, **options: Any):
        """Run the search; under --update-baselines with --tune-repeats K, K searches (seeds S..S+K-1).

        Returns the result for the session seed S. Extra keyword options go to `harness.run_search`.
        """
        from harness.errors import InputError
        from harness.search import SearchAborted, run_search

        for reserved in ("n_calls", "seed", "out_dir"):
            if reserved in options:
                raise pytest.UsageError(
                    f"mlptune.search() takes {reserved} from the command line (--n-calls, --tune-seed), not as an argument"
                )
        options.setdefault("tensorboard", False)
        options.setdefault("save_best", False)
        repeats = self.settings.repeats if self.settings.update else 1
        results = []
        for repeat in range(repeats):
            search = functools.partial(
                run_search, create_model=create_model, data=data, space=space, n_calls=self.settings.n_calls,
                seed=self.settings.seed + repeat, epochs=epochs, batch_size=batch_size, x0=x0,
                n_initial_points=n_initial_points, **options)
            try:
                if repeat == 0 and self._benchmark is not None:  # pytest-benchmark allows one timing per test
                    result = self._timed(search, epochs=epochs, batch_size=batch_size)
                else:
                    result = search()
            except SearchAborted as aborted:
                pytest.fail(f"tuning search stopped: {aborted}", pytrace=False)
            except InputError as error:
                pytest.fail(f"mlptune.search(): {error}", pytrace=False)
            if result.best is None:
                pytest.fail(f"every one of the {len(result.trials)} trials failed "
                            f"(first error: {result.trials[0].error})", pytrace=False)
            results.append(result)
        self._repeats = results
        return results[0]

    def _timed(self, search, *, epochs: int, batch_size: int):
        from harness.environment import environment
        from pytest_mlptune.trial_timing import search_with_timed_trials

        result = search_with_timed_trials(self._benchmark, lambda execute: search(trial_executor=execute),
                                          rounds=self.settings.n_calls)
        versions = environment()
        self._benchmark.extra_info.update({
            "mlptune": "each round is one trial of the search (training and validation, not the optimizer)",
            "n_calls": self.settings.n_calls, "seed": self.settings.seed, "epochs": epochs, "batch_size": batch_size,
            "tensorflow": versions.get("tensorflow"), "keras": versions.get("keras"),
            "best_val_accuracy": result.best.score if result.best else None,
            "trial_seconds": [round(t.seconds, 3) for t in result.trials],
        })
        return result

    def check(self, result) -> Verdict:
        """Compare `result` with this test's baseline (or write it under --update-baselines)."""
        if result.best is None:
            pytest.fail("every trial failed, there is no best score to check", pytrace=False)
        best = float(result.best.score)
        location = self._display(self.baseline_path)
        if self.settings.update:
            results = self._repeats if self._repeats and self._repeats[0] is result else [result]
            baseline = baseline_from_results(test=self.nodeid, environment_key=self.environment_key, results=results)
            write_baseline(self.baseline_path, baseline)
            verdict = Verdict(status=UPDATED, best=best, baseline=baseline.value,
                              bound=allowed_drop(std=baseline.std, k=self.k, floor=self.floor),
                              message=f"baseline written to {location}")
            return self._record(verdict, result)
        try:
            baseline = read_baseline(self.baseline_path)
        except BaselineError as error:
            verdict = Verdict(status="error", best=best, baseline=None, bound=None,
                              message=f"baseline {location} is unusable: {error}; regenerate it with: "
                                      f"{self.update_command()}")
            self._record(verdict, result)
            pytest.fail(verdict.message, pytrace=False)
        if baseline is None:
            verdict = Verdict(status=NEW, best=best, baseline=None, bound=None,
                              message=f"no baseline for this test in environment {self.environment_key} "
                                      f"(best {best:.4f}); create it with: {self.update_command()}")
            self._record(verdict, result)
            pytest.fail(verdict.message, pytrace=False)
        problems = comparability_problems(
            baseline_budget=baseline.budget, budget=result.budget.to_json(),
            baseline_data=baseline.data.get("validation_fingerprint"), data=result.data["validation_fingerprint"],
            baseline_space=baseline.space_fingerprint, space=result.space_fingerprint)
        if problems:
            baseline_calls = baseline.budget.get("n_calls")
            rerun = (f"Run with the baseline's budget (--n-calls {baseline_calls}), or after"
                     if baseline_calls != result.budget.n_calls else "After")
            verdict = Verdict(status=NOT_COMPARABLE, best=best, baseline=baseline.value, bound=None,
                              message=f"baseline {location} is not comparable: {'; '.join(problems)}. "
                                      f"{rerun} an intentional change refresh it with: {self.update_command()}")
            self._record(verdict, result)
            pytest.fail(verdict.message, pytrace=False)
        bound = allowed_drop(std=baseline.std, k=self.k, floor=self.floor)
        status = compare_scores(best=best, baseline=baseline.value, std=baseline.std, k=self.k, floor=self.floor)
        delta = best - baseline.value
        if status == REGRESSED:
            changed = ("; the training data changed since the baseline"
                       if baseline.data.get("train_fingerprint") != result.data.get("train_fingerprint") else "")
            message = (f"tuning regressed: best val_accuracy {best:.4f} < baseline {baseline.value:.4f} - {bound:.4f} "
                       f"(delta {delta:+.4f}) in {location}{changed}; if intended, update with: {self.update_command()}")
        elif status == IMPROVED:
            message = f"tuning improved: best {best:.4f} > baseline {baseline.value:.4f} + {bound:.4f} (delta {delta:+.4f})"
        else:
            message = f"best {best:.4f} within {bound:.4f} of baseline {baseline.value:.4f}"
        verdict = Verdict(status=status, best=best, baseline=baseline.value, bound=bound, message=message)
        self._record(verdict, result)
        if status == REGRESSED:
            pytest.fail(message, pytrace=False)
        assert status in (OK, IMPROVED)
        return verdict

    def update_command(self) -> str:
        parts = ["mlptune", "baselines", "update", self.nodeid, "--n-calls", str(self.settings.n_calls)]
        if self.settings.seed:
            parts += ["--tune-seed", str(self.settings.seed)]
        return shlex.join(parts)

    def _display(self, path: Path) -> str:
        try:
            return str(path.relative_to(Path.cwd()))
        except ValueError:
            return str(path)

    def _record(self, verdict: Verdict, result) -> Verdict:
        self._node.user_properties.append((ROW_PROPERTY, {
            "test": self.nodeid, "status": verdict.status, "best": verdict.best, "baseline": verdict.baseline,
            "bound": verdict.bound, "calls": len(result.trials), "seconds": round(result.wall_seconds, 1),
            "message": verdict.message,
        }))
        return verdict
