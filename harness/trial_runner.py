"""Where trials run: in this process, or in a child process that is replaced every few trials.

Keras and TensorFlow keep about 11-15 MB per built model alive even after `clear_session()`
(measured here; upstream tensorflow#61791, keras#17458), so a long search in one process grows
by hundreds of MB. A child process gives that memory back when it exits, and a trial that kills
its process (out of memory, a crash in native code) becomes one failed trial instead of the end
of the search. A trial is a pure function of (params, data, seed), so where it runs does not
change its result: the same seed gives the same trials, bit for bit, either way.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from harness.argument_types import require_int
from harness.data.dataset import Dataset
from harness.errors import InputError
from harness.model_check import score_saved_model
from harness.threads import DEFAULT_THREADS, check_threads, environment_for_workers, pin_threads
from harness.trial import Trial, run_trial

DEFAULT_TRIALS_PER_WORKER = 25
"""Trials a worker process trains before it is replaced, where workers are the default (`mlptune tune`, Dask).

Keras keeps about 11-15 MB per built model, so a worker grows with every trial until it is
replaced, and each replacement imports TensorFlow again: several seconds of CPU, which a search
pinned to one core pays in full while its trial trains. Replaced every 5 trials (the default until
2026-12-05), a 50-call search on one core took 1.16x the wall time of the same trials trained
in-process; every 25 trials, one replacement per 50 calls, and at most about 25 models' worth of
memory per worker (docs/performance.md, "Fewer worker start-ups").
"""


@dataclass(frozen=True)
class PickledModel:
    """`create_model` pickled, with the name and file of its module, for another process to load.

    Unpickling imports the module by name, and a process other than the search's (a trial process,
    a Dask worker) may not find it so: pytest imports a test file from a folder it puts on its own
    sys.path, or with --import-mode=importlib from its location under a dotted name. `load` imports
    the module by name where it can, else from its file under the same name, and then unpickles.
    """

    pickled: bytes
    module_file: tuple[str, str] | None  # (module name, file) of create_model's function, if it has a file

    @classmethod
    def of(cls, create_model: Callable[..., Any]) -> PickledModel:
        import pickle

        module = sys.modules.get(_module_name(create_model) or "")
        file = getattr(module, "__file__", None)
        return cls(pickled=pickle.dumps(create_model), module_file=(module.__name__, file) if file else None)

    def load(self) -> Callable[..., Any]:
        import pickle

        _import_model_module(self.module_file)
        return pickle.loads(self.pickled)


def unloadable_model_reason(error: BaseException, *, where: str, importable_by: str) -> str:
    """The failed trial's reason where `PickledModel.load` raised `error` (a trial process, a Dask worker)."""
    return (f"WorkerSetupError: {where} cannot load create_model ({type(error).__name__}: {error}); "
            f"define it at module level in a module {importable_by} can import")


class TrialRunner(Protocol):
    """What the search loop asks of a place where trials run, one trial at a time.

    `run` trains one trial and returns it with its model (or a handle whose `save(path)` saves it);
    the same arguments give the same trial wherever it runs.
    """

    def run(self, *, params: dict[str, Any], index: int, seed: int, log_dir: Path | None,
            stop_below: dict[int, float] | None = None, more_trials: bool = True) -> tuple[Trial, Any]: ...

    def score_saved_model(self, path: Path) -> dict[str, float]:
        """Load a saved model and score it on the data's validation (and test) set: `harness.model_check`."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class BatchRunner(Protocol):
    """A place that trains a whole batch of trials at once (Dask workers); results in the jobs' order."""

    def run_batch(self, jobs: Sequence[dict[str, Any]], *, beat: float | None = None) -> list[tuple[Trial, Any]]: ...

    def score_saved_model(self, path: Path) -> dict[str, float]: ...

    def close(self) -> None: ...


class WorkerStartError(InputError):
    """No trial worker process could be started (no memory, too many processes, no interpreter)."""

# Messages between the search and its worker go through a pipe the two processes share; nothing
# is read from a file someone else could have written (the no-pickle rule is about files).
_RUN, _SAVE, _SCORE, _STOP = "run", "save", "score", "stop"


def worker_problem(create_model: Callable[..., Any]) -> str | None:
    """Why a worker process could not import `create_model` by name, or None when it can."""
    import pickle

    if _module_name(create_model) == "__main__":
        return "it is defined in the __main__ script, which a worker does not run"
    try:
        pickle.dumps(create_model)
    except Exception as error:  # noqa: BLE001 - pickle raises several types for the same problem
        return f"{type(error).__name__}: {error}"
    return None


