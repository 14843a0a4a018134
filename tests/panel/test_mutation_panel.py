"""The mutation panel: does the verdict pass harmless changes and catch real regressions?

Each case runs `tests/panel/case.py` in its own pytest process, through the installed plugin, against
a baseline recorded from the unchanged problem. Harmless changes must pass; a regression must fail
whenever its true drop (the baseline's configurations retrained with fresh seeds, with and without
the change) is 2 points or more; smaller ones are reported, not asserted.

    make panel                                  every case, three problems (over an hour here)
    pytest tests/panel -m panel_ci              the small part CI runs

Results go to MLPTUNE_PANEL_RESULTS (default: the session's temporary folder) as one JSON per
case; `python -m tests.panel.report DIR` turns them into the table of docs/verdict.md.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.panel.mutations import HARMLESS, MUTATIONS
from tests.panel.report import REQUIRED_CATCH, true_drop
from tests.tuning.families import FAMILIES as GATE_FAMILIES

ROOT = Path(__file__).resolve().parents[2]
CASE = "tests/panel/case.py"
# CI's cases. It skips the true-drop retraining (a third of each case's training) and asserts by
# kind: the harmless change must pass, the regression must fail; its true drop was measured by the
# whole panel (docs/verdict.md: 0.066 +- 0.006 on digits, far above REQUIRED_CATCH). Only a case
# whose measured drop is that clear may join this set.
CI_CASES = {("digits", "row_order"), ("digits", "label_noise_30")}
SKIP_TRUTH = os.environ.get("MLPTUNE_PANEL_TRUTH") == "skip"
FAMILY_NAMES = ("fashion", "digits", "digits_cnn")


def _results_dir(tmp_path_factory) -> Path:
    configured = os.environ.get("MLPTUNE_PANEL_RESULTS")
    path = Path(configured) if configured else tmp_path_factory.getbasetemp() / "panel-results"
    path.mkdir(parents=True, exist_ok=True)
    return path


def run_case(*, family: str, mutation: str, baselines: Path, out: Path, update: bool = False,
             python: str = sys.executable, extra_args: tuple[str, ...] = ()) -> dict:
    """One case in its own pytest process (`python`: another environment's interpreter, as across_environments runs)."""
    env = {**os.environ, "MLPTUNE_PANEL_FAMILY": family, "MLPTUNE_PANEL_MUTATION": mutation,
           "MLPTUNE_PANEL_OUT": str(out), "TF_CPP_MIN_LOG_LEVEL": "3"}
    if mutation in MUTATIONS:
        env.update(MUTATIONS[mutation].environment)
    command = [python, "-m", "pytest", CASE, "--tune", "--n-calls", "10", "--baselines-dir", str(baselines),
               "-p", "no:cacheprovider", "-p", "no:randomly", "--benchmark-disable", "-q", *extra_args]
    if update:
        command += ["--update-baselines", "--tune-repeats", os.environ.get("MLPTUNE_PANEL_REPEATS", "1")]
    completed = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    if not out.exists():
        raise AssertionError(f"panel case {family}/{mutation} wrote no result:\n{completed.stdout[-3000:]}\n"
                             f"{completed.stderr[-3000:]}")
    return json.loads(out.read_text())


@pytest.fixture(scope="session")
def recorded(tmp_path_factory):
    """Per family: the baseline of the unchanged problem and its configurations' fresh-seed scores."""
    results = _results_dir(tmp_path_factory)
    cache: dict[str, tuple[Path, dict]] = {}

    def get(family: str) -> tuple[Path, dict]:
        if family not in cache:
            baselines, out = results / f"baselines-{family}", results / f"{family}-none.json"
            if os.environ.get("MLPTUNE_PANEL_REUSE_BASELINES") and out.exists():  # to add cases to a finished run
                original = json.loads(out.read_text())
            elif SKIP_TRUTH and _adopt_gate_baseline(family, baselines):
                original = {}  # only the true drops read the unchanged problem's own run, and CI skips them
            else:
                original = run_case(family=family, mutation="none", baselines=baselines, update=True, out=out)
            cache[family] = (baselines, original)
        return cache[family]

    return get


GATE_TEST = "tests/tuning/test_reference.py::test_reference_mlp[{family}]"
CASE_TEST = f"{CASE}::test_case"


def _adopt_gate_baseline(family: str, baselines: Path, key: str | None = None) -> bool:
    """Use the tuning gate's committed baseline of `family` (in environment `key`, default this one) as
    the case's own; False if there is none.

    The gate's test and the unchanged case run the same search (family, seed, budget, model), so
    recording the case's baseline again would repeat the gate's work. CI's cases then judge their
    changes against the very baseline the gate uses in this environment.
    """
    from dataclasses import replace

    from harness.environment import environment_key
    from pytest_mlptune.baseline import baseline_path, read_baseline, write_baseline

    if family not in GATE_FAMILIES:  # the CNN is the panel's own family
        return False
    key = key or environment_key()
    committed = read_baseline(baseline_path(ROOT / "baselines", key, GATE_TEST.format(family=family)))
    if committed is None:
        return False
    write_baseline(baseline_path(baselines, key, CASE_TEST), replace(committed, test=CASE_TEST))
    return True


def _cases():
    for family in FAMILY_NAMES:
        for name in MUTATIONS:
            marks = [pytest.mark.panel, pytest.mark.xdist_group(name=family)]
            if (family, name) in CI_CASES:
                marks.append(pytest.mark.panel_ci)
            yield pytest.param(family, name, marks=marks, id=f"{family}-{name}")


@pytest.mark.parametrize(("family", "mutation"), list(_cases()))
def test_mutation(family, mutation, recorded, tmp_path_factory):
    if SKIP_TRUTH and (family, mutation) not in CI_CASES:
        pytest.fail("MLPTUNE_PANEL_TRUTH=skip is for CI's cases only: the others need their true drop measured")
    baselines, original = recorded(family)
    case = run_case(family=family, mutation=mutation, baselines=baselines,
                    out=_results_dir(tmp_path_factory) / f"{family}-{mutation}.json")
    drop = None if SKIP_TRUTH else true_drop(original, case)[0]  # None: measured by the whole panel (CI_CASES)
    case.update(true_drop=drop, kind=MUTATIONS[mutation].kind)
    (_results_dir(tmp_path_factory) / f"{family}-{mutation}.json").write_text(json.dumps(case, indent=1))
    if MUTATIONS[mutation].kind == HARMLESS:
        assert case["status"] in ("ok", "improved"), f"false alarm on a harmless change: {case['row']['message']}"
    elif drop is None or drop >= REQUIRED_CATCH:
        size = "of the size the whole panel measured" if drop is None else f"of {drop:.4f}"
        assert case["status"] == "regressed", f"missed a regression {size}: {case['row']['message']}"
