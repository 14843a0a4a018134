"""Trials on Dask distributed: an embedded LocalCluster, or an existing cluster by address.

The search hands this runner one batch of trials at a time (`run_batch`) and gets them back in
the order it asked; where each trial ran does not change it (a trial is a pure function of its
params, data and seed), so the same seed and batch size give the same trials with 1 or N
workers, embedded or external.

Dask schedules; a trial does not train inside the Dask worker process itself. A Dask worker's
event loop draws from Python's global `random` while a task runs (measured: dozens of
`random.sample` calls per trial), and Keras draws its default initializer seeds from the same
generator, so a model trained in the task thread got other initial weights whenever the two
interleaved differently: under CPU load, 1 run in 4 gave other scores (notes in
docs/reliability.md). So each Dask worker keeps one trial process of its own (the serial path's
`WorkerProcessRunner`, replaced every `trials_per_worker` trials, which also bounds memory), and
the task hands it the trial. In that process nothing but the trial runs.

Other choices, each for a reason:
- One thread per worker and at most one task assigned to it (`worker-saturation` 1.0): a worker
  trains one model at a time.
- A trial whose process dies fails alone (the trial process dies, the Dask worker lives); a Dask
  worker that dies fails the trial it ran (`allowed-failures` 0, no retry: a trial that kills its
  process would kill the next one too).
- The nanny's thread variables (OMP/MKL/OpenBLAS = 1) are not set on embedded workers, so a trial
  has the same environment as a serial one (measured: TensorFlow's scores do not depend on them
  here; external `dask worker`s set them, and give the same trials, tested). TensorFlow's
  intra-op pool, which does change them, is pinned in each trial process (`harness.threads`), so a
  worker on a machine with more cores trains as a serial search does.
- Workers whose Python, TensorFlow, Keras, NumPy or package versions differ from this process's
  are refused before any trial: their scores would not be comparable.
"""

from __future__ import annotations

import os
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.argument_types import require_int
from harness.data.dataset import Dataset
from harness.errors import InputError
from harness.model_check import score_saved_model
from harness.threads import DEFAULT_THREADS, check_threads
from harness.trial import Trial
from harness.trial_runner import (
    DEFAULT_TRIALS_PER_WORKER,
    PickledModel,
    WorkerProcessRunner,
    unloadable_model_reason,
)

CONNECT_TIMEOUT = 8  # seconds: an unreachable scheduler is an error well within 10 s
DASK_CONFIG = {
    "distributed.scheduler.allowed-failures": 0,
    "distributed.scheduler.worker-saturation": 1.0,
    "distributed.nanny.pre-spawn-environ": {},
    "distributed.worker.daemon": True,
    "distributed.admin.large-graph-warning-threshold": "1GB",
}
VERSION_KEYS = ("python", "tensorflow", "keras", "numpy", "pytest-mlptune")


@dataclass(frozen=True, slots=True)
class ClusterAddress:
    """Where trials run: `workers` processes of an embedded cluster, or an existing scheduler."""

    workers: int | None = None
    scheduler: str | None = None
    scheduler_file: str | None = None

    @property
    def given(self) -> bool:
        return any(v is not None for v in (self.workers, self.scheduler, self.scheduler_file))

    def check(self) -> None:
        named = [name for name, value in (("workers", self.workers), ("scheduler", self.scheduler),
                                          ("scheduler_file", self.scheduler_file)) if value is not None]
        if len(named) > 1:
            raise InputError(f"give one of workers, scheduler and scheduler_file, not {' and '.join(named)}")
        if self.workers is not None:
            require_int("workers", self.workers)


def worker_versions() -> dict[str, str | None]:
    """What a trial's result depends on, read where the trial would run (also used on workers)."""
    from importlib import metadata

    from harness.environment import environment

    versions = {key: value for key, value in environment().items() if key in VERSION_KEYS}
    try:
        versions["pytest-mlptune"] = metadata.version("pytest-mlptune")
    except metadata.PackageNotFoundError:
        versions["pytest-mlptune"] = None
    return versions


def local_versions() -> dict[str, str | None]:
    return worker_versions()


