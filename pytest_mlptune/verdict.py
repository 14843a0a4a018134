"""The verdict of a tuning test: two signals, a one-sided rule for each, and the words that report them.

- The replay: the baseline's best few configurations, retrained under the current code with the
  training seeds the baseline recorded, compared seed by seed. The same hyperparameters on both
  sides remove the search-path noise; what is left is training noise, which the spread of the
  paired differences measures. This is the signal that catches a model that got worse.
- The search: the best score of this run's search against the baseline's. It moves with the
  search's path (any change to the random streams sends the search elsewhere), so its bound is
  wide; it catches a model that no longer tunes at all.

Everything here is pure: no pytest, no files, no TensorFlow. The fixture gathers the inputs and
reports what `judge` and its siblings return.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from harness.threads import DEFAULT_THREADS


class Status(str, Enum):
    """How a tuning test ended."""

    OK = "ok"
    IMPROVED = "improved"
    REGRESSED = "regressed"
    NEW = "new"
    NOT_COMPARABLE = "not-comparable"
    UPDATED = "updated"
    ERROR = "error"

    @property
    def passed(self) -> bool:
        return self in (Status.OK, Status.IMPROVED, Status.UPDATED)

    def __str__(self) -> str:
        return self.value


def allowed_drop(*, stderr: float, k: float, floor: float) -> float:
    """How far below the baseline a signal may fall and still pass: max(k * stderr, floor)."""
    return max(k * stderr, floor)


def one_sided(*, delta: float, bound: float) -> Status:
    """Regressed only when delta < -bound; a gain beyond the same bound is reported as improved."""
    if delta < -bound:
        return Status.REGRESSED
    if delta > bound:
        return Status.IMPROVED
    return Status.OK


@dataclass(frozen=True, slots=True)
class SearchComparison:
    """This run's best score against the baseline's (the mean of its searches when it has several)."""

    best: float
    baseline: float
    bound: float

    @property
    def delta(self) -> float:
        return self.best - self.baseline

    @property
    def status(self) -> Status:
        return one_sided(delta=self.delta, bound=self.bound)

    def describe(self) -> str:
        return (f"search best {self.best:.4f} vs baseline {self.baseline:.4f} ({self.delta:+.4f}, "
                f"bound {self.bound:.4f}): {self.status}")


@dataclass(frozen=True, slots=True)
class ReplayComparison:
    """The mean paired difference of the replayed configurations, with its standard error."""

    delta: float
    stderr: float
    bound: float
    configs: int
    seeds: int
    baseline_mean: float  # the baseline's mean replay score: no drop can exceed it
    failed: int = 0
    first_error: str | None = None  # why the first failed trial failed, so a crash is not read as a worse model

    @property
    def status(self) -> Status:
        return one_sided(delta=self.delta, bound=self.bound)

    def describe(self) -> str:
        failed = f", {self.failed} failed trial{'s' if self.failed != 1 else ''} scored 0" if self.failed else ""
        if self.failed and self.first_error:
            failed += f", the first: {self.first_error}"
        return (f"replay {self.delta:+.4f} ± {self.stderr:.4f} over {self.configs} config"
                f"{'s' if self.configs != 1 else ''} x {self.seeds} seed{'s' if self.seeds != 1 else ''}"
                f" (bound {self.bound:.4f}{failed}): {self.status}")


def compare_search(*, best: float, baseline: float, std: float, k: float, floor: float) -> SearchComparison:
    return SearchComparison(best=best, baseline=baseline, bound=allowed_drop(stderr=std, k=k, floor=floor))


def replay_stderr(*, baseline_scores: Sequence[Sequence[float]], new_scores: Sequence[Sequence[float]]) -> float:
    """The standard error of the mean paired difference, from the spread of the differences themselves.

    Each (configuration, seed) gives one paired difference, new - baseline. With two or more seeds
    per configuration the noise is the spread of those differences around their configuration's
    mean, pooled over configurations (K (R - 1) degrees of freedom), so a change that hurts one
    configuration more than another does not count as noise. A change that keeps most of the random
    streams (a data bug: same initial weights, same batch order) gives correlated pairs and a small
    standard error; one that reshuffles every stream gives about twice one score's variance. With
    one seed, only the spread of the per-configuration differences is left.
    """
    differences = [[new - base for base, new in zip(base_row, new_row)]
                   for base_row, new_row in zip(baseline_scores, new_scores)]
    configs, seeds = len(differences), len(differences[0])
    if seeds >= 2:
        squares = sum((d - statistics.fmean(row)) ** 2 for row in differences for d in row)
        return math.sqrt(squares / (configs * (seeds - 1))) / math.sqrt(configs * seeds)
    if configs >= 2:
        return statistics.stdev(row[0] for row in differences) / math.sqrt(configs)
    return 0.0


def compare_replay(*, baseline_scores: Sequence[Sequence[float]], new_scores: Sequence[Sequence[float]],
                   k: float, floor: float, failed: int = 0, first_error: str | None = None) -> ReplayComparison:
    """Configuration by configuration: mean over configurations of (new mean - baseline mean)."""
    if not baseline_scores or len(baseline_scores) != len(new_scores) \
            or any(len(base) != len(new) or not base for base, new in zip(baseline_scores, new_scores)) \
            or len({len(row) for row in baseline_scores}) != 1:
        raise ValueError("replay scores need the same configurations and seeds on both sides")
    delta = statistics.fmean(statistics.fmean(new) - statistics.fmean(base)
                             for base, new in zip(baseline_scores, new_scores))
    stderr = replay_stderr(baseline_scores=baseline_scores, new_scores=new_scores)
    return ReplayComparison(delta=delta, stderr=stderr, bound=allowed_drop(stderr=stderr, k=k, floor=floor),
                            configs=len(baseline_scores), seeds=len(baseline_scores[0]), failed=failed,
                            first_error=first_error,
                            baseline_mean=statistics.fmean(score for row in baseline_scores for score in row))


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome of `mlptune.check` for one test, with the comparisons it rests on."""

    status: Status
    message: str
    best: float | None = None
    search: SearchComparison | None = None
    replay: ReplayComparison | None = None


