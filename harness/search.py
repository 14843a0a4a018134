"""The search: scikit-optimize's Gaussian process with expected improvement, as an ask/tell loop."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.argument_types import require_int, require_seconds
from harness.data.dataset import Dataset
from harness.environment import environment
from harness.errors import InputError
from harness.initial_design import check_initial_design, default_initial_points
from harness.model_check import best_model_check
from harness.objective import check_objective_scale, objective
from harness.pruning import PercentileStop
from harness.run_directory import InMemoryRun, RunDirectory, file_sha256
from harness.space import (
    DEFAULT_POINT,
    REFERENCE_SPACE,
    check_point_in_space,
    check_space_fits_create_model,
    describe_dimension,
    point_to_params,
    space_fingerprint,
    validate_space,
)
from harness.threads import DEFAULT_THREADS, check_threads
from harness.trial import Trial, trial_log_name, trial_seed, write_hparams_config
from harness.trial_runner import BatchRunner, TrialRunner, make_runner

if TYPE_CHECKING:
    from harness.dask_runner import ClusterAddress

RESULTS_SCHEMA = 1


@dataclass(frozen=True, slots=True)
class SearchBudget:
    """Everything that must match for two searches' best scores to be comparable (with the data)."""

    n_calls: int
    n_initial_points: int
    acq_func: str
    acq_optimizer: str
    epochs: int
    batch_size: int
    trials_per_batch: int = 1
    prune: PercentileStop | None = None
    initial_design: str = "random"
    threads: int | None = DEFAULT_THREADS  # TensorFlow's intra-op pool; None: one thread per core
    objective_scale: str = "accuracy"  # what the Gaussian process is told (harness.objective)

    def to_json(self) -> dict[str, Any]:
        budget = {"n_calls": self.n_calls, "n_initial_points": self.n_initial_points, "acq_func": self.acq_func,
                  "acq_optimizer": self.acq_optimizer, "epochs": self.epochs, "batch_size": self.batch_size}
        if self.trials_per_batch != 1:  # absent means 1: baselines and runs from before batches stay valid
            budget["trials_per_batch"] = self.trials_per_batch
        if self.prune is not None:  # absent means no pruning, as before the rule existed
            budget["prune"] = self.prune.to_json()
        if self.initial_design != "random":  # absent means random, as before there was a choice
            budget["initial_design"] = self.initial_design
        if self.threads != DEFAULT_THREADS:  # absent means 2: the pool every earlier baseline and run had
            budget["threads"] = self.threads  # on the two-core machines they were recorded on (null: one per core)
        if self.objective_scale != "accuracy":  # absent means -accuracy, the blog's, as before there was a choice
            budget["objective_scale"] = self.objective_scale
        return budget


@dataclass(frozen=True, slots=True)
class SearchResult:
    """Every trial of one search, the best one, and what the result depends on."""

    trials: tuple[Trial, ...]
    budget: SearchBudget
    seed: int
    data: dict[str, Any]
    space: list[dict[str, Any]]
    space_fingerprint: str
    environment: dict[str, Any]
    optimizer_seconds: float
    training_seconds: float
    wall_seconds: float
    best_model_path: str | None = None  # the best trial's model, saved by a search with a run folder
    stopped_early: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def best(self) -> Trial | None:
        """The full-budget trial with the highest score (the earliest on ties); None if none finished."""
        ok = [t for t in self.trials if t.ok]
        if not ok:
            return None
        return max(ok, key=lambda t: (t.score, -t.index))

    def sorted_trials(self) -> list[Trial]:
        """Trials from best to worst score, pruned ones after them, failed ones last (the blog's sorted(zip(...)))."""
        return sorted(self.trials, key=lambda t: (t.pruned, t.failed, -(t.score or 0.0), t.index))

    def to_json(self) -> dict[str, Any]:
        best = self.best
        return {
            "schema": RESULTS_SCHEMA,
            "budget": self.budget.to_json(),
            "seed": self.seed,
            "data": self.data,
            "space": self.space,
            "space_fingerprint": self.space_fingerprint,
            "environment": self.environment,
            "best": best.to_json() if best else None,
            "best_model_path": self.best_model_path,
            "trials": [t.to_json() for t in self.trials],
            "timing": {
                "optimizer_seconds": round(self.optimizer_seconds, 3),
                "training_seconds": round(self.training_seconds, 3),
                "wall_seconds": round(self.wall_seconds, 3),
            },
            "stopped_early": self.stopped_early,
            **self.extra,
        }


