"""The `mlptune` fixture: run a budgeted search, then check it against this test's baseline."""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import shlex
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from harness.threads import DEFAULT_THREADS, usable_cores
from pytest_mlptune.baseline import (
    BaselineError,
    ReplayRecord,
    baseline_from_results,
    baseline_path,
    read_baseline,
    recorded_environments,
    write_baseline,
)
from pytest_mlptune.options import TuneSettings
from pytest_mlptune.verdict import (
    Verdict,
    allowed_drop,
    comparability_problems,
    compare_replay,
    compare_search,
    judge,
    new_verdict,
    not_comparable_verdict,
    unfailable_verdict,
    unusable_verdict,
    updated_verdict,
)

ROW_PROPERTY = "mlptune_row"
BASELINE_PROPERTY = "mlptune_baseline_file"
REPLAY_CONFIGS = 3  # the search's best few configurations a baseline records and every check retrains
REPLAY_SEEDS = 4  # training seeds per replayed configuration, at least (docs/verdict.md: the panel chose it)
PLANNED_BUDGET_OPTIONS = ("acq_func", "prune", "initial_design", "threads", "objective_scale")
"""The options of `mlptune.search()` that `harness.search.planned_budget` also takes (the budget's own)."""


def a_core_is_free_for_the_replay(environ=os.environ, cores: int | None = None) -> bool:
    """Whether the replay should train in a process of its own beside the search.

    That pays when a core would otherwise idle. Under pytest-xdist with at least as many workers as
    cores, every core already trains a search: a neighbour process then only adds a TensorFlow
    start-up and contention (the gate under `-n 2` on 2 cores: 103-108 s of CPU after the search
    against 119-135 s beside it, the same wall time). xdist sets PYTEST_XDIST_WORKER_COUNT in its
    workers, and a pytest those start inherits it, rightly: it shares the same busy cores.
    """
    workers = environ.get("PYTEST_XDIST_WORKER_COUNT")
    if cores is None:
        cores = usable_cores()
    return workers is None or not workers.isdigit() or int(workers) < cores


@dataclass(frozen=True, slots=True)
class Tolerance:
    """The allowed drops of one test: k standard errors, with a floor per signal."""

    k: float
    floor: float
    search_floor: float


@dataclass(frozen=True, slots=True)
class _SearchInputs:
    """What `check` needs to retrain the baseline's configurations exactly as the search trained them."""

    create_model: Any
    data: Any
    epochs: int
    batch_size: int
    trials_per_worker: int | None
    threads: int | None