def judge(*, search: SearchComparison, replay: ReplayComparison, location: str, update_command: str,
          training_data_changed: bool) -> Verdict:
    """Regressed when either signal regressed; improved when one improved and none regressed.

    A signal whose allowed drop is as large as its baseline accuracy could not fail even on a
    model that scores 0: that is an error (a tolerance set too wide, or a baseline too noisy to
    gate on), never a pass.
    """
    cannot_fail = unfailable_verdict(replay_bound=replay.bound, replay_baseline=replay.baseline_mean,
                                     search_bound=search.bound, search_baseline=search.baseline, location=location,
                                     update_command=update_command)
    if cannot_fail is not None:
        return Verdict(status=cannot_fail.status, message=cannot_fail.message, best=search.best, search=search,
                       replay=replay)
    statuses = (replay.status, search.status)
    if Status.REGRESSED in statuses:
        status = Status.REGRESSED
    elif Status.IMPROVED in statuses:
        status = Status.IMPROVED
    else:
        status = Status.OK
    signals = f"{replay.describe()}; {search.describe()}"
    if status is Status.REGRESSED:
        changed = "; the training data changed since the baseline" if training_data_changed else ""
        message = (f"tuning regressed: {signals}; baseline {location}{changed}; "
                   f"if intended, update with: {update_command}")
    elif status is Status.IMPROVED:
        message = f"tuning improved: {signals}; consider updating the baseline"
    else:
        message = signals
    return Verdict(status=status, message=message, best=search.best, search=search, replay=replay)