def connect(address: ClusterAddress):
    """A dask.distributed Client: a new LocalCluster, or the scheduler named; InputError if unreachable."""
    import dask
    from distributed import Client, LocalCluster

    with dask.config.set(DASK_CONFIG):
        if address.workers is not None:
            # No dashboard; the scheduler's HTTP server (health and metrics) still starts, by default on
            # 8787, and a second search's cluster (two runs at once, xdist workers) then warned "Port
            # 8787 is already in use. Perhaps you already have a cluster running?". Any free port will do.
            cluster = LocalCluster(n_workers=address.workers, threads_per_worker=1, processes=True,
                                   dashboard_address=None, scheduler_kwargs={"dashboard_address": ":0"},
                                   silence_logs=40)
            return Client(cluster, set_as_default=False)
        where = address.scheduler or f"the scheduler file {address.scheduler_file}"
        try:
            if address.scheduler is not None:
                return Client(address.scheduler, timeout=CONNECT_TIMEOUT, set_as_default=False)
            return Client(scheduler_file=address.scheduler_file, timeout=CONNECT_TIMEOUT, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as error:
            raise InputError(f"cannot reach the Dask scheduler at {where} within {CONNECT_TIMEOUT} s "
                             f"({type(error).__name__}); start one with `dask scheduler` and workers with "
                             "`dask worker ADDRESS --nthreads 1`, or check the address") from None


_TRIAL_PROCESSES: dict[str, Any] = {}  # on a Dask worker: the trial process of the search `token` names


def _run_trial_task(*, token, create_model: PickledModel, data, epochs, batch_size, trials_per_worker, trial_timeout,
                    threads, params, index, seed, log_dir, beat, stop_below=None) -> tuple:
    """On a Dask worker: one trial in this worker's trial process; the model's bytes if it beat `beat`.

    `create_model` comes as a `PickledModel`, so a module this worker cannot import by name (a
    pytest test file) still loads where its file exists.
    """
    runner = _TRIAL_PROCESSES.get(token)
    if runner is None:
        for other in list(_TRIAL_PROCESSES):  # a search that ended without closing (its driver died)
            _TRIAL_PROCESSES.pop(other).close()
        try:
            loaded = create_model.load()
        except Exception as error:  # noqa: BLE001 - the trial fails with the reason; the next task tries again
            reason = unloadable_model_reason(error, where="Dask worker", importable_by="every worker")
            return Trial.failure(index=index, params=params, seed=seed, seconds=0.0, error=reason), None
        runner = _TRIAL_PROCESSES[token] = WorkerProcessRunner(
            create_model=loaded, data=data, epochs=epochs, batch_size=batch_size,
            trials_per_worker=trials_per_worker, trial_timeout=trial_timeout, threads=threads)
    trial, model = runner.run(params=params, index=index, seed=seed, log_dir=log_dir, stop_below=stop_below)
    saved = None
    if model is not None and trial.ok and (beat is None or trial.score > beat):
        with tempfile.TemporaryDirectory(prefix="mlptune-model-") as folder:
            path = Path(folder) / "model.keras"
            model.save(path)
            saved = path.read_bytes()
    return trial, saved


def _close_trial_process(token: str) -> None:
    runner = _TRIAL_PROCESSES.pop(token, None)
    if runner is not None:
        runner.close()


class _SavedModel:
    """A trained model as the bytes of its .keras file; `save(path)` is all the search needs of it."""

    def __init__(self, content: bytes):
        self.content = content

    def save(self, path: str | Path) -> None:
        with open(path, "wb") as handle:
            handle.write(self.content)


class DaskRunner:
    """Runs batches of trials on a Dask cluster, returned in the order they were asked."""

    def __init__(self, *, create_model: Callable[..., Any], data: Dataset, epochs: int, batch_size: int,
                 address: ClusterAddress, trials_per_worker: int | None = None, trial_timeout: float | None = None,
                 threads: int | None = DEFAULT_THREADS):
        address.check()
        self._token = uuid.uuid4().hex
        self._fixed = dict(token=self._token, create_model=PickledModel.of(create_model), epochs=epochs,
                           batch_size=batch_size, trials_per_worker=trials_per_worker or DEFAULT_TRIALS_PER_WORKER,
                           trial_timeout=trial_timeout, threads=check_threads(threads))
        self._data = data
        self._data_future = None
        self.client = connect(address)
        try:
            self.workers = self._check_workers()
        except BaseException:
            self.close()
            raise

    def _check_workers(self) -> int:
        local = local_versions()
        try:
            found = self.client.run(worker_versions)
        except ImportError as error:
            raise InputError(f"a Dask worker cannot import this package ({error}); install pytest-mlptune on "
                             "every worker") from None
        if not found:
            raise InputError("the Dask cluster has no workers; start some with `dask worker ADDRESS --nthreads 1`")
        for worker, versions in sorted(found.items()):
            differences = [f"{key} {versions.get(key)} there, {local.get(key)} here" for key in VERSION_KEYS
                           if versions.get(key) != local.get(key)]
            if differences:
                raise InputError(f"Dask worker {worker} runs other versions ({'; '.join(differences)}); install the "
                                 "same versions on every worker")
        return len(found)

    def run_batch(self, jobs: Sequence[dict[str, Any]], *, beat: float | None = None) -> list[tuple[Trial, Any]]:
        """Run every job (params, index, seed, log_dir, stop_below) at once; results in the order of `jobs`.

        A trial whose worker died fails alone; a model comes back (as file bytes) only for trials
        that scored above `beat`, the best score before the batch.
        """
        from distributed import KilledWorker

        if self._data_future is None:  # sent to every worker once, not with every trial
            self._data_future = self.client.scatter(self._data, broadcast=True, hash=False)
        started = time.perf_counter()
        futures = [self.client.submit(_run_trial_task, **self._fixed, data=self._data_future, beat=beat,
                                      pure=False, key=f"mlptune-trial-{job['index']}-{os.getpid()}-{time.time_ns()}",
                                      **job)
                   for job in jobs]
        results = []
        for job, future in zip(jobs, futures):
            try:
                trial, saved = future.result()
            except KilledWorker:
                trial = Trial.failure(index=job["index"], params=job["params"], seed=job["seed"],
                                      seconds=time.perf_counter() - started,
                                      error="WorkerDied: the trial's Dask worker ended (out of memory?)")
                saved = None
            results.append((trial, _SavedModel(saved) if saved is not None else None))
        return results

    def score_saved_model(self, path: Path) -> dict[str, float]:
        """Score a saved model here: the workers may be other machines, without this file."""
        return score_saved_model(path, self._data)

    def close(self) -> None:
        client, self.client = getattr(self, "client", None), None
        if client is None:
            return
        try:
            client.run(_close_trial_process, self._token)  # an external cluster's workers outlive the search
        except Exception:  # noqa: BLE001 - a worker gone already has no trial process left
            pass
        cluster = client.cluster
        client.close()
        if cluster is not None:
            cluster.close()
