"""Retraining fixed configurations with fixed seeds: the paired half of a tuning verdict.

A search's best score moves whenever anything changes its random streams, because the search
then takes another path. Retraining the *same* configurations with the *same* training seeds
under the new code removes that path noise: what is left is training noise, which a few seeds
measure. The seeds are drawn apart from the search's own trial seeds on purpose: a search's
top configurations were chosen because they scored high with their trial seeds, so those scores
are biased upwards, and a fresh retraining would look like a drop.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from harness.data.dataset import Dataset
from harness.threads import DEFAULT_THREADS

REPLAY_STREAM = 0x5EED  # keeps replay seeds apart from the trial seeds SeedSequence([seed, index]) gives
FAILED_SCORE = 0.0  # a replayed trial that fails counts as accuracy 0, as the search tells the optimizer


@dataclass(frozen=True, slots=True)
class ReplayConfig:
    """One configuration to retrain, and the training seeds to retrain it with."""

    params: dict[str, Any]
    seeds: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class ReplayResult:
    """The validation accuracy of every (configuration, seed), in the order given; failures score 0."""

    scores: tuple[tuple[float, ...], ...]
    failed: int
    errors: tuple[str, ...]
    seconds: float


def replay_seed(search_seed: int, rank: int, repeat: int) -> int:
    """The training seed of the `repeat`-th retraining of the configuration ranked `rank`."""
    state = np.random.SeedSequence([REPLAY_STREAM, search_seed, rank, repeat]).generate_state(1)[0]
    return int(state & 0x7FFFFFFF)


def top_configurations(trials: Sequence, count: int) -> list[dict[str, Any]]:
    """The params of the best `count` distinct ok trials, best first (earliest first on ties)."""
    chosen: list[dict[str, Any]] = []
    for trial in sorted((t for t in trials if t.ok), key=lambda t: (-t.score, t.index)):
        if trial.params not in chosen:
            chosen.append(dict(trial.params))
        if len(chosen) == count:
            break
    return chosen


def plan_replay(trials: Sequence, *, search_seed: int, configs: int, seeds: int) -> list[ReplayConfig]:
    """The configurations a baseline records: the search's best few, each with `seeds` replay seeds."""
    return [ReplayConfig(params=params, seeds=tuple(replay_seed(search_seed, rank, repeat) for repeat in range(seeds)))
            for rank, params in enumerate(top_configurations(trials, configs))]


def run_replay(
    *,
    create_model: Callable[..., Any],
    data: Dataset,
    configs: Sequence[ReplayConfig],
    epochs: int,
    batch_size: int,
    trials_per_worker: int | None = None,
    threads: int | None = DEFAULT_THREADS,
) -> ReplayResult:
    """Train every configuration with each of its seeds, exactly as the search trains a trial."""
    from harness.trial_runner import make_runner

    runner = make_runner(create_model=create_model, data=data, epochs=epochs, batch_size=batch_size,
                         trials_per_worker=trials_per_worker, threads=threads)
    return _replay_with(runner, configs)


def _replay_with(runner, configs: Sequence[ReplayConfig], cancelled: threading.Event | None = None) -> ReplayResult:
    started = time.perf_counter()
    rows, errors, failed = [], [], 0
    total = sum(len(config.seeds) for config in configs)
    done = 0
    try:
        for config in configs:
            row = []
            for seed in config.seeds:
                if cancelled is not None and cancelled.is_set():
                    raise ReplayCancelled
                done += 1
                trial, _ = runner.run(params=dict(config.params), index=done - 1, seed=seed, log_dir=None,
                                      more_trials=done < total)
                if trial.ok:
                    row.append(float(trial.score))
                else:
                    row.append(FAILED_SCORE)
                    failed += 1
                    errors.append(f"{config.params} seed {seed}: {trial.error}")
            rows.append(tuple(row))
    finally:
        runner.close()
    return ReplayResult(scores=tuple(rows), failed=failed, errors=tuple(errors),
                        seconds=time.perf_counter() - started)


class ReplayCancelled(Exception):
    """The replay was stopped before it finished (the test ended first)."""


class ReplayInBackground:
    """A replay in a worker process, started before the search so the two share the machine's cores.

    A check knows the baseline's configurations before its search runs, and most of a small trial is
    single-threaded Python (building and tracing the model), so on a machine with two or more cores
    the replay costs little wall time beside the search. The worker trains exactly as this process
    would (same code, same seeds, same thread settings): the scores are the same as an in-process
    replay's (tested). `create_model` must be importable by the worker (see `WorkerProcessRunner`).
    """

    def __init__(self, *, create_model: Callable[..., Any], data: Dataset, configs: Sequence[ReplayConfig],
                 epochs: int, batch_size: int, threads: int | None = DEFAULT_THREADS):
        from harness.trial_runner import WorkerProcessRunner

        self.configs = tuple(configs)
        total = sum(len(config.seeds) for config in self.configs)
        self._runner = WorkerProcessRunner(create_model=create_model, data=data, epochs=epochs,
                                           batch_size=batch_size, trials_per_worker=max(1, total), threads=threads)
        self._cancelled = threading.Event()
        self._outcome: dict[str, Any] = {}
        self._thread = threading.Thread(target=self._run, name="mlptune-replay", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._outcome["result"] = _replay_with(self._runner, self.configs, self._cancelled)
        except BaseException as error:  # noqa: BLE001 - handed to the thread that asks for the result
            self._outcome["error"] = error

    def result(self) -> ReplayResult:
        """Wait for the replay; its exception, if it raised one."""
        self._thread.join()
        if "error" in self._outcome:
            raise self._outcome["error"]
        return self._outcome["result"]

    def cancel(self) -> None:
        """Stop the replay now (its worker is killed mid-trial) and wait until it has let go of the worker."""
        if self._thread.is_alive():
            self._cancelled.set()
            self._runner.kill()
            self._thread.join()
