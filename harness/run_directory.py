"""The folder of one `mlptune tune` run: its settings, checkpoint and results, and resuming it."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from harness.atomic import write_json_atomic
from harness.errors import InputError
from harness.search import CHECKPOINT_NAME
from harness.trial import Trial

SETTINGS_NAME = "run.json"
SETTINGS_SCHEMA = 1


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

    def to_json(self) -> dict[str, Any]:
        return {"schema": SETTINGS_SCHEMA, **asdict(self)}


def prepare_new_run(out: Path, settings: RunSettings) -> None:
    """Create `out` for a new run, refusing to overwrite an earlier one."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InputError(f"run directory {out} already exists; resume it with --resume {out} or choose another --out")
    try:
        out.mkdir(parents=True, exist_ok=True)
        write_json_atomic(out / SETTINGS_NAME, settings.to_json())
    except OSError as error:
        raise InputError(f"cannot write to {out} ({error.strerror}); choose a writable --out") from None


def load_run(out: Path, *, data_fingerprint: str | None = None) -> tuple[RunSettings, list[Trial], str | None]:
    """Settings, finished trials and the recorded data fingerprint of an earlier run."""
    settings_path = out / SETTINGS_NAME
    if not settings_path.is_file():
        raise InputError(f"{out} is not a run directory (no {SETTINGS_NAME}); give the --out of an earlier mlptune tune")
    try:
        raw = json.loads(settings_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise InputError(f"{settings_path} is unreadable ({error}); start a new run") from None
    if raw.get("schema") != SETTINGS_SCHEMA:
        raise InputError(f"{settings_path} has schema {raw.get('schema')!r}, this version reads {SETTINGS_SCHEMA}; "
                         "start a new run")
    fingerprint = raw.pop("data_fingerprint", None)
    raw.pop("schema")
    settings = RunSettings(**raw)
    return settings, read_checkpoint(out / CHECKPOINT_NAME), fingerprint


def record_data_fingerprint(out: Path, settings: RunSettings, fingerprint: str) -> None:
    write_json_atomic(out / SETTINGS_NAME, {**settings.to_json(), "data_fingerprint": fingerprint})


def read_checkpoint(path: Path) -> list[Trial]:
    """Finished trials from the append-only log; a torn last line (killed mid-write) is dropped."""
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").split("\n")
    trials = []
    for number, line in enumerate(lines):
        if not line.strip():
            continue
        is_last = number >= len(lines) - 1
        try:
            trials.append(Trial.from_json(json.loads(line)))
        except (ValueError, KeyError, TypeError):
            if is_last:
                break
            raise InputError(f"{path} line {number + 1} is corrupt; the run cannot be resumed, start a new one") from None
    for expected, trial in enumerate(trials):
        if trial.index != expected:
            raise InputError(f"{path} skips trial {expected}; the run cannot be resumed, start a new one")
    return trials


def rewrite_checkpoint(path: Path, trials: list[Trial]) -> None:
    """Drop a torn last line before appending again."""
    from harness.atomic import write_text_atomic

    write_text_atomic(path, "".join(json.dumps(t.to_json(), sort_keys=True) + "\n" for t in trials))


def settings_differences(old: RunSettings, new: RunSettings) -> list[str]:
    return [f"{name} {getattr(old, name)!r} -> {getattr(new, name)!r}"
            for name in old.__dataclass_fields__ if getattr(old, name) != getattr(new, name)]