class SearchAborted(RuntimeError):
    """Too many consecutive trials failed; `result` holds what was done."""

    def __init__(self, message: str, result: SearchResult):
        super().__init__(message)
        self.result = result


def acquisition_optimizer(space: Sequence) -> str:
    """How the next point is picked: L-BFGS on expected improvement only when every dimension is real.

    skopt's L-BFGS climbs the relaxed space (a one-hot weight per category, integers as reals)
    and rounds its optimum afterwards. With a categorical dimension it can end on a mix of two
    categories whose rounded point has no expected improvement left: the blog protocol's 50-call
    run with seed 0 spent its last 13 calls on near-copies of such a point (EI 1e-77 there, 0.016
    at the best of 10,000 sampled points). Sampling scores real points only, so whatever it
    proposes is a point the search can train.
    """
    from skopt.space import Real

    return "lbfgs" if all(isinstance(dimension, Real) for dimension in space) else "sampling"


def make_optimizer(space: Sequence, *, n_initial_points: int, acq_func: str, seed: int, initial_design: str = "random"):
    """The optimizer `gp_minimize` builds, made explicit so the loop can ask and tell.

    The one departure from `gp_minimize` is the acquisition optimizer (see `acquisition_optimizer`);
    `initial_design` "random" draws the initial points as `gp_minimize` does, bit for bit.
    """
    import numpy as np
    from skopt import Optimizer
    from skopt.utils import cook_estimator, normalize_dimensions

    normalized = normalize_dimensions(list(space))
    rng = np.random.RandomState(seed)
    estimator = cook_estimator("GP", space=normalized, random_state=rng.randint(0, np.iinfo(np.int32).max),
                               noise="gaussian")
    return Optimizer(
        normalized, estimator, n_initial_points=n_initial_points, acq_func=acq_func,
        acq_optimizer=acquisition_optimizer(space), random_state=rng, model_queue_size=1,
        initial_point_generator=initial_design,
        acq_optimizer_kwargs={"n_points": 10000, "n_restarts_optimizer": 5, "n_jobs": 1},
        acq_func_kwargs={"xi": 0.01, "kappa": 1.96},
    )


