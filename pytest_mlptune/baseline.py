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

SCHEMA = 2  # 2: the replayed configurations and their scores; the search's value moved under "search"
METRIC = "val_accuracy"
_SAFE = re.compile(r"[^A-Za-z0-9._\-\[\]]")


class BaselineError(Exception):
    """A baseline file that cannot be used (corrupt, truncated, foreign or from another schema)."""


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
class ReplayRecord:
    """One of the search's best configurations, retrained with each of `seeds`."""

    params: dict[str, Any]
    seeds: tuple[int, ...]
    scores: tuple[float, ...]

    def to_json(self) -> dict[str, Any]:
        return {"params": self.params, "seeds": list(self.seeds), "scores": list(self.scores)}


@dataclass(frozen=True, slots=True)
class Baseline:
    """What a tuning test must keep reaching, and the conditions it was reached under."""

    test: str
    environment_key: str
    value: float  # the search's pinned best: the single best, or the mean of the repeats
    spread: Spread
    replay: tuple[ReplayRecord, ...]
    budget: dict[str, Any]
    data: dict[str, Any]
    space_fingerprint: str
    best_params: dict[str, Any]
    environment: dict[str, Any]
    created: str

    @property
    def std(self) -> float:
        return self.spread.std

    @property
    def replay_scores(self) -> list[tuple[float, ...]]:
        return [record.scores for record in self.replay]

    @property
    def replay_mean(self) -> float:
        return statistics.fmean(score for record in self.replay for score in record.scores)

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA, "test": self.test, "environment_key": self.environment_key, "metric": METRIC,
            "search": {"value": self.value, "spread": self.spread.to_json(), "best_params": self.best_params},
            "replay": {"configs": [record.to_json() for record in self.replay]},
            "budget": self.budget, "data": self.data, "space_fingerprint": self.space_fingerprint,
            "environment": self.environment, "created": self.created,
        }

    @classmethod
    def from_json(cls, data: Any) -> Baseline:
        if not isinstance(data, dict):
            raise BaselineError("not a JSON object")
        schema = data.get("schema")
        if isinstance(schema, bool) or not isinstance(schema, int):
            raise BaselineError("no schema version")
        if schema > SCHEMA:
            raise BaselineError(f"schema {schema} is newer than this pytest-mlptune reads ({SCHEMA}); upgrade it")
        if schema < SCHEMA:
            raise BaselineError(f"schema {schema} is older than this pytest-mlptune writes ({SCHEMA})")
        try:
            search, replay = _mapping(data["search"]), _mapping(data["replay"])
            spread = _mapping(search["spread"])
            values = tuple(_accuracy(v) for v in _sequence(spread["values"]))
            seeds = tuple(_seed(s) for s in _sequence(spread["seeds"]))
            records = tuple(_replay_record(item) for item in _sequence(replay["configs"]))
            baseline = cls(
                test=_text(data["test"]), environment_key=_text(data["environment_key"]),
                value=_accuracy(search["value"]), spread=Spread(values=values, seeds=seeds), replay=records,
                budget=_mapping(data["budget"]), data=_mapping(data["data"]),
                space_fingerprint=_text(data["space_fingerprint"]), best_params=_mapping(search["best_params"]),
                environment=_mapping(data["environment"]), created=_text(data["created"]),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise BaselineError(f"missing or malformed field ({type(error).__name__}: {error})") from None
        if not values or len(values) != len(seeds):
            raise BaselineError("the search spread needs one seed per value")
        pinned = values[0] if len(values) == 1 else statistics.fmean(values)
        if abs(baseline.value - pinned) > 1e-9:
            raise BaselineError(f"the search value {baseline.value!r} is not what its spread gives ({pinned!r})")
        if not records or len({len(record.seeds) for record in records}) != 1:
            raise BaselineError("the replay needs at least one configuration, each with the same number of seeds")
        return baseline


def _mapping(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise TypeError(f"expected an object, got {type(value).__name__}")
    return dict(value)


def _sequence(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise TypeError(f"expected a list, got {type(value).__name__}")
    return value


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value


def _accuracy(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise ValueError(f"expected an accuracy between 0 and 1, got {value!r}")
    return float(value)


def _seed(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"expected a non-negative integer seed, got {value!r}")
    return value


def _replay_record(value: Any) -> ReplayRecord:
    item = _mapping(value)
    seeds = tuple(_seed(s) for s in _sequence(item["seeds"]))
    scores = tuple(_accuracy(s) for s in _sequence(item["scores"]))
    if not seeds or len(seeds) != len(scores):
        raise ValueError("a replayed configuration needs one score per seed")
    return ReplayRecord(params=_mapping(item["params"]), seeds=seeds, scores=scores)


def baseline_from_results(*, test: str, environment_key: str, results: list, replay: list[ReplayRecord]) -> Baseline:
    """A baseline from one search or K repeats (then the pinned value is their mean), and its replay."""
    first = results[0]
    values = tuple(float(r.best.score) for r in results)
    spread = Spread(values=values, seeds=tuple(r.seed for r in results))
    return Baseline(
        test=test, environment_key=environment_key,
        value=values[0] if len(values) == 1 else spread.mean,
        spread=spread, replay=tuple(replay), budget=first.budget.to_json(), data=dict(first.data),
        space_fingerprint=first.space_fingerprint, best_params=dict(first.best.params),
        environment=dict(first.environment),
        created=datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
    )


# Node ids whose readable file name can be read back unambiguously: path segments without dots or
# dashes, `::`-separated identifiers, then an optional parameter id of safe characters.
_PLAIN_NODEID = re.compile(r"(?:[A-Za-z0-9_]+/)*[A-Za-z0-9_]+\.py(?:::[A-Za-z_][A-Za-z0-9_]*)+(?:\[[A-Za-z0-9_.\-\[\]]*\])?")


def file_name_for(nodeid: str) -> str:
    """A file name for a test id that is readable, injective and cannot leave its folder.

    `tests/tuning/test_x.py::test_y[a]` -> `tests.tuning.test_x--test_y[a].json`. That readable form
    is kept only for ids it maps back to unambiguously (`_PLAIN_NODEID`); any other id (a dot or
    dash in a folder name, `::` inside a parameter id, an unsafe character, a very long id) also
    gets a hash of the full id, so two ids never share a file. A plain name never ends in a
    dash and 16 hex digits, so it cannot meet a hashed one either.
    """
    path, _, name = nodeid.partition("::")
    path = path[:-3] if path.endswith(".py") else path
    readable = path.replace("/", ".").replace("\\", ".") + ("--" + name.replace("::", "--") if name else "")
    safe = _SAFE.sub("_", readable).lstrip(".") or "test"
    if not _PLAIN_NODEID.fullmatch(nodeid) or len(safe) > 150:
        digest = hashlib.sha256(nodeid.encode()).hexdigest()[:16]
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
    except (ValueError, RecursionError) as error:  # RecursionError: absurdly deep nesting
        raise BaselineError(f"not valid JSON ({type(error).__name__})") from None
    return Baseline.from_json(data)


def write_baseline(path: Path, baseline: Baseline) -> None:
    from harness.atomic import write_json_atomic

    write_json_atomic(path, baseline.to_json())


def baseline_files(directory: Path, pattern: str = "*/*.json") -> list[Path]:
    """Baseline files under `directory`; hidden names (a write's temporary file, left by a kill) are not."""
    return [path for path in sorted(directory.glob(pattern)) if not path.name.startswith(".")]


def recorded_environments(baselines_dir: Path, nodeid: str | None = None) -> list[str]:
    """The environment keys with a folder of baselines under `baselines_dir` (with one for `nodeid`, if given)."""
    if not baselines_dir.is_dir():
        return []
    name = file_name_for(nodeid) if nodeid is not None else None
    return sorted((folder.name for folder in baselines_dir.iterdir() if folder.is_dir() and (
        (folder / name).is_file() if name else baseline_files(folder, "*.json"))), key=_natural_order)


def _natural_order(key: str) -> list:
    """tf2.9 before tf2.10."""
    return [(0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", key)]


def environment_named(baselines_dir: Path, wanted: str) -> str:
    """The one recorded environment that `wanted` names: its whole key, or a run of its dash-separated parts.

    `tf2.21` or `py3.11-tf2.21` name `linux-x86_64-py3.11-tf2.21-keras3`, but `tf2.1` names no
    `tf2.15`. BaselineError when none or several match, naming those there are.
    """
    keys = recorded_environments(baselines_dir)
    if wanted in keys:
        return wanted
    wanted_parts = wanted.split("-")
    width = len(wanted_parts)
    matches = [key for key in keys
               if any(parts[i:i + width] == wanted_parts for parts in [key.split("-")] for i in range(len(parts)))]
    if len(matches) == 1:
        return matches[0]
    if not keys:
        raise BaselineError(f"there are no baselines under {baselines_dir}")
    if not matches:
        raise BaselineError(f"no environment under {baselines_dir} is {wanted!r}; recorded: {', '.join(keys)}")
    raise BaselineError(f"{wanted!r} names several environments ({', '.join(matches)}); give more of the key")


def all_baselines(baselines_dir: Path) -> list[tuple[Path, Baseline | BaselineError]]:
    """Every baseline file under `baselines_dir`, parsed, or the error that stops it."""
    found = []
    for path in baseline_files(baselines_dir):
        try:
            baseline = read_baseline(path)
        except BaselineError as error:
            found.append((path, error))
            continue
        if baseline is not None:
            found.append((path, baseline))
    return found