def _module_name(create_model: Callable[..., Any]) -> str | None:
    """The module that defines `create_model`, or a partial's function: where a worker imports it from."""
    import functools

    function = create_model.func if isinstance(create_model, functools.partial) else create_model
    return getattr(function, "__module__", None)


def make_runner(*, create_model: Callable[..., Any], data: Dataset, epochs: int, batch_size: int,
                trials_per_worker: int | None, trial_timeout: float | None = None,
                threads: int | None = DEFAULT_THREADS):
    """Trials in this process (`trials_per_worker` None), or in workers replaced every N trials.

    A `trial_timeout` needs workers: only a process can be stopped in the middle of a trial.
    `threads` is TensorFlow's intra-op pool where the trials run (see `harness.threads`).
    """
    if trials_per_worker is None:
        if trial_timeout is not None:
            raise InputError("a trial timeout needs trials in worker processes; give trials_per_worker "
                             "(mlptune tune: --trials-per-worker 1 or more)")
        return InProcessRunner(create_model=create_model, data=data, epochs=epochs, batch_size=batch_size,
                               threads=threads)
    return WorkerProcessRunner(create_model=create_model, data=data, epochs=epochs, batch_size=batch_size,
                               trials_per_worker=trials_per_worker, trial_timeout=trial_timeout, threads=threads)


class InProcessRunner:
    """Runs each trial here; the trained model is returned as is.

    TensorFlow's pool is pinned to `threads` at once: an InputError if TensorFlow already runs
    here with another pool size.
    """

    def __init__(self, *, create_model: Callable[..., Any], data: Dataset, epochs: int, batch_size: int,
                 threads: int | None = DEFAULT_THREADS):
        pin_threads(threads)
        self._fixed = dict(create_model=create_model, data=data, epochs=epochs, batch_size=batch_size)

    def run(self, *, params: dict[str, Any], index: int, seed: int, log_dir: Path | None,
            stop_below: dict[int, float] | None = None, more_trials: bool = True) -> tuple[Trial, Any]:
        return run_trial(params=params, index=index, seed=seed, log_dir=log_dir, stop_below=stop_below,
                         **self._fixed)

    def score_saved_model(self, path: Path) -> dict[str, float]:
        return score_saved_model(path, self._fixed["data"])

    def close(self) -> None:
        import keras

        keras.backend.clear_session()


