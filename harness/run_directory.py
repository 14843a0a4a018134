"""The folder of one search run: created, locked, written and resumed here, and nowhere else.

A run folder holds `run.json` (the settings that decide the trials), `trials.jsonl` (one line per
finished trial, appended), `results.json`, `best_model.keras`, `plots/` and `tensorboard/`.
`RunDirectory` owns all of it: the search loop only tells it what happened. `InMemoryRun` is the
do-nothing variant for searches that keep their results in memory (the pytest plugin's).

What it guarantees (docs/reliability.md):
- a new run folder is created with one `mkdir` (never adopted if it exists), so two runs never share one;
- an exclusive `flock` on `.lock` for as long as the run is open, so two processes never interleave;
- no symlink is followed: a resumed folder with a symlink anywhere in it is refused, the log is
  appended with O_NOFOLLOW, and every other file is replaced by rename (the rename swaps a link);
- every file is validated on resume, and `best_model.keras` is adopted only if its SHA-256 is the
  one the log recorded when the run saved it.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from harness.atomic import atomic_path, fsync_directory, write_json_atomic, write_text_atomic
from harness.errors import InputError
from harness.initial_design import BLOG_INITIAL_POINTS, INITIAL_DESIGNS
from harness.objective import OBJECTIVE_SCALES
from harness.pruning import RULES as PRUNE_RULES
from harness.pruning import PercentileStop, parse_epochs
from harness.threads import DEFAULT_THREADS
from harness.trial import Trial, TrialFormatError

SETTINGS_NAME = "run.json"
CHECKPOINT_NAME = "trials.jsonl"
RESULTS_NAME = "results.json"
BEST_MODEL_NAME = "best_model.keras"
PLOTS_NAME = "plots"
TENSORBOARD_NAME = "tensorboard"
LOCK_NAME = ".lock"
SETTINGS_SCHEMA = 1
DATASETS = ("fashion-mnist", "digits")
VALIDATE_ON = ("split", "test")


@dataclass(frozen=True, slots=True)
class RunSettings:
    """What decides a run's trials; a resumed run must have exactly these."""

    dataset: str
    data_dir: str | None
    validate_on: str
    train_size: int | None
    n_calls: int
    epochs: int
    batch_size: int
    seed: int
    trials_per_batch: int = 1
    prune: str = "none"  # the prune rule's name (harness.pruning.RULES)
    prune_after: str | None = None  # its checked epochs as given, "1,2"; None: the rule's default
    prune_percentile: float | None = None  # the percentile rule's threshold; None: the rule's default
    prune_min_trials: int | None = None  # earlier trials needed before a threshold; None: the rule's default
    initial_design: str = "random"  # harness.initial_design.INITIAL_DESIGNS
    initial_points: int = BLOG_INITIAL_POINTS  # at most this many drawn before the Gaussian process steers
    threads: int | None = DEFAULT_THREADS  # TensorFlow's intra-op pool (harness.threads); None: one per core
    objective_scale: str = "accuracy"  # what the Gaussian process is told (harness.objective.OBJECTIVE_SCALES)

    def to_json(self) -> dict[str, Any]:
        return {"schema": SETTINGS_SCHEMA, **asdict(self)}

    @classmethod
    def from_json(cls, raw: Any) -> RunSettings:
        """Settings read back from run.json, every field type-checked; ValueError names the bad one."""
        if not isinstance(raw, dict):
            raise ValueError("not a JSON object")
        names = {f.name for f in fields(cls)}
        # run folders from before batches ran one trial at a time, from before pruning pruned nothing, and
        # from before the initial points were a choice drew the blog's number at random, and from before
        # the thread pool was pinned left TensorFlow one thread per core; those from before the
        # percentile rule pruned with the median's own settings; those from before the scale was a
        # choice told the Gaussian process -accuracy
        raw = {"trials_per_batch": 1, "prune": "none", "prune_after": None, "prune_percentile": None,
               "prune_min_trials": None, "initial_design": "random",
               "initial_points": BLOG_INITIAL_POINTS, "threads": None, "objective_scale": "accuracy", **raw}
        unknown = set(raw) - names - {"schema", "data_fingerprint"}
        missing = names - set(raw)
        if unknown or missing:
            raise ValueError(f"unexpected fields {sorted(unknown)}" if unknown else f"missing fields {sorted(missing)}")
        checks = {
            "dataset": lambda v: v in DATASETS,
            "data_dir": lambda v: v is None or isinstance(v, str),
            "validate_on": lambda v: v in VALIDATE_ON,
            "train_size": lambda v: v is None or _positive(v),
            "n_calls": _positive, "epochs": _positive, "batch_size": _positive, "trials_per_batch": _positive,
            "seed": lambda v: _positive(v) or (type(v) is int and v == 0),
            "prune": lambda v: v in PRUNE_RULES,
            "prune_after": lambda v: v is None or _valid_epochs(v),
            "prune_percentile": lambda v: v is None or _valid_percentile(v),
            "prune_min_trials": lambda v: v is None or _positive(v),
            "initial_design": lambda v: v in INITIAL_DESIGNS,
            "initial_points": _positive,
            "threads": lambda v: v is None or _positive(v),
            "objective_scale": lambda v: v in OBJECTIVE_SCALES,
        }
        for name, valid in checks.items():
            if not valid(raw[name]):
                raise ValueError(f"{name} {raw[name]!r} is not valid")
        return cls(**{name: raw[name] for name in names})


