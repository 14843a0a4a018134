"""Comparing a search's best score with its baseline: the one-sided, noise-aware rule."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

OK, IMPROVED, REGRESSED, NEW, NOT_COMPARABLE, UPDATED = "ok", "improved", "regressed", "new", "not-comparable", "updated"
PASSING = frozenset({OK, IMPROVED, UPDATED})


def allowed_drop(*, std: float, k: float, floor: float) -> float:
    """How far below the baseline a best score may fall and still pass: max(k * std, floor)."""
    return max(k * std, floor)


def compare_scores(*, best: float, baseline: float, std: float, k: float, floor: float) -> str:
    """ok, improved or regressed. Fails only when best < baseline - max(k * std, floor).

    An improvement beyond the same margin is reported as improved and passes.
    """
    drop = allowed_drop(std=std, k=k, floor=floor)
    if best < baseline - drop:
        return REGRESSED
    if best > baseline + drop:
        return IMPROVED
    return OK


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome of `mlptune.check` for one test."""

    status: str
    best: float | None
    baseline: float | None
    bound: float | None
    message: str

    @property
    def passed(self) -> bool:
        return self.status in PASSING

    @property
    def delta(self) -> float | None:
        if self.best is None or self.baseline is None:
            return None
        return self.best - self.baseline


def comparability_problems(*, baseline_budget: dict[str, Any], budget: dict[str, Any],
                           baseline_data: str, data: str, baseline_space: str, space: str) -> list[str]:
    """What differs between how the baseline was made and this run (empty when comparable)."""
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
