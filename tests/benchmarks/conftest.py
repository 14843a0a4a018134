"""Benchmarks: each compares two things side by side in one run and reports their ratio.

Run with `make benchmarks` (pytest tests/benchmarks). Not part of the ordinary suite.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

import pytest


@dataclass(frozen=True, slots=True)
class Ratio:
    name: str
    value: float
    target: str
    met: bool
    detail: str


RATIOS: list[Ratio] = []


@pytest.fixture
def record_ratio(benchmark):
    def record(*, name: str, value: float, target: str, met: bool, detail: str) -> None:
        RATIOS.append(Ratio(name=name, value=value, target=target, met=met, detail=detail))
        benchmark.extra_info.update({"ratio": value, "target": target, "met": met, "detail": detail})

    return record


def interleaved_seconds(first, second, *, rounds: int) -> tuple[list[float], list[float]]:
    """Time two callables alternately, so background load hits both alike."""
    a, b = [], []
    for _ in range(rounds):
        for fn, sink in ((first, a), (second, b)):
            started = time.perf_counter()
            fn()
            sink.append(time.perf_counter() - started)
    return a, b


def median(values):
    return statistics.median(values)


def pytest_terminal_summary(terminalreporter):
    if not RATIOS:
        return
    terminalreporter.section("mlptune benchmark ratios")
    for ratio in RATIOS:
        verdict = "met" if ratio.met else "NOT MET"
        terminalreporter.write_line(f"{ratio.name}: {ratio.value:.3f} (target {ratio.target}, {verdict}) - {ratio.detail}")
