"""One case of the mutation panel, run by the panel in its own pytest process through the real plugin.

Not collected by the suite (the name does not start with test_); `test_mutation_panel.py` runs it as
`pytest tests/panel/case.py --tune ...` with the family and mutation in the environment:

- MLPTUNE_PANEL_FAMILY: fashion or digits (tests/tuning/families.py), or digits_cnn (tests/panel/cnn.py);
- MLPTUNE_PANEL_MUTATION: a name from tests/panel/mutations.py, or "none" (the unchanged problem);
- MLPTUNE_PANEL_OUT: a JSON file this case writes: the verdict's numbers and the true drop.

The true drop is measured apart from the verdict: the baseline's configurations are retrained
with fresh seeds under the change (and, once per family, without it) and their means compared.
"""

import json
import os
from pathlib import Path

import pytest

from harness import load_digits
from harness.replay import ReplayConfig, replay_seed, run_replay
from pytest_mlptune.baseline import read_baseline
from tests.panel.cnn import CNN_SPACE, mutated_cnn
from tests.panel.mutations import MUTATIONS, apply_to_data, mutated_mlp
from tests.tuning.families import DIGITS, FAMILIES, Family

PANEL_FAMILIES = {**FAMILIES, "digits_cnn": Family(name="digits_cnn", load=load_digits, epochs=DIGITS.epochs,
                                                   space=CNN_SPACE)}
FAMILY = PANEL_FAMILIES[os.environ.get("MLPTUNE_PANEL_FAMILY", "digits")]
BUILDER = mutated_cnn if FAMILY.name == "digits_cnn" else mutated_mlp
MUTATION = MUTATIONS.get(os.environ.get("MLPTUNE_PANEL_MUTATION", "none"))
TRUTH_SEEDS = 3  # fresh training seeds per configuration for the true drop, apart from the replay's
TRUTH_STREAM = 1_000  # replay_seed repeats from here on are never a baseline's replay seeds

def model_for(data):
    import functools

    return functools.partial(BUILDER, input_shape=data.input_shape, num_classes=data.num_classes,
                             variant=MUTATION.model if MUTATION is not None else None)


def truth_scores(baseline, data) -> list[float]:
    configs = [ReplayConfig(params=record.params,
                            seeds=tuple(replay_seed(0, rank, TRUTH_STREAM + r) for r in range(TRUTH_SEEDS)))
               for rank, record in enumerate(baseline.replay)]
    replayed = run_replay(create_model=model_for(data), data=data, configs=configs, epochs=FAMILY.epochs,
                          batch_size=FAMILY.batch_size)
    return [score for row in replayed.scores for score in row]


@pytest.mark.tune
def test_case(mlptune, request):
    data = FAMILY.load()
    if MUTATION is not None:
        data = apply_to_data(MUTATION, data)
    result = mlptune.search(create_model=model_for(data), space=FAMILY.space, data=data, epochs=FAMILY.epochs,
                            batch_size=FAMILY.batch_size)
    outcome = {"family": FAMILY.name, "mutation": MUTATION.name if MUTATION else "none",
               "search_best": result.best.score}
    try:
        verdict = mlptune.check(result)
        outcome["status"] = verdict.status.value
    except pytest.fail.Exception:
        outcome["status"] = "regressed"
        raise
    finally:
        row = next((json.loads(value) for name, value in request.node.user_properties if name == "mlptune_row"), None)
        if row is not None:
            outcome.update(status=row["status"], row=row)
        baseline = read_baseline(mlptune.baseline_path)
        if mlptune.last_replay is not None:
            outcome["replay_scores"] = [list(row) for row in mlptune.last_replay.scores]
        outcome["baseline_replay_scores"] = [list(row) for row in baseline.replay_scores]
        outcome["baseline_search_values"] = list(baseline.spread.values)
        if os.environ.get("MLPTUNE_PANEL_TRUTH") != "skip":  # see CI_CASES in test_mutation_panel.py
            outcome["truth_scores"] = truth_scores(baseline, data)
        outcome["baseline_search"] = baseline.value
        Path(os.environ["MLPTUNE_PANEL_OUT"]).write_text(json.dumps(outcome, indent=1))