class WorkerProcessRunner:
    """Runs each trial in a child process that is replaced after `trials_per_worker` trials.

    The child is a fresh interpreter (`python -m harness.trial_runner`), not a multiprocessing
    spawn: spawn re-runs the caller's main script, which breaks any script without a
    `__main__` guard. `create_model` must be importable by name in the child (a module-level
    function, or a functools.partial of one, from a module on sys.path). The returned model is a
    handle whose `save(path)` asks the worker to save the model it has just trained; it is valid
    until the next trial.
    """

    def __init__(self, *, create_model: Callable[..., Any], data: Dataset, epochs: int, batch_size: int,
                 trials_per_worker: int, trial_timeout: float | None = None,
                 threads: int | None = DEFAULT_THREADS):
        require_int("trials_per_worker", trials_per_worker)
        self.trial_timeout = trial_timeout  # seconds a trial may take before its worker is killed; None: no limit
        self._threads = check_threads(threads)
        self._model = (list(sys.path), PickledModel.of(create_model))
        self._setup = dict(data=data, epochs=epochs, batch_size=batch_size, threads=threads)
        self.trials_per_worker = trials_per_worker
        self._process: subprocess.Popen | None = None
        self._connection = None
        self._spare = None  # (process, connection) started while the last trial of a worker runs
        self._trials_in_worker = 0
        self._busy = False  # a trial is in flight: the worker will not read a stop message until it ends
        self.workers_started = 0

    @property
    def worker_pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def run(self, *, params: dict[str, Any], index: int, seed: int, log_dir: Path | None,
            stop_below: dict[int, float] | None = None, more_trials: bool = True) -> tuple[Trial, Any]:
        """Run one trial; `more_trials=False` says none follows, so no replacement worker is warmed up."""
        if self._process is not None and self._trials_in_worker >= self.trials_per_worker:
            self._stop_worker()
        started = time.perf_counter()
        self._ensure_worker()
        try:
            self._trials_in_worker += 1
            self._busy = True
            self._connection.send((_RUN, dict(params=params, index=index, seed=seed, log_dir=log_dir,
                                              stop_below=stop_below)))
            if more_trials and self._trials_in_worker == self.trials_per_worker and self._spare is None:
                # Importing TensorFlow takes seconds: the next worker does it while this trial trains.
                try:
                    self._spare = self._launch()
                except WorkerStartError:
                    self._spare = None  # tried again, and reported, when the next trial needs it
            if self.trial_timeout is not None and not self._connection.poll(self.trial_timeout):
                self._process.kill()
                self._busy = False
                self._reap_dead_worker()
                trial = Trial.failure(
                    index=index, params=params, seed=seed, seconds=time.perf_counter() - started,
                    error=f"TrialTimeout: the trial ran longer than {self.trial_timeout:g} s and was stopped")
                return trial, None
            trial, has_model = self._connection.recv()
            self._busy = False
        except (EOFError, OSError):
            # The worker died inside the trial: the kernel's OOM killer, a segfault, os._exit.
            self._busy = False
            code = self._reap_dead_worker()
            cause = f"killed by {signal.Signals(-code).name}" if code is not None and code < 0 else f"exit status {code}"
            trial = Trial.failure(index=index, params=params, seed=seed, seconds=time.perf_counter() - started,
                                  error=f"WorkerDied: the trial's process ended ({cause}); out of memory?")
            return trial, None
        return trial, (_WorkerModel(self._connection) if has_model else None)

    def score_saved_model(self, path: Path) -> dict[str, float]:
        """Score a saved model in the worker, which has TensorFlow imported already (a new one if none is up).

        The search's own process then never imports TensorFlow (seconds on one core). OSError if the
        worker cannot load or score it, or dies.
        """
        self._ensure_worker()
        try:
            self._connection.send((_SCORE, str(path)))
            scores, error = self._connection.recv()
        except (EOFError, OSError):
            self._reap_dead_worker()
            scores, error = None, "the worker process ended"
        if error is not None:
            raise OSError(f"scoring the saved model {path} failed in the trial worker: {error}")
        return scores

    def kill(self) -> None:
        """From another thread: end the workers at once; a trial in flight fails, and `close` still reaps them."""
        for process in (self._process, self._spare[0] if self._spare else None):
            if process is not None and process.poll() is None:
                process.kill()

    def close(self) -> None:
        """Stop the workers; one interrupted mid-trial (Ctrl-C) is killed, its trial is re-run on resume."""
        if self._spare is not None:
            self._stop(*self._spare)
            self._spare = None
        if self._process is None:
            return
        if self._busy:
            self._process.kill()
        self._stop_worker()

    def _ensure_worker(self) -> None:
        """A worker up to send to: the one running, else the spare warmed up beside the last trial, else a new one."""
        if self._process is None:
            self._process, self._connection = self._spare or self._launch()  # WorkerStartError if it cannot
            self._spare = None
            self._trials_in_worker = 0

    def _launch(self) -> tuple[subprocess.Popen, Connection]:
        try:
            ours, theirs = socket.socketpair()
            with theirs:
                process = subprocess.Popen(
                    [sys.executable, "-m", "harness.trial_runner", str(theirs.fileno()), str(os.getpid())],
                    pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL,
                    env=environment_for_workers(self._threads),  # also for TensorFlow started by imports
                )
        except OSError as error:
            raise WorkerStartError(
                f"cannot start a trial worker process ({error.strerror or error}); free memory or processes, or "
                "train in this process (trials_per_worker None; mlptune tune --trials-per-worker 0)") from None
        connection = Connection(ours.detach())
        self.workers_started += 1
        try:
            connection.send(self._model)  # this process's sys.path first: create_model's module may be found there only
            connection.send(self._setup)
        except OSError:
            pass  # the worker died at once; the trial's receive sees it and fails that trial
        return process, connection

    def _stop_worker(self) -> None:
        process, connection = self._process, self._connection
        self._process = self._connection = None
        self._stop(process, connection)

    @staticmethod
    def _stop(process: subprocess.Popen, connection: Connection) -> None:
        try:
            connection.send((_STOP, None))
        except OSError:
            pass
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        connection.close()

    def _reap_dead_worker(self) -> int | None:
        """Close what is left of a worker that died mid-trial; its exit status says how it ended."""
        process = self._process
        if process is None:
            return None
        self._stop_worker()  # the stop message fails on the dead pipe, and the wait returns at once
        return process.returncode


