"""Baseline files: one JSON per tuning test per environment key, schema-versioned, written atomically."""

from __future__ import annotations

import hashlib
import json
import re
import statistics
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

SCHEMA = 1
METRIC = "val_accuracy"
_SAFE = re.compile(r"[^A-Za-z0-9._\-\[\]]")


class BaselineError(Exception):
    """A baseline file that cannot be used (corrupt, truncated, foreign or from a newer schema)."""


@dataclass(frozen=True, slots=True)
class Spread:
    """Best values of K searches with different seeds."""

    values: tuple[float, ...]
    seeds: tuple[int, ...]

    @property
    def mean(self) -> float:
        return statistics.fmean(self.values)

    @property
    def std(self) -> float:
        return statistics.stdev(self.values) if len(self.values) > 1 else 0.0

    def to_json(self) -> dict[str, Any]:
        return {"mean": self.mean, "std": self.std, "min": min(self.values), "max": max(self.values),
                "values": list(self.values), "seeds": list(self.seeds)}


@dataclass(frozen=True, slots=True)
class Baseline:
    """What a tuning test must keep reaching, and the conditions it was reached under."""

    test: str
    environment_key: str
    value: float  # the pinned value: the single best, or the mean of the repeats
    spread: Spread
    budget: dict[str, Any]
    data: dict[str, Any]
    space_fingerprint: str
    best_params: dict[str, Any]
    environment: dict[str, Any]
    created: str

    @property
    def std(self) -> float:
        return self.spread.std

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA, "test": self.test, "environment_key": self.environment_key, "metric": METRIC,
            "value": self.value, "spread": self.spread.to_json(), "budget": self.budget, "data": self.data,
            "space_fingerprint": self.space_fingerprint, "best_params": self.best_params,
            "environment": self.environment, "created": self.created,
        }

    @classmethod
    def from_json(cls, data: Any) -> Baseline:
        if not isinstance(data, dict):
            raise BaselineError("not a JSON object")
        schema = data.get("schema")
        if not isinstance(schema, int):
            raise BaselineError("no schema version")
        if schema > SCHEMA:
            raise BaselineError(f"schema {schema} is newer than this pytest-mlptune reads ({SCHEMA}); upgrade it")
        if schema < SCHEMA:
            raise BaselineError(f"schema {schema} is older than this pytest-mlptune writes ({SCHEMA})")
        try:
            spread = data["spread"]
            values = tuple(float(v) for v in spread["values"])
            baseline = cls(
                test=str(data["test"]), environment_key=str(data["environment_key"]), value=float(data["value"]),
                spread=Spread(values=values, seeds=tuple(int(s) for s in spread["seeds"])),
                budget=dict(data["budget"]), data=dict(data["data"]),
                space_fingerprint=str(data["space_fingerprint"]), best_params=dict(data["best_params"]),
                environment=dict(data["environment"]), created=str(data["created"]),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise BaselineError(f"missing or malformed field ({type(error).__name__}: {error})") from None
        if not values or not 0.0 <= baseline.value <= 1.0:
            raise BaselineError("value or spread out of range")
        return baseline


def baseline_from_results(*, test: str, environment_key: str, results: list) -> Baseline:
    """A baseline from one search, or from K repeats (then the pinned value is their mean)."""
    first = results[0]
    values = tuple(float(r.best.score) for r in results)
    spread = Spread(values=values, seeds=tuple(r.seed for r in results))
    return Baseline(
        test=test, environment_key=environment_key,
        value=values[0] if len(values) == 1 else spread.mean,
        spread=spread, budget=first.budget.to_json(), data=dict(first.data),
        space_fingerprint=first.space_fingerprint, best_params=dict(first.best.params),
        environment=dict(first.environment),
        created=datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
    )


def file_name_for(nodeid: str) -> str:
    """A file name for a test id that is readable, unique and cannot leave its folder.

    `tests/tuning/test_x.py::test_y[a]` -> `tests.tuning.test_x--test_y[a].json`. Characters outside
    a safe set become `_`, and then a hash of the full id keeps two ids from sharing a file.
    """
    path, _, name = nodeid.partition("::")
    path = path[:-3] if path.endswith(".py") else path
    readable = path.replace("/", ".").replace("\\", ".") + ("--" + name.replace("::", "--") if name else "")
    safe = _SAFE.sub("_", readable).lstrip(".") or "test"
    if safe != readable or len(safe) > 150:
        digest = hashlib.sha256(nodeid.encode()).hexdigest()[:10]
        safe = f"{safe[:150]}-{digest}"
    return safe + ".json"


def baseline_path(baselines_dir: Path, environment_key: str, nodeid: str) -> Path:
    directory = (baselines_dir / _SAFE.sub("_", environment_key)).resolve()
    path = (directory / file_name_for(nodeid)).resolve()
    if path.parent != directory:  # cannot happen with the safe set above; checked all the same
        raise BaselineError(f"test id {nodeid!r} would escape the baselines directory")
    return path


def read_baseline(path: Path) -> Baseline | None:
    """The baseline at `path`, None if there is none; BaselineError if the file is unusable."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as error:
        raise BaselineError(f"unreadable ({error})") from None
    try:
        data = json.loads(text)
    except ValueError as error:
        raise BaselineError(f"not valid JSON ({error})") from None
    return Baseline.from_json(data)


def write_baseline(path: Path, baseline: Baseline) -> None:
    from harness.atomic import write_json_atomic

    write_json_atomic(path, baseline.to_json())


def all_baselines(baselines_dir: Path) -> list[tuple[Path, Baseline | BaselineError]]:
    """Every baseline file under `baselines_dir`, parsed, or the error that stops it."""
    found = []
    for path in sorted(baselines_dir.glob("*/*.json")):
        try:
            baseline = read_baseline(path)
        except BaselineError as error:
            found.append((path, error))
            continue
        if baseline is not None:
            found.append((path, baseline))
    return found