def run_search(
    *,
    create_model: Callable[..., Any],
    data: Dataset,
    space: Sequence | None = None,
    n_calls: int = 10,
    seed: int = 0,
    epochs: int = 5,
    batch_size: int = 64,
    x0: Sequence | None = None,
    n_initial_points: int | None = None,
    acq_func: str = "EI",
    out_dir: str | Path | RunDirectory | None = None,
    tensorboard: bool = True,
    save_best: bool = True,
    score_best_model: bool = False,
    max_consecutive_failures: int = 3,
    trials_per_worker: int | None = None,
    trial_timeout: float | None = None,
    trials_per_batch: int | None = None,
    prune: PercentileStop | None = None,
    initial_design: str = "random",
    threads: int | None = DEFAULT_THREADS,
    objective_scale: str = "accuracy",
    workers: int | None = None,
    scheduler: str | None = None,
    scheduler_file: str | None = None,
    trial_executor: Callable[[Callable[[], tuple[Trial, Any]]], tuple[Trial, Any]] | None = None,
    resume_trials: Sequence[Trial] = (),
    on_trial: Callable[[Trial, SearchResult], None] | None = None,
) -> SearchResult:
    """Search `space` for the hyperparameters of `create_model` that maximise validation accuracy.

    `create_model` is called with the dimension names as keyword arguments (plain int, float,
    str) and must return a compiled Keras model with an accuracy metric. With the seed space
    and no `x0`, the blog's default point is the first call. With `out_dir`, the run writes
    `trials.jsonl` (one line per finished trial), `results.json`, `best_model.keras` (the best
    trial's model, replaced atomically) and `tensorboard/` (one run per trial): a path must not
    exist yet (it is created and locked for the run); an open `RunDirectory` is used as it is,
    and one opened with `RunDirectory.resume` also supplies the finished trials to replay.

    With `trials_per_worker` N, trials run in a child process replaced every N trials: memory
    Keras keeps per model is given back, and a trial that kills its process fails alone. The
    trials are the same as in-process ones; `create_model` must then be picklable. With
    `trial_timeout` (seconds, needs workers) a trial that runs longer is stopped and fails; which
    trials hit it depends on the machine's speed, so a search that hits it is no longer determined
    by its seed alone.

    `trial_executor`, when given, is called with a no-argument function that runs the next trial
    and returns what it returns; it lets a caller time or schedule trials (the pytest plugin
    times each one as a pytest-benchmark round). It must call the function exactly once.

    `score_best_model` loads the saved best model again at the end and scores it on the
    validation and test sets (`harness.model_check`), where the trials ran: in a trial worker the
    search's own process then needs no TensorFlow. The scores go into the result's
    `best_model_check` (and `results.json`); a model file whose SHA-256 is not the one its trial
    logged is not loaded (`{"sha256_matches": False}`).

    `resume_trials` replays finished trials through ask/tell instead of training them again,
    which gives the same later points as an uninterrupted run.

    `prune` (a `harness.pruning.PercentileStop`; `MedianStop` is the same class) stops a trial after a
    checked epoch when its validation accuracy is below a percentile (the median unless told) of the
    earlier trials' there; such a trial is "pruned", never the best, and the optimizer is told its
    score projected to the last epoch. The rule is part of the budget. Without it the search is what
    it was, bit for bit.

    `initial_design` "lhs" draws the initial points as a Latin hypercube instead of at random; it
    is part of the budget. `n_initial_points` (default: `default_initial_points`) counts the
    starting point too.

    `threads` is TensorFlow's intra-op pool size in every process that trains (default 2; None:
    TensorFlow's default of one per core). The pool changes how sums round, so it is part of the
    budget: with it fixed, a seed gives the same trials on any machine (see `harness.threads`).

    `objective_scale` is what the Gaussian process is told for a trial: "accuracy" (-accuracy,
    the blog's) or "log-error" (the log of the error rate, which keeps a diverged trial from
    dominating the fit; see `harness.objective`). It is part of the budget.

    `trials_per_batch` q > 1 asks q points at once (skopt's constant liar), runs them and tells
    them together. q is part of the search's identity (recorded in its budget); the same seed
    and q give the same trials however they are run. `workers` N trains each batch's trials in
    parallel on an embedded Dask LocalCluster of N worker processes; `scheduler`
    (tcp://HOST:PORT) or `scheduler_file` on an existing Dask cluster. q then defaults to the
    number of workers (otherwise 1). On Dask each worker trains in a trial process of its own,
    replaced every `trials_per_worker` trials (default
    `harness.trial_runner.DEFAULT_TRIALS_PER_WORKER`, 25), so `create_model` must be importable
    by name there too.
    """
    space = validate_space(REFERENCE_SPACE if space is None else space)
    check_space_fits_create_model(space, create_model)
    require_int("n_calls", n_calls, fix="give --n-calls 1 or more")
    require_int("epochs", epochs, fix="give --epochs 1 or more")
    require_int("batch_size", batch_size, fix="give --batch-size 1 or more")
    require_int("max_consecutive_failures", max_consecutive_failures, fix="give 1 or more")
    require_int("seed", seed, minimum=0)
    if trials_per_batch is not None:
        require_int("trials_per_batch", trials_per_batch, fix="give --trials-per-batch 1 or more")
    if trials_per_worker is not None:
        require_int("trials_per_worker", trials_per_worker, fix="give 1 or more, or None to train in this process")
    if trial_timeout is not None:
        require_seconds("trial_timeout", trial_timeout)
    if prune is not None and not isinstance(prune, PercentileStop):
        raise InputError(f"prune must be a harness.pruning.PercentileStop (or MedianStop) or None, "
                         f"got {type(prune).__name__}")
    if acq_func not in ("EI", "PI", "LCB", "gp_hedge"):
        raise InputError(f"acq_func must be EI, PI, LCB or gp_hedge, got {acq_func!r}")
    check_initial_design(initial_design)
    check_threads(threads)
    check_objective_scale(objective_scale)
    from harness.dask_runner import ClusterAddress

    address = ClusterAddress(workers=workers, scheduler=scheduler, scheduler_file=scheduler_file)
    address.check()
    if address.given or trials_per_worker is not None:
        _check_picklable(create_model)  # a worker process imports it by name
    fingerprint = space_fingerprint(space)
    x0, n_initial_points = _initial_points(space, x0=x0, n_initial_points=n_initial_points, n_calls=n_calls)

    if isinstance(out_dir, RunDirectory):
        run, owned = out_dir, False
        resume_trials = resume_trials or run.trials
    elif out_dir is not None:
        if resume_trials:
            raise InputError("resume_trials with a new out_dir would leave the earlier trials out of its log; open the "
                             "earlier run with RunDirectory.resume(path) and pass that as out_dir")
        run, owned = RunDirectory.create(out_dir, tensorboard=tensorboard), True
    else:
        run, owned = InMemoryRun(), False
    request = _SearchRequest(
        create_model=create_model, data=data, space=list(space), fingerprint=fingerprint, x0=x0, n_calls=n_calls,
        n_initial_points=n_initial_points, acq_func=acq_func, seed=seed, epochs=epochs, batch_size=batch_size,
        trials_per_batch=trials_per_batch, prune=prune, initial_design=initial_design, threads=threads,
        objective_scale=objective_scale, tensorboard=tensorboard, save_best=save_best,
        score_best_model=score_best_model, max_consecutive_failures=max_consecutive_failures, trials_per_worker=trials_per_worker,
        trial_timeout=trial_timeout, address=address)
    try:
        return _search_with_run(request, run=run, resume_trials=resume_trials, on_trial=on_trial,
                                execute=trial_executor or _call)
    finally:
        if owned:
            run.close()