def unfailable_verdict(*, replay_bound: float, replay_baseline: float, search_bound: float, search_baseline: float,
                       location: str, update_command: str) -> Verdict | None:
    """An error when a signal's allowed drop is as large as its baseline (no score could fail it), else None.

    Before the search the replay's bound is not known yet; its floor, a lower bound of it, stands in.
    """
    vacuous = [f"the {name} may drop {bound:.4f} from a baseline of {baseline:.4f}"
               for name, bound, baseline in (("replay", replay_bound, replay_baseline),
                                             ("search's best", search_bound, search_baseline))
               if bound >= baseline]
    if not vacuous:
        return None
    return Verdict(status=Status.ERROR,
                   message=f"this check cannot fail: {'; '.join(vacuous)}, so even a score of 0 would pass. "
                           f"Lower k / floor / search_floor, or re-record a less noisy baseline {location} with: "
                           f"{update_command}")


def new_verdict(*, best: float | None = None, environment_key: str, update_command: str,
                recorded_elsewhere: Sequence[str] = ()) -> Verdict:
    """No baseline yet; `best` is None when this is found before the search (which then does not run).

    `recorded_elsewhere`: other environments that have this test's baseline (after a TensorFlow
    upgrade, the old one), offered before recording: a new baseline would accept whatever this
    environment does.
    """
    found = f" (best {best:.4f})" if best is not None else ""
    fix = f"create it with: {update_command}"
    if recorded_elsewhere:
        last = recorded_elsewhere[-1]
        where = (f"it has one in {last}" if len(recorded_elsewhere) == 1 else
                 f"it has baselines in {len(recorded_elsewhere)} other environments, the last {last}")
        fix = f"{where}: judge against it with --baselines-from={last}, or create one here with: {update_command}"
    return Verdict(status=Status.NEW, best=best,
                   message=f"no baseline for this test in environment {environment_key}{found}; {fix}")


def unusable_verdict(*, best: float | None = None, location: str, problem: str, update_command: str) -> Verdict:
    return Verdict(status=Status.ERROR, best=best,
                   message=f"baseline {location} is unusable: {problem}; regenerate it with: {update_command}")


def updated_verdict(*, best: float, location: str) -> Verdict:
    return Verdict(status=Status.UPDATED, best=best, message=f"baseline written to {location}")


def not_comparable_verdict(*, best: float | None = None, location: str, problems: Sequence[str], baseline_calls: Any,
                           n_calls: int, update_command: str) -> Verdict:
    rerun = (f"Run with the baseline's budget (--n-calls {baseline_calls}), or after" if baseline_calls != n_calls
             else "After")
    return Verdict(status=Status.NOT_COMPARABLE, best=best,
                   message=f"baseline {location} is not comparable: {'; '.join(problems)}. "
                           f"{rerun} an intentional change refresh it with: {update_command}")


# A budget written before the key existed had this value; baselines from before the pool was pinned
# were recorded on two-core machines, whose pool TensorFlow sized at two.
BUDGET_DEFAULTS = {"trials_per_batch": 1, "threads": DEFAULT_THREADS}


def comparability_problems(*, baseline_budget: dict[str, Any], budget: dict[str, Any],
                           baseline_data: str, data: str, baseline_space: str, space: str) -> list[str]:
    """What differs between how the baseline was made and this run (empty when comparable)."""
    baseline_budget, budget = {**BUDGET_DEFAULTS, **baseline_budget}, {**BUDGET_DEFAULTS, **budget}
    problems = []
    for key in sorted(set(baseline_budget) | set(budget)):
        if baseline_budget.get(key) != budget.get(key):
            problems.append(f"{key} {baseline_budget.get(key, '(not recorded)')} in the baseline, "
                            f"{budget.get(key, '(not recorded)')} now")
    if baseline_data != data:
        problems.append(f"validation data fingerprint {baseline_data} in the baseline, {data} now")
    if baseline_space != space:
        problems.append(f"search space fingerprint {baseline_space} in the baseline, {space} now")
    return problems
