"""The digits cases of the mutation panel in another TensorFlow, judged against two baselines.

After a TensorFlow upgrade, `--baselines-from` judges the new environment against the old one's
baselines. This measures what that costs: every digits case (the unchanged problem and each
mutation) runs under the interpreter given, once against that environment's own committed gate
baseline and once against another environment's, and the two verdicts are printed side by side.

    .venv/bin/tox -e tf215-gate --notest
    .venv/bin/python -m tests.panel.across_environments .tox/tf215-gate/bin/python tf2.15 tf2.21 OUT

Each case runs in its own pytest process, two at a time; about 20 minutes here. The true drop of
each regression is not measured (docs/verdict.md has it for the default environment).
"""

from __future__ import annotations

import argparse
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from pytest_mlptune.baseline import environment_named
from tests.panel.mutations import MUTATIONS
from tests.panel.test_mutation_panel import ROOT, _adopt_gate_baseline, run_case

FAMILY = "digits"


def run_against(python: str, key: str, out: Path) -> dict[str, dict]:
    """Every case under `python`, judged against `key`'s committed gate baseline: mutation -> its verdict row."""
    baselines = out / "baselines"
    if not _adopt_gate_baseline(FAMILY, baselines, key=key):
        raise SystemExit(f"no committed {FAMILY} gate baseline in {key}")

    def one(mutation: str) -> tuple[str, dict]:
        case = run_case(family=FAMILY, mutation=mutation, baselines=baselines, out=out / f"{FAMILY}-{mutation}.json",
                        python=python, extra_args=(f"--baselines-from={key}",))
        return mutation, case["row"]

    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(pool.map(one, ["none", *MUTATIONS]))


def cell(row: dict) -> str:
    status = f"**{row['status']}**" if row["status"] == "regressed" else row["status"]
    return f"{row['replay_delta']:+.4f} ({row['replay_bound']:.4f}), {row['best']:.4f} vs {row['baseline']:.4f}: {status}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("python", help="the interpreter of the environment under test")
    parser.add_argument("own", help="that environment's key (or a unique part) under baselines/")
    parser.add_argument("other", help="the environment to judge against as well, e.g. the TensorFlow before")
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    keys = [environment_named(ROOT / "baselines", wanted) for wanted in (args.own, args.other)]
    own, other = (run_against(args.python, key, args.out / key) for key in keys)
    (args.out / "rows.json").write_text(json.dumps({"own": own, "other": other}, indent=1))
    print(f"| case | kind | against {keys[0]} | against {keys[1]} |\n|---|---|---|---|")
    for mutation in ["none", *MUTATIONS]:
        kind = MUTATIONS[mutation].kind if mutation in MUTATIONS else "harmless"
        print(f"| {mutation} | {kind} | {cell(own[mutation])} | {cell(other[mutation])} |")


if __name__ == "__main__":
    main()
