"""The panel's table, from the JSON files a panel run wrote, and the verdict it gives at other settings.

    python -m tests.panel.report panel-results                 the table (markdown), at the defaults
    python -m tests.panel.report panel-results --seeds 2 --k 3 the same cases judged with 2 replay seeds

Replaying with fewer seeds is judged from the first R of the recorded seeds on both sides, which is
exactly what a baseline recorded with R seeds would replay; the search signal is unchanged.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

from pytest_mlptune.fixture import REPLAY_SEEDS
from pytest_mlptune.options import DEFAULT_FLOOR, DEFAULT_K, DEFAULT_SEARCH_FLOOR
from pytest_mlptune.verdict import Status, compare_replay, compare_search
from tests.panel.mutations import MUTATIONS

REQUIRED_CATCH = 0.02
OLD_RULE_FLOOR = 0.01


def true_drop(original: dict, case: dict) -> tuple[float, float]:
    """The change's true drop on the baseline's configurations, with its standard error.

    Every retraining of those configurations counts: the fresh truth seeds, and the replay's own
    seeds (fixed seeds, chosen before the change, so they are as unbiased as fresh ones).
    """
    def everything(truth, replayed):
        return list(truth) + [score for row in replayed for score in row]

    if "truth_scores" not in original or "truth_scores" not in case:
        raise ValueError(f"{case['family']}/{case['mutation']} ran with MLPTUNE_PANEL_TRUTH=skip: it has no true drop")
    before = everything(original["truth_scores"], case["baseline_replay_scores"])
    after = everything(case["truth_scores"], case.get("replay_scores", []))
    drop = statistics.fmean(before) - statistics.fmean(after)
    stderr = (statistics.variance(before) / len(before) + statistics.variance(after) / len(after)) ** 0.5
    return drop, stderr


def judge_case(case: dict, *, seeds: int, k: float, floor: float, search_floor: float):
    baseline = [row[:seeds] for row in case["baseline_replay_scores"]]
    new = [row[:seeds] for row in case["replay_scores"]]
    replay = compare_replay(baseline_scores=baseline, new_scores=new, k=k, floor=floor)
    values = case["baseline_search_values"]
    search = compare_search(best=case["search_best"], baseline=statistics.fmean(values),
                            std=statistics.stdev(values) if len(values) > 1 else 0.0, k=k, floor=search_floor)
    regressed = Status.REGRESSED in (replay.status, search.status)
    return replay, search, regressed


def load(directory: Path) -> tuple[dict, list[dict]]:
    originals, cases = {}, []
    for path in sorted(directory.glob("*.json")):
        case = json.loads(path.read_text())
        if case["mutation"] == "none":
            originals[case["family"]] = case
        elif "replay_scores" in case:
            cases.append(case)
    return originals, cases


def table(directory: Path, *, seeds: int, k: float, floor: float, search_floor: float) -> list[str]:
    originals, cases = load(directory)
    lines = ["| problem | change | kind | true drop (± se) | replay (bound) | search best vs baseline (bound) "
             "| verdict | before: search best, floor 0.01 |",
             "|---|---|---|---|---|---|---|---|"]
    outcome = {"false alarms": 0, "harmless": 0, "caught >= 2 pts": 0, "regressions >= 2 pts": 0}
    order = list(MUTATIONS)
    for case in sorted(cases, key=lambda c: (c["family"], order.index(c["mutation"]))):
        drop, drop_se = true_drop(originals[case["family"]], case)
        replay, search, regressed = judge_case(case, seeds=seeds, k=k, floor=floor, search_floor=search_floor)
        old = case["search_best"] < original_search(originals, case) - OLD_RULE_FLOOR
        kind = MUTATIONS[case["mutation"]].kind
        if kind == "harmless":
            outcome["harmless"] += 1
            outcome["false alarms"] += regressed
        elif drop >= REQUIRED_CATCH:
            outcome["regressions >= 2 pts"] += 1
            outcome["caught >= 2 pts"] += regressed
        lines.append(
            f"| {case['family']} | {case['mutation']} | {kind} | {drop:+.3f} ± {drop_se:.3f} | "
            f"{replay.delta:+.3f} ± {replay.stderr:.3f} ({replay.bound:.3f}) | "
            f"{search.best:.3f} vs {search.baseline:.3f} ({search.bound:.3f}) | "
            f"{'regressed' if regressed else 'pass'} | {'regressed' if old else 'pass'} |")
    lines.append("")
    lines.append(f"settings: {seeds} replay seeds, k {k:g}, floor {floor:g}, search floor {search_floor:g}; "
                 + ", ".join(f"{key} {value}" for key, value in outcome.items()))
    return lines


def original_search(originals: dict, case: dict) -> float:
    """The single-search baseline the old rule compared with: the first search of the recorded spread."""
    return originals[case["family"]]["baseline_search_values"][0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--seeds", type=int, default=REPLAY_SEEDS)  # the shipped rule, as the docstring says
    parser.add_argument("--k", type=float, default=DEFAULT_K)
    parser.add_argument("--floor", type=float, default=DEFAULT_FLOOR)
    parser.add_argument("--search-floor", type=float, default=DEFAULT_SEARCH_FLOOR)
    options = parser.parse_args()
    for line in table(options.directory, seeds=options.seeds, k=options.k, floor=options.floor,
                      search_floor=options.search_floor):
        print(line)


if __name__ == "__main__":
    main()