def _positive(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, int) and value >= 1


def _valid_percentile(value: Any) -> bool:
    try:
        PercentileStop(percentile=value)  # the rule's own range check, not a copy of it
    except InputError:
        return False
    return True


def _valid_epochs(text: Any) -> bool:
    try:
        parse_epochs(text)
    except (InputError, AttributeError):
        return False
    return True


def settings_differences(old: RunSettings, new: RunSettings) -> list[str]:
    return [f"{name} {getattr(old, name)!r} -> {getattr(new, name)!r}"
            for name in old.__dataclass_fields__ if getattr(old, name) != getattr(new, name)]


class InMemoryRun:
    """A run that writes nothing: the search keeps its trials in memory only."""

    tensorboard_dir: Path | None = None
    trials: tuple[Trial, ...] = ()
    best_model_path: str | None = None

    def append_trial(self, trial: Trial) -> None:
        pass

    def save_best_model(self, model) -> str | None:
        return None

    def write_results(self, results: dict[str, Any]) -> None:
        pass

    def write_plots(self, optimize_result, trials, objective_scale: str = "accuracy") -> dict[str, str]:
        return {}

    def close(self) -> None:
        pass


class RunDirectory(InMemoryRun):
    """An open, locked run folder. Use `create` for a new run, `resume` for an earlier one; then `close`."""

    def __init__(self, path: Path, *, settings: RunSettings | None, tensorboard: bool, lock_fd: int):
        self.path = path
        self.settings = settings
        self.tensorboard_dir = path / TENSORBOARD_NAME if tensorboard else None
        self.trials = ()
        self.data_fingerprint: str | None = None
        self.best_model_path = None
        self._lock_fd: int | None = lock_fd

    # -- opening ---------------------------------------------------------------------------------
    @classmethod
    def create(cls, path: str | Path, settings: RunSettings | None = None, *, tensorboard: bool = True) -> RunDirectory:
        """A new, empty run folder at `path`; refused if anything is there already."""
        path = Path(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise InputError(f"cannot create {path} ({error.strerror}); choose a writable --out") from None
        try:
            os.mkdir(path)  # one atomic step: of two runs given the same folder, exactly one gets it
        except FileExistsError:
            raise InputError(f"run directory {path} already exists; resume it with --resume {path} or choose "
                             "another --out") from None
        except OSError as error:
            raise InputError(f"cannot create {path} ({error.strerror}); choose a writable --out") from None
        run = cls(path, settings=settings, tensorboard=tensorboard, lock_fd=_lock(path))
        if settings is not None:
            run._write_settings()
        return run

    @classmethod
    def resume(cls, path: str | Path, *, tensorboard: bool = True) -> RunDirectory:
        """The run folder of an earlier run, locked, validated, its log repaired after a torn last line."""
        path = Path(path)
        if path.is_symlink() or not path.is_dir() or not (path / SETTINGS_NAME).exists():
            raise InputError(f"{path} is not a run directory (no {SETTINGS_NAME}); give the --out of an earlier "
                             "mlptune tune")
        _refuse_symlinks(path)
        run = cls(path, settings=None, tensorboard=tensorboard, lock_fd=_lock(path))
        try:
            run._load()
        except BaseException:
            run.close()
            raise
        return run

    def _load(self) -> None:
        settings_path = self.path / SETTINGS_NAME
        raw = _read_json(settings_path)
        if not isinstance(raw, dict) or raw.get("schema") != SETTINGS_SCHEMA:
            found = raw.get("schema") if isinstance(raw, dict) else None
            raise InputError(f"{settings_path} has schema {found!r}, this version reads {SETTINGS_SCHEMA}; "
                             "start a new run")
        fingerprint = raw.get("data_fingerprint")
        if fingerprint is not None and not isinstance(fingerprint, str):
            raise InputError(f"{settings_path}: data_fingerprint is not text; start a new run")
        try:
            self.settings = RunSettings.from_json(raw)
        except ValueError as error:
            raise InputError(f"{settings_path} is corrupt ({error}); start a new run") from None
        self.data_fingerprint = fingerprint
        trials, torn = read_checkpoint(self.path / CHECKPOINT_NAME)
        if len(trials) > self.settings.n_calls:
            raise InputError(f"{self.path / CHECKPOINT_NAME} holds {len(trials)} trials, more than the run's "
                             f"{self.settings.n_calls} calls; start a new run")
        if torn:  # the process died mid-line: drop the partial line before appending again
            write_text_atomic(self.path / CHECKPOINT_NAME,
                              "".join(json.dumps(t.to_json(), sort_keys=True) + "\n" for t in trials))
        self.trials = tuple(trials)
        self.best_model_path = self._adopt_best_model()

    def _adopt_best_model(self) -> str | None:
        """The saved best model, if it is the very file the log says was saved after the best trial.

        A mismatch means the run died between saving a better model and logging its trial (that
        trial runs again on resume and saves its model again) or the file was replaced: either
        way it is not the logged best, so it is removed rather than reported as the best model.
        """
        target = self.path / BEST_MODEL_NAME
        if not target.exists():
            return None
        ok = [t for t in self.trials if t.ok]
        best = max(ok, key=lambda t: (t.score, -t.index)) if ok else None
        if best is not None and best.model_sha256 is not None and target.is_file() \
                and file_sha256(target) == best.model_sha256:
            return str(target)
        target.unlink()
        return None

    # -- writing ---------------------------------------------------------------------------------
    def _write_settings(self) -> None:
        extra = {"data_fingerprint": self.data_fingerprint} if self.data_fingerprint else {}
        write_json_atomic(self.path / SETTINGS_NAME, {**self.settings.to_json(), **extra})

    def record_data_fingerprint(self, fingerprint: str) -> None:
        self.data_fingerprint = fingerprint
        self._write_settings()

    def append_trial(self, trial: Trial) -> None:
        line = (json.dumps(trial.to_json(), sort_keys=True) + "\n").encode()
        target = self.path / CHECKPOINT_NAME
        try:
            handle = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o644)
        except OSError as error:
            if error.errno == errno.ELOOP:
                raise InputError(f"{target} is a symlink; a run folder's files must be its own") from None
            raise
        try:
            os.write(handle, line)
            os.fsync(handle)
        finally:
            os.close(handle)

    def save_best_model(self, model) -> str:
        """Replace best_model.keras with `model`; returns the new file's SHA-256 (logged with its trial)."""
        target = self.path / BEST_MODEL_NAME
        with atomic_path(target) as temporary:
            model.save(temporary)
            digest = file_sha256(temporary)
        self.best_model_path = str(target)
        return digest

    def write_results(self, results: dict[str, Any]) -> None:
        write_json_atomic(self.path / RESULTS_NAME, results)

    def write_plots(self, optimize_result, trials, objective_scale: str = "accuracy") -> dict[str, str]:
        from harness.plots import write_plots

        return write_plots(optimize_result, trials, self.path / PLOTS_NAME, objective_scale)

    def close(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing the descriptor releases the flock
            self._lock_fd = None

    def __enter__(self) -> RunDirectory:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _lock(path: Path) -> int:
    import fcntl

    try:
        handle = os.open(path / LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
    except OSError as error:
        raise InputError(f"cannot write to {path} ({error.strerror}); choose a writable --out") from None
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(handle)
        raise InputError(f"run directory {path} is in use by another mlptune process; wait for it to finish "
                         "or choose another --out") from None
    fsync_directory(path)
    return handle


def _refuse_symlinks(path: Path) -> None:
    for folder, directories, files in os.walk(path):  # os.walk does not descend into linked folders
        for name in directories + files:
            if os.path.islink(os.path.join(folder, name)):
                raise InputError(f"{os.path.join(folder, name)} is a symlink; a run folder mlptune wrote has none, "
                                 "so this one cannot be resumed: start a new run")


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_bytes().decode("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as error:
        raise InputError(f"{path} is unreadable ({type(error).__name__}); start a new run") from None


def read_checkpoint(path: Path) -> tuple[list[Trial], bool]:
    """Finished trials from the append-only log, and whether its last line was torn (then dropped).

    Any other malformed line (bad UTF-8 or JSON, a field of the wrong type, an ok trial without a
    valid score, trials out of order) is an InputError: such a log was not left by a crash.
    """
    if not path.exists():
        return [], False
    try:
        content = path.read_bytes()
    except OSError as error:
        raise InputError(f"{path} is unreadable ({error.strerror}); start a new run") from None
    lines = content.split(b"\n")
    trials: list[Trial] = []
    torn = False
    for number, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            trials.append(Trial.from_json(json.loads(line.decode("utf-8"))))
        except (UnicodeDecodeError, ValueError, RecursionError, TrialFormatError) as error:
            if number == len(lines) - 1:  # no newline after it: the write was cut short
                torn = True
                break
            raise InputError(f"{path} line {number + 1} is corrupt ({error}); the run cannot be resumed, start a "
                             "new one") from None
    for expected, trial in enumerate(trials):
        if trial.index != expected:
            raise InputError(f"{path} skips trial {expected}; the run cannot be resumed, start a new one")
    return trials, torn


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