def _initial_points(space: list, *, x0: Sequence | None, n_initial_points: int | None,
                    n_calls: int) -> tuple[list | None, int]:
    """The starting point (the blog's default point in the reference space) and the initial points."""
    if x0 is None and space_fingerprint(space) == space_fingerprint(REFERENCE_SPACE):
        x0 = DEFAULT_POINT
    if x0 is not None:
        x0 = list(x0)
        check_point_in_space(space, x0)
    if n_initial_points is None:
        n_initial_points = default_initial_points(n_calls, has_x0=x0 is not None)
    elif require_int("n_initial_points", n_initial_points) > n_calls:
        raise InputError(
            f"n_initial_points ({n_initial_points}) exceeds n_calls ({n_calls}): the Gaussian process would "
            "never steer; raise --n-calls or lower n_initial_points"
        )
    return x0, n_initial_points


def planned_budget(*, space: Sequence | None = None, n_calls: int, epochs: int, batch_size: int,
                   x0: Sequence | None = None, n_initial_points: int | None = None, acq_func: str = "EI",
                   trials_per_batch: int = 1, prune: PercentileStop | None = None,
                   initial_design: str = "random", threads: int | None = DEFAULT_THREADS,
                   objective_scale: str = "accuracy") -> tuple[SearchBudget, str]:
    """The budget and space fingerprint `run_search` records for these arguments, before any trial.

    The plugin compares them with a baseline first, so a check that could only fail (another
    budget or space) fails at once instead of after the search. Raises InputError as run_search does.
    """
    space = validate_space(REFERENCE_SPACE if space is None else space)
    check_initial_design(initial_design)
    check_threads(threads)
    check_objective_scale(objective_scale)
    _, n_initial_points = _initial_points(space, x0=x0, n_initial_points=n_initial_points, n_calls=n_calls)
    budget = _budget(space=space, n_calls=n_calls, n_initial_points=n_initial_points, acq_func=acq_func, epochs=epochs,
                     batch_size=batch_size, trials_per_batch=trials_per_batch, prune=prune,
                     initial_design=initial_design, threads=threads, objective_scale=objective_scale)
    return budget, space_fingerprint(space)