class TuneFixture:
    """What a tuning test gets as `mlptune`.

    `search(...)` runs `harness.run_search` with the session's budget (`--n-calls`) and seed
    (`--tune-seed`); `check(result)` compares its best validation accuracy with the stored
    baseline and fails the test on a regression, a missing or incomparable baseline.
    """

    def __init__(self, *, settings: TuneSettings, nodeid: str, environment_key: str, node, tolerance: Tolerance,
                 benchmark: Callable[[], Any] | None = None, baseline_environment: str | None = None):
        self.settings = settings
        self.nodeid = nodeid
        self.environment_key = environment_key  # this environment's: where --update-baselines writes
        # whose baseline the check reads: this environment's, or the one --baselines-from names
        self.baseline_environment = baseline_environment or environment_key
        self.baseline_path = baseline_path(settings.baselines_dir, self.baseline_environment, nodeid)
        self.tolerance = tolerance
        self._node = node
        # Returns pytest-benchmark's fixture (None without that plugin); called only for a search it times.
        self._benchmark = benchmark
        self._repeats: list = []
        self._inputs: _SearchInputs | None = None
        self.last_replay = None  # the scores the last check's replay got (a harness ReplayResult), for inspection
        self.searched = False  # both read by the plugin: a tuning test that checked nothing fails
        self.checked = False
        self._check_called = False  # a second check would judge (or record) the same search again
        self._early_replay = None  # the baseline's replay, started beside the search (harness ReplayInBackground)
        self._replayed_beside = None  # whether the check's replay ran beside the search (None: no replay)

    def search(self, *, create_model, data, space=None, epochs: int = 5, batch_size: int = 64,
               x0=None, n_initial_points: int | None = None, **options: Any):
        """Run the search; under --update-baselines with --tune-repeats K, K searches (seeds S..S+K-1).

        Returns the result for the session seed S. Extra keyword options go to `harness.run_search`.
        """
        from harness.errors import InputError
        from harness.search import SearchAborted, run_search

        if self.searched:
            pytest.fail("mlptune.search() runs once per test (one test, one baseline); put a second search in "
                        "a test of its own", pytrace=False)
        self.searched = True
        for reserved in ("n_calls", "seed", "out_dir"):
            if reserved in options:
                raise pytest.UsageError(
                    f"mlptune.search() takes {reserved} from the command line (--n-calls, --tune-seed), not as an argument"
                )
        options.setdefault("tensorboard", False)
        options.setdefault("save_best", False)
        options.setdefault("trials_per_batch", self.settings.trials_per_batch)
        options.setdefault("threads", self.settings.threads)
        if self.settings.workers is not None:
            options.setdefault("workers", self.settings.workers)
        if self.settings.scheduler is not None:
            where = "scheduler_file" if Path(self.settings.scheduler).is_file() else "scheduler"
            options.setdefault(where, self.settings.scheduler)
        on_dask = any(options.get(key) for key in ("workers", "scheduler", "scheduler_file"))
        if not self.settings.update:
            self._fail_before_search_if_doomed(data=data, space=space, epochs=epochs, batch_size=batch_size, x0=x0,
                                               n_initial_points=n_initial_points, options=options)
        if not self.settings.update and self._early_replay is None:
            self._early_replay = self._start_replay_beside_search(create_model=create_model, data=data,
                                                                  epochs=epochs, batch_size=batch_size,
                                                                  threads=options["threads"])
        repeats = self.settings.repeats if self.settings.update else 1
        results = []
        for repeat in range(repeats):
            search = functools.partial(
                run_search, create_model=create_model, data=data, space=space, n_calls=self.settings.n_calls,
                seed=self.settings.seed + repeat, epochs=epochs, batch_size=batch_size, x0=x0,
                n_initial_points=n_initial_points, **options)
            failure = None  # failed outside the except clause, so pytest prints the one line, not the chain
            try:
                # One timing per test; batches on Dask train in parallel, so a trial is not a round on this thread.
                benchmark = self._benchmark() if repeat == 0 and self._benchmark is not None and not on_dask else None
                if benchmark is not None:
                    result = self._timed(benchmark, search, epochs=epochs, batch_size=batch_size)
                else:
                    result = search()
            except SearchAborted as aborted:
                failure = f"tuning search stopped: {aborted}"
            except InputError as error:
                failure = f"mlptune.search(): {error}"
            if failure is not None:
                pytest.fail(failure, pytrace=False)
            if result.best is None:
                pytest.fail(f"every one of the {len(result.trials)} trials failed "
                            f"(first error: {result.trials[0].error})", pytrace=False)
            results.append(result)
        self._repeats = results
        self._inputs = _SearchInputs(create_model=create_model, data=data, epochs=epochs, batch_size=batch_size,
                                     trials_per_worker=options.get("trials_per_worker"), threads=options["threads"])
        return results[0]

    def _fail_before_search_if_doomed(self, *, data, space, epochs: int, batch_size: int, x0, n_initial_points,
                                      options: dict[str, Any]) -> None:
        """Fail at once when the check could only fail whatever the search finds.

        No baseline, an unusable one, one made with another budget, space or validation data, or
        tolerances under which not even a score of 0 fails: the search would change none of these,
        so its minutes are not spent. `check` judges the same again for what only the search tells
        (the batch size an external cluster chose).
        """
        from harness.data.dataset import Dataset
        from harness.errors import InputError
        from harness.search import planned_budget

        trials_per_batch = options.get("trials_per_batch")
        if not isinstance(data, Dataset) or not isinstance(trials_per_batch, int):  # None: one per worker, known later
            return
        try:
            budget, space_fingerprint = planned_budget(
                space=space, n_calls=self.settings.n_calls, epochs=epochs, batch_size=batch_size, x0=x0,
                n_initial_points=n_initial_points, trials_per_batch=trials_per_batch,
                **{name: options[name] for name in PLANNED_BUDGET_OPTIONS if name in options})
        except InputError:
            return  # run_search reports bad input in its own words
        baseline, verdict = self._comparable_baseline(
            best=None, budget=budget.to_json(), validation_fingerprint=data.describe()["validation_fingerprint"],
            space_fingerprint=space_fingerprint)
        if verdict is None:
            tolerance = self.tolerance
            verdict = unfailable_verdict(
                replay_bound=tolerance.floor,  # the real bound is at least this
                replay_baseline=baseline.replay_mean,
                search_bound=allowed_drop(stderr=baseline.std, k=tolerance.k, floor=tolerance.search_floor),
                search_baseline=baseline.value, location=self._display(self.baseline_path),
                update_command=self.update_command())
        if verdict is not None:
            self._fail(verdict, None)

    def _comparable_baseline(self, *, best: float | None, budget: dict[str, Any], validation_fingerprint: str,
                             space_fingerprint: str):
        """(this test's baseline, None), or (None, the verdict that fails the check: missing, unusable, not comparable)."""
        location = self._display(self.baseline_path)
        try:
            baseline = read_baseline(self.baseline_path)
            if baseline is not None and \
                    (baseline.test, baseline.environment_key) != (self.nodeid, self.baseline_environment):
                raise BaselineError(f"it belongs to {baseline.test!r} in {baseline.environment_key}, not to this "
                                    f"test in {self.baseline_environment}")
        except BaselineError as error:
            return None, unusable_verdict(best=best, location=location, problem=str(error),
                                          update_command=self.update_command())
        if baseline is None:
            # (this environment is never among them: its file is the one just found missing)
            elsewhere = [] if self._across_environments else recorded_environments(self.settings.baselines_dir,
                                                                                  self.nodeid)
            return None, new_verdict(best=best, environment_key=self.baseline_environment,
                                     update_command=self.update_command(), recorded_elsewhere=elsewhere)
        problems = comparability_problems(
            baseline_budget=baseline.budget, budget=budget,
            baseline_data=baseline.data.get("validation_fingerprint"), data=validation_fingerprint,
            baseline_space=baseline.space_fingerprint, space=space_fingerprint)
        if problems:
            return None, not_comparable_verdict(
                best=best, location=location, problems=problems, baseline_calls=baseline.budget.get("n_calls"),
                n_calls=budget["n_calls"], update_command=self.update_command())
        return baseline, None

    def _start_replay_beside_search(self, *, create_model, data, epochs: int, batch_size: int, threads: int | None):
        """The baseline's replay in a worker process, running while the search trains; None if it cannot
        or should not (no core to spare for it).

        A baseline that is missing, unusable or (as the check will find) not comparable leaves the
        replay to `check`, which then reports why; so does a `create_model` a worker cannot import.
        """
        from harness.errors import InputError
        from harness.replay import ReplayConfig, ReplayInBackground
        from harness.trial_runner import worker_problem

        if not a_core_is_free_for_the_replay():
            return None
        try:
            baseline = read_baseline(self.baseline_path)
        except BaselineError:
            return None
        if baseline is None or worker_problem(create_model) is not None:
            return None
        configs = [ReplayConfig(params=dict(record.params), seeds=record.seeds) for record in baseline.replay]
        try:
            return ReplayInBackground(create_model=create_model, data=data, configs=configs, epochs=epochs,
                                      batch_size=batch_size, threads=threads)
        except (InputError, OSError, ValueError):
            return None

    def close(self) -> None:
        """At the end of the test: stop a replay the check did not wait for (the test failed before it)."""
        if self._early_replay is not None:
            self._early_replay.cancel()
            self._early_replay = None

    def _timed(self, benchmark, search, *, epochs: int, batch_size: int):
        from harness.environment import environment
        from pytest_mlptune.trial_timing import search_with_timed_trials

        result = search_with_timed_trials(benchmark, lambda execute: search(trial_executor=execute),
                                          rounds=self.settings.n_calls)
        versions = environment()
        benchmark.extra_info.update({
            "mlptune": "each round is one trial of the search (training and validation, not the optimizer)",
            "n_calls": self.settings.n_calls, "seed": self.settings.seed, "epochs": epochs, "batch_size": batch_size,
            "tensorflow": versions.get("tensorflow"), "keras": versions.get("keras"),
            "best_val_accuracy": result.best.score if result.best else None,
            "trial_seconds": [round(t.seconds, 3) for t in result.trials],
        })
        return result

    def check(self, result) -> Verdict:
        """Compare `result` with this test's baseline (or write it under --update-baselines).

        Both signals are judged: the baseline's best configurations are retrained with its seeds
        (the replay) and the search's best is compared with the baseline's.
        """
        if self._inputs is None or not self._repeats or result is not self._repeats[0]:
            pytest.fail("mlptune.check() takes the result that mlptune.search() returned in the same test",
                        pytrace=False)
        if self._check_called:
            pytest.fail("mlptune.check() runs once per test (one search, one verdict); remove the second call",
                        pytrace=False)
        self._check_called = True
        best = float(result.best.score)
        location = self._display(self.baseline_path)
        if self.settings.update:
            return self._update(result, best=best, location=location)
        baseline, verdict = self._comparable_baseline(
            best=best, budget=result.budget.to_json(), validation_fingerprint=result.data["validation_fingerprint"],
            space_fingerprint=result.space_fingerprint)
        if verdict is not None:
            return self._fail(verdict, result)
        waited = time.perf_counter()
        replayed = self._replay([(record.params, record.seeds) for record in baseline.replay])
        waited = time.perf_counter() - waited  # the replay's own time when it ran beside the search is not ours
        tolerance = self.tolerance
        verdict = judge(
            search=compare_search(best=best, baseline=baseline.value, std=baseline.std, k=tolerance.k,
                                  floor=tolerance.search_floor),
            replay=compare_replay(baseline_scores=baseline.replay_scores, new_scores=replayed.scores,
                                  k=tolerance.k, floor=tolerance.floor, failed=replayed.failed,
                                  first_error=replayed.errors[0] if replayed.errors else None),
            location=location, update_command=self.update_command(),
            training_data_changed=baseline.data.get("train_fingerprint") != result.data.get("train_fingerprint"))
        if not verdict.status.passed:  # regressed, or a check that could not have failed
            return self._fail(verdict, result, seconds=waited)
        self.checked = True
        return self._record(verdict, result, seconds=waited)

    def _update(self, result, *, best: float, location: str) -> Verdict:
        from harness.replay import plan_replay

        results = self._repeats
        plan = plan_replay(result.trials, search_seed=result.seed, configs=REPLAY_CONFIGS,
                           seeds=max(REPLAY_SEEDS, len(results)))
        replayed = self._replay([(config.params, config.seeds) for config in plan])
        if replayed.failed:
            pytest.fail(f"{replayed.failed} retraining{'s' if replayed.failed != 1 else ''} of the best configurations "
                        f"failed, so no baseline was written (first: {replayed.errors[0]})", pytrace=False)
        records = [ReplayRecord(params=config.params, seeds=config.seeds, scores=scores)
                   for config, scores in zip(plan, replayed.scores)]
        baseline = baseline_from_results(test=self.nodeid, environment_key=self.environment_key, results=results,
                                         replay=records)
        write_baseline(self.baseline_path, baseline)
        self.checked = True
        return self._record(updated_verdict(best=best, location=location), result, seconds=replayed.seconds,
                            baseline=baseline)

    def _replay(self, configs):
        from harness.replay import ReplayConfig, run_replay

        inputs = self._inputs
        wanted = tuple(ReplayConfig(params=dict(params), seeds=tuple(seeds)) for params, seeds in configs)
        early, self._early_replay = self._early_replay, None
        if early is not None and early.configs == wanted:
            self.last_replay = early.result()
            self._replayed_beside = True
            return self.last_replay
        if early is not None:
            early.cancel()
        self.last_replay = run_replay(
            create_model=inputs.create_model, data=inputs.data, configs=wanted,
            epochs=inputs.epochs, batch_size=inputs.batch_size, trials_per_worker=inputs.trials_per_worker,
            threads=inputs.threads)
        self._replayed_beside = False
        return self.last_replay

    def _fail(self, verdict: Verdict, result, *, seconds: float = 0.0) -> Verdict:
        verdict = self._record(verdict, result, seconds=seconds)
        pytest.fail(verdict.message, pytrace=False)

    @property
    def _across_environments(self) -> bool:
        return self.baseline_environment != self.environment_key

    def update_command(self) -> str:
        parts = ["mlptune", "baselines", "update", self.nodeid, "--n-calls", str(self.settings.n_calls)]
        if self.settings.seed:
            parts += ["--tune-seed", str(self.settings.seed)]
        if self.settings.threads != DEFAULT_THREADS:  # the baseline must be made with the pool it is checked with
            parts += ["--tune-threads", str(self.settings.threads or 0)]
        # It records this environment's baseline, which only a check without --baselines-from reads.
        return shlex.join(parts) + (", then check without --baselines-from" if self._across_environments else "")

    def _display(self, path: Path) -> str:
        try:
            return str(path.relative_to(Path.cwd()))
        except ValueError:
            return str(path)

    def _record(self, verdict: Verdict, result, *, seconds: float, baseline=None) -> Verdict:
        """Hand the verdict's row to the session's table and to --junitxml; returns the verdict as reported."""
        if self._across_environments:  # a reader of the failure must see that two environments were compared
            verdict = dataclasses.replace(
                verdict, message=f"judged against environment {self.baseline_environment}: {verdict.message}")
        search, replay = verdict.search, verdict.replay
        row = {
            "test": self.nodeid, "status": verdict.status.value, "best": verdict.best,
            "baseline": search.baseline if search else (baseline.value if baseline else None),
            "search_bound": search.bound if search else None,
            "replay_delta": replay.delta if replay else None, "replay_stderr": replay.stderr if replay else None,
            "replay_bound": replay.bound if replay else None,
            "replay_shape": f"{replay.configs}x{replay.seeds}" if replay else None,
            "replay_beside_search": self._replayed_beside if replay else None,
            "calls": len(result.trials) if result else 0,  # None: failed before the search
            "seconds": round((result.wall_seconds if result else 0.0) + seconds, 1),
            "message": verdict.message,
        }
        # user_properties travel with the report (to the xdist controller, and into --junitxml)
        self._node.user_properties.append((ROW_PROPERTY, json.dumps(row)))
        self._node.user_properties.extend(junit_properties(verdict))
        return verdict


def junit_properties(verdict: Verdict) -> list[tuple[str, str]]:
    """The numbers a CI dashboard shows for a tuning test, one JUnit property each (absent when not measured)."""
    search, replay = verdict.search, verdict.replay
    values = {
        "mlptune_verdict": verdict.status.value,
        "mlptune_best": verdict.best,
        "mlptune_baseline_best": search.baseline if search else None,
        "mlptune_delta": search.delta if search else None,
        "mlptune_bound": search.bound if search else None,
        "mlptune_replay_delta": replay.delta if replay else None,
        "mlptune_replay_bound": replay.bound if replay else None,
    }
    return [(name, value if isinstance(value, str) else f"{value:.4f}")
            for name, value in values.items() if value is not None]
