"""The words mlptune prints: the header line and the end-of-session summary."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from harness.threads import DEFAULT_THREADS
from pytest_mlptune.baseline import baseline_files
from pytest_mlptune.options import TuneSettings
from pytest_mlptune.verdict import Status


def header_line(*, settings: TuneSettings, environment_key: str, baseline_environment: str | None = None) -> str:
    if not settings.tune:
        return "mlptune: tune off (tests marked tune are skipped; run them with --tune)"
    mode = "update baselines" if settings.update else "check baselines"
    repeats = f", repeats {settings.repeats}" if settings.update and settings.repeats > 1 else ""
    if settings.trials_per_batch > 1:
        repeats += f", {settings.trials_per_batch} trials per batch"
    if settings.threads != DEFAULT_THREADS:
        repeats += f", TensorFlow threads {settings.threads or 'one per core'}"
    if settings.workers or settings.scheduler:
        repeats += f", on Dask ({f'{settings.workers} workers' if settings.workers else settings.scheduler})"
    against = f" (judged against {baseline_environment}'s)" if baseline_environment not in (None, environment_key) else ""
    return (f"mlptune: tune on ({mode}), n_calls {settings.n_calls}, seed {settings.seed}{repeats}, "
            f"environment {environment_key}, baselines {settings.baselines_dir}{against}")


@dataclass(slots=True)
class TuneReport:
    """Rows gathered from test reports (also those sent by xdist workers), and baselines seen."""

    rows: list[dict] = field(default_factory=list)
    used_baselines: set[str] = field(default_factory=set)
    unchecked: list[str] = field(default_factory=list)  # tuning tests that were skipped or ran no check

    def table(self) -> list[str]:
        """One line per test: the replay's mean difference and bound, then the search's best against its baseline."""
        columns = ("test", "replay", "bound", "best", "baseline", "delta", "bound", "verdict", "calls", "seconds")
        body = []
        for row in sorted(self.rows, key=lambda r: r["test"]):
            best, baseline = row["best"], row["baseline"]
            delta = best - baseline if best is not None and baseline is not None else None
            replay = "-"
            if row.get("replay_delta") is not None:
                replay = f"{row['replay_delta']:+.4f} ± {row['replay_stderr']:.4f} ({row['replay_shape']})"
            body.append((row["test"], replay, _num(row.get("replay_bound")), _num(best), _num(baseline),
                         _num(delta, signed=True), _num(row.get("search_bound")), row["status"], str(row["calls"]),
                         f"{row['seconds']:.1f}"))
        widths = [max(len(c), *(len(r[i]) for r in body)) for i, c in enumerate(columns)]
        left = {0, 7}
        lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths))]
        lines += ["  ".join(v.ljust(w) if i in left else v.rjust(w) for i, (v, w) in enumerate(zip(r, widths)))
                  for r in body]
        return lines

    def summary(self) -> list[str]:
        counts = Counter(row["status"] for row in self.rows)
        phrases = {
            Status.OK: "{} tuning result{} within the baseline's noise",
            Status.IMPROVED: "{} tuning result{} improved on the baseline (passed; consider updating it)",
            Status.UPDATED: "{} baseline{} written",
            Status.REGRESSED: "{} tuning result{} regressed",
            Status.NEW: "{} tuning test{} without a baseline (run: mlptune baselines update <test>)",
            Status.NOT_COMPARABLE: "{} baseline{} not comparable (different budget, data or space)",
            Status.ERROR: "{} baseline file{} unusable",
        }
        lines = [phrases[status].format(counts[status.value], "" if counts[status.value] == 1 else "s") + "."
                 for status in phrases if counts[status.value]]
        if self.unchecked:
            count = len(self.unchecked)
            lines.append(f"{count} tuning test{'s' if count != 1 else ''} checked nothing (skipped, or no "
                         f"mlptune.check call), so {'they' if count != 1 else 'it'} failed: "
                         + ", ".join(sorted(self.unchecked)))
        return lines


def unused_baselines(*, baselines_dir: Path, environment_key: str, used: set[str]) -> list[Path]:
    directory = baselines_dir / environment_key
    if not directory.is_dir():
        return []
    return [path for path in baseline_files(directory, "*.json") if str(path.resolve()) not in used]


def _num(value: float | None, *, signed: bool = False) -> str:
    if value is None:
        return "-"
    return f"{value:+.4f}" if signed else f"{value:.4f}"