def _budget(*, space: Sequence, trials_per_batch: int, **settled: Any) -> SearchBudget:
    """The one place a budget is made: `planned_budget` and the search itself must record the same."""
    return SearchBudget(acq_optimizer=acquisition_optimizer(space), trials_per_batch=trials_per_batch, **settled)


@dataclass(frozen=True, slots=True)
class _SearchRequest:
    """`run_search`'s arguments once checked and settled; what it writes to and who watches come apart."""

    create_model: Callable[..., Any]
    data: Dataset
    space: list
    fingerprint: str
    x0: list | None
    n_calls: int
    n_initial_points: int
    acq_func: str
    seed: int
    epochs: int
    batch_size: int
    trials_per_batch: int | None  # None: one per worker
    prune: PercentileStop | None
    initial_design: str
    threads: int | None
    objective_scale: str
    tensorboard: bool
    save_best: bool
    score_best_model: bool
    max_consecutive_failures: int
    trials_per_worker: int | None
    trial_timeout: float | None
    address: ClusterAddress


def _search_with_run(request: _SearchRequest, *, run: RunDirectory | InMemoryRun, resume_trials: Sequence[Trial],
                     on_trial: Callable[[Trial, SearchResult], None] | None,
                     execute: Callable[[Callable[[], Any]], Any]) -> SearchResult:
    tensorboard_dir = run.tensorboard_dir if request.tensorboard else None
    if tensorboard_dir is not None:
        write_hparams_config(tensorboard_dir, request.space)

    training = dict(create_model=request.create_model, data=request.data, epochs=request.epochs,
                    batch_size=request.batch_size, trials_per_worker=request.trials_per_worker,
                    trial_timeout=request.trial_timeout, threads=request.threads)
    if request.address.given:
        from harness.dask_runner import DaskRunner

        runner = DaskRunner(address=request.address, **training)
    else:
        runner = make_runner(**training)
    trials_per_batch = request.trials_per_batch if request.trials_per_batch is not None else getattr(runner, "workers", 1)
    budget = _budget(space=request.space, n_calls=request.n_calls, n_initial_points=request.n_initial_points,
                     acq_func=request.acq_func, epochs=request.epochs, batch_size=request.batch_size,
                     trials_per_batch=trials_per_batch, prune=request.prune, initial_design=request.initial_design,
                     threads=request.threads, objective_scale=request.objective_scale)
    base = dict(budget=budget, seed=request.seed, data=request.data.describe(),
                space=[describe_dimension(d) for d in request.space], space_fingerprint=request.fingerprint,
                environment=environment())
    optimizer = make_optimizer(request.space, n_initial_points=request.n_initial_points,
                               acq_func=request.acq_func, seed=request.seed, initial_design=request.initial_design)
    plan = _LoopPlan(request=request, budget=budget, tensorboard_dir=tensorboard_dir)
    try:
        result = _search_loop(plan, runner=runner, optimizer=optimizer, run=run, base=base,
                              resume_trials=resume_trials, on_trial=on_trial, execute=execute)
        if request.score_best_model:
            result = _with_best_model_check(result, runner=runner, run=run)
        return result
    finally:
        runner.close()