class _WorkerModel:
    """Stands for the model the worker has just trained; `save` is all the search needs of it."""

    def __init__(self, connection):
        self._connection = connection

    def save(self, path: str | Path) -> None:
        try:
            self._connection.send((_SAVE, str(path)))
            error = self._connection.recv()
        except (EOFError, OSError):
            error = "the worker process ended"

        if error is not None:
            raise OSError(f"saving the best model to {path} failed in the trial worker: {error}")


def _worker_main(connection, parent_pid: int) -> None:
    # Ctrl-C reaches the whole process group; the search decides what happens, and stops us.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _exit_when_orphaned(parent_pid)
    sys.path[:], pickled_model = connection.recv()
    setup = connection.recv()
    try:
        create_model = pickled_model.load()
    except Exception as error:  # noqa: BLE001 - every trial then fails with this reason instead of a dead process
        reason = unloadable_model_reason(error, where="the trial process", importable_by="a fresh Python process")

        def refuse(job: dict[str, Any]) -> tuple[Trial, bool]:
            return Trial.failure(index=job["index"], params=job["params"], seed=job["seed"], seconds=0.0,
                                 error=reason), False

        _serve(connection, run=refuse, save=lambda path: reason, score=lambda path: (None, reason))
        return
    from harness.native_logs import import_tensorflow

    import_tensorflow()  # now, while the worker before us finishes its last trial
    pin_threads(setup.pop("threads"))
    import keras  # noqa: F401
    fixed = dict(create_model=create_model, data=setup["data"], epochs=setup["epochs"], batch_size=setup["batch_size"])
    model = None  # the last trial's, until the next one

    def run(job: dict[str, Any]) -> tuple[Trial, bool]:
        nonlocal model
        model = None  # freed before the next one is built
        trial, model = run_trial(**fixed, **job)
        return trial, model is not None

    def save(path: str) -> str | None:
        try:
            model.save(path)
        except Exception as error:  # noqa: BLE001 - reported to the search, which raises it
            return f"{type(error).__name__}: {error}"
        return None

    def score(path: str) -> tuple[dict[str, float] | None, str | None]:
        try:
            return score_saved_model(path, fixed["data"]), None
        except Exception as error:  # noqa: BLE001 - reported to the search, which raises it
            return None, f"{type(error).__name__}: {error}"

    _serve(connection, run=run, save=save, score=score)


def _serve(connection, *, run: Callable, save: Callable, score: Callable) -> None:
    """Answer the search's requests, each with what its handler returns, until the search stops us or goes."""
    handlers = {_RUN: run, _SAVE: save, _SCORE: score}
    while True:
        try:
            command, payload = connection.recv()
        except EOFError:
            return
        if command == _STOP:
            return
        connection.send(handlers[command](payload))


def _import_model_module(module_file: tuple[str, str] | None) -> None:
    """Import create_model's module by name, or else from its file under the same name (as pytest's importlib mode does)."""
    import importlib
    import importlib.util

    if module_file is None:
        return
    name, file = module_file
    try:
        importlib.import_module(name)
        return
    except ModuleNotFoundError as error:
        if error.name is None or not (name == error.name or name.startswith(f"{error.name}.")):
            raise  # the module was found, and something it imports was not: its file would fail the same way
    spec = importlib.util.spec_from_file_location(name, file)
    if spec is None or spec.loader is None:
        raise ImportError(f"no module named {name!r}, and {file} cannot be loaded")
    _placeholder_parents(name)  # pickle imports "a.b" through "a"
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise


def _placeholder_parents(name: str) -> None:
    """An empty module for each parent package of `name` that cannot be imported (what pytest does for its own import)."""
    import importlib
    import types

    parts = name.split(".")
    for end in range(1, len(parts)):
        parent = ".".join(parts[:end])
        if parent in sys.modules:
            continue
        try:
            importlib.import_module(parent)
        except ModuleNotFoundError:
            sys.modules[parent] = types.ModuleType(parent)


def _exit_when_orphaned(parent_pid: int) -> None:
    """A search killed with SIGKILL cannot stop its worker; the worker notices and exits."""

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="mlptune-orphan-watch", daemon=True).start()


if __name__ == "__main__":
    _worker_main(Connection(int(sys.argv[1])), int(sys.argv[2]))