def _with_best_model_check(result: SearchResult, *, runner: TrialRunner | BatchRunner,
                           run: RunDirectory | InMemoryRun) -> SearchResult:
    """The result with its saved best model loaded again and scored by the runner (in its trial worker, if any)."""
    best, path = result.best, result.best_model_path
    if best is None or path is None:
        return result
    if best.model_sha256 and file_sha256(Path(path)) != best.model_sha256:
        check: dict[str, Any] = {"sha256_matches": False}  # changed after it was saved: never loaded
    else:
        check = best_model_check(runner.score_saved_model(Path(path)), best.score)
    result = replace(result, extra={**result.extra, "best_model_check": check})
    run.write_results(result.to_json())
    return result


@dataclass(frozen=True, slots=True)
class _LoopPlan:
    """The request, and what was settled from it once the runner was up: the budget and the log folder."""

    request: _SearchRequest
    budget: SearchBudget
    tensorboard_dir: Path | None


def batch_sizes(*, n_calls: int, trials_per_batch: int, n_initial_points: int) -> list[int]:
    """How many trials each synchronous batch holds: q, except where a batch would pass the initial points.

    Asked beyond the random initial points, the constant liar would fit its Gaussian process to
    lies alone (scikit-optimize issue 1011), so the batch that reaches them ends there.
    """
    sizes, start = [], 0
    while start < n_calls:
        size = min(trials_per_batch, n_calls - start)
        if start < n_initial_points:
            size = min(size, n_initial_points - start)
        sizes.append(size)
        start += size
    return sizes


def _ask(optimizer, count: int) -> list:
    """`count` points to evaluate: plain `ask()` for one (the serial path, bit for bit), else the
    constant liar (`ask(n_points=count)`, skopt's cl_min), which spreads the points of one batch."""
    return [optimizer.ask()] if count == 1 else list(optimizer.ask(n_points=count))


def _search_loop(plan: _LoopPlan, *, runner: TrialRunner | BatchRunner, optimizer, run: RunDirectory | InMemoryRun,
                 base: dict[str, Any], resume_trials: Sequence[Trial],
                 on_trial: Callable[[Trial, SearchResult], None] | None,
                 execute: Callable[[Callable[[], Any]], Any]) -> SearchResult:
    """Synchronous batches: ask q points, run them, log them in asked order, tell them together.

    With q = 1 this is the serial loop (ask, run, tell). The points of a batch depend only on the
    trials told before it, so the same seed and q give the same trials however the batch's trials
    are run; a resumed batch reruns only the trials its log is missing.
    """
    space, x0, seed, budget = plan.request.space, plan.request.x0, plan.request.seed, plan.budget
    n_calls, tensorboard_dir, prune = budget.n_calls, plan.tensorboard_dir, budget.prune
    trials: list[Trial] = []
    best_score: float | None = None
    optimizer_seconds = training_seconds = 0.0
    started = time.perf_counter()
    consecutive_failures = 0
    resume_trials = list(resume_trials)

    def snapshot(stopped_early: str | None = None) -> SearchResult:
        return SearchResult(trials=tuple(trials), optimizer_seconds=optimizer_seconds,
                            training_seconds=training_seconds, wall_seconds=time.perf_counter() - started,
                            best_model_path=run.best_model_path, stopped_early=stopped_early, **base)

    start = 0
    for size in batch_sizes(n_calls=n_calls, trials_per_batch=budget.trials_per_batch,
                            n_initial_points=optimizer.n_initial_points_):
        tick = time.perf_counter()
        if start == 0 and x0 is not None:
            points = [x0] + (_ask(optimizer, size - 1) if size > 1 else [])
        else:
            points = _ask(optimizer, size)
        optimizer_seconds += time.perf_counter() - tick
        batch: list[Trial] = []
        asked = [(index, point_to_params(space, point)) for index, point in enumerate(points, start=start)]
        for index, params in asked[:max(0, len(resume_trials) - start)]:
            if resume_trials[index].params != params:
                raise InputError(
                    f"cannot resume: trial {index} was run at {resume_trials[index].params} but the search now asks "
                    f"{params}; the code, seed or settings changed, start a new run"
                )
        # the prune rule's thresholds come from the trials told before this batch, like its points
        stop_below = prune.thresholds(trials, epochs=budget.epochs) if prune is not None else None
        jobs = [dict(params=params, index=index, seed=trial_seed(seed, index),
                     log_dir=tensorboard_dir / trial_log_name(index, params) if tensorboard_dir else None,
                     stop_below=stop_below)
                for index, params in asked if index >= len(resume_trials)]
        outcomes = _outcomes(runner, jobs, execute=execute, n_calls=n_calls, beat=best_score)
        for index, params in asked:
            if index < len(resume_trials):
                # the logged trial, with its params in the space's order (the log's JSON sorts keys)
                trial = replace(resume_trials[index], params=params)
            else:
                trial, model = next(outcomes)
                training_seconds += trial.seconds
                if trial.ok and (best_score is None or trial.score > best_score) and plan.request.save_best:
                    # Saved before the trial is logged, with the file's hash in the log line: a crash in
                    # between re-runs the trial on resume (the hash does not match), which rebuilds the
                    # same model, so the file always matches the best logged trial.
                    digest = run.save_best_model(model)
                    if digest is not None:
                        trial = replace(trial, model_sha256=digest)
                del model
                run.append_trial(trial)
            if trial.ok and (best_score is None or trial.score > best_score):
                best_score = trial.score
            batch.append(trial)
        tick = time.perf_counter()
        objectives = [objective(trial, trials, budget.objective_scale) for trial in batch]
        if size == 1:
            optimizer.tell(list(points[0]), objectives[0])
        else:
            optimizer.tell([list(point) for point in points], objectives)
        optimizer_seconds += time.perf_counter() - tick
        for trial in batch:
            trials.append(trial)
            consecutive_failures = consecutive_failures + 1 if trial.failed else 0
            result = snapshot()
            run.write_results(result.to_json())
            if on_trial is not None:
                on_trial(trial, result)
        start += size
        if consecutive_failures >= plan.request.max_consecutive_failures and start < n_calls:
            message = (f"{consecutive_failures} trials in a row failed (last: {trials[-1].error}); "
                       "fix the model or data, or raise max_consecutive_failures")
            result = snapshot(stopped_early=message)
            run.write_results(result.to_json())
            raise SearchAborted(message, result)

    result = snapshot()
    if isinstance(run, RunDirectory):
        problems = run.write_plots(optimizer.get_result(), result.trials, budget.objective_scale)
        if problems:
            result = replace(result, extra={"plot_problems": problems})
        run.write_results(result.to_json())
    return result


def _call(function: Callable[[], Any]) -> Any:
    return function()


def _outcomes(runner: TrialRunner | BatchRunner, jobs: list[dict[str, Any]], *, execute, n_calls: int, beat: float | None):
    """(trial, model) for each job, in order: all at once on a batch runner, else one by one as asked."""
    if isinstance(runner, BatchRunner) and jobs:
        yield from runner.run_batch(jobs, beat=beat)
        return
    for job in jobs:
        yield execute(functools.partial(runner.run, **job, more_trials=job["index"] + 1 < n_calls))


def _check_picklable(create_model: Callable[..., Any]) -> None:
    """The worker imports `create_model` by name: refuse what it could not import before any trial."""
    from harness.trial_runner import worker_problem

    problem = worker_problem(create_model)
    if problem:
        raise InputError(
            f"create_model cannot be sent to a trial worker process ({problem}); define it at module level in an "
            "importable module (a lambda or local function will not do), or run trials in this process"
        )
