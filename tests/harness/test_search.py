"""End-to-end searches on digits with tiny budgets: artefacts, determinism, failures, resume."""

import json
import math
from dataclasses import replace
from pathlib import Path

import keras
import numpy as np
import pytest
from skopt.space import Categorical, Integer, Real

from harness.errors import InputError
from harness.model import create_model
from harness.objective import objective
from harness.run_directory import file_sha256
from harness.search import (
    SearchAborted,
    acquisition_optimizer,
    batch_sizes,
    default_initial_points,
    make_optimizer,
    planned_budget,
    run_search,
)
from harness.space import DEFAULT_POINT, REFERENCE_SPACE

RECORDED = Path(__file__).parent / "recorded"

FAST = dict(epochs=1, batch_size=64)




def test_full_run_writes_every_artefact_and_the_saved_model_scores_the_recorded_best(digits, digits_model, tmp_path):
    out = tmp_path / "run"
    result = run_search(create_model=digits_model, data=digits, n_calls=4, seed=0, out_dir=out, **FAST)
    assert [t.index for t in result.trials] == [0, 1, 2, 3]
    assert result.trials[0].params == dict(zip(
        ["learning_rate", "num_layers", "num_nodes", "hidden_activation"], DEFAULT_POINT))
    for trial in result.trials:
        assert all(type(v) in (int, float, str) for v in trial.params.values())
    for name in ("results.json", "trials.jsonl", "best_model.keras", "plots/convergence.png",
                 "plots/objective.png", "plots/evaluations.png"):
        assert (out / name).is_file(), name
    runs = sorted(p.name for p in (out / "tensorboard").iterdir() if p.is_dir())
    assert len(runs) == 4 and runs[0].startswith("trial_000_learning_rate_1.0e-02_num_layers_3")
    saved = json.loads((out / "results.json").read_text())
    assert saved["best"]["score"] == result.best.score
    assert saved["best"]["model_sha256"] == file_sha256(out / "best_model.keras")  # what resume and report check
    assert set(saved["environment"]) >= {"python", "tensorflow", "keras", "numpy", "scikit-optimize", "platform"}
    assert saved["timing"]["optimizer_seconds"] > 0 and saved["timing"]["training_seconds"] > 0
    model = keras.models.load_model(result.best_model_path, safe_mode=True)
    _, accuracy = model.evaluate(digits.x_val, digits.y_val, verbose=0)
    assert accuracy == pytest.approx(result.best.score, abs=1e-7)


def test_the_best_model_is_reloaded_and_scored_when_asked_and_a_changed_file_is_never_loaded(
        digits, digits_model, tmp_path, monkeypatch):
    plain = run_search(create_model=digits_model, data=digits, n_calls=2, seed=0, out_dir=tmp_path / "plain", **FAST)
    assert "best_model_check" not in plain.to_json()  # not asked: the plugin's searches skip the reload
    result = run_search(create_model=digits_model, data=digits, n_calls=2, seed=0, out_dir=tmp_path / "run",
                        score_best_model=True, **FAST)
    check = result.to_json()["best_model_check"]
    assert check["matches_recorded"] is True and check["val_accuracy_reloaded"] == pytest.approx(result.best.score)
    assert 0 < check["test_accuracy"] <= 1
    assert json.loads((tmp_path / "run" / "results.json").read_text())["best_model_check"] == check

    monkeypatch.setattr("harness.search.file_sha256", lambda path: "not the logged digest")
    changed = run_search(create_model=digits_model, data=digits, n_calls=2, seed=0, out_dir=tmp_path / "changed",
                         score_best_model=True, **FAST)
    assert changed.to_json()["best_model_check"] == {"sha256_matches": False}


@pytest.mark.slow  # an end-to-end run: make test-slow
def test_same_seed_same_trials_other_seed_other_trials(digits, digits_model):
    def trials(seed):
        result = run_search(create_model=digits_model, data=digits, n_calls=3, seed=seed, **FAST)
        return [(t.params, t.score, t.seed) for t in result.trials]

    first = trials(1)
    assert trials(1) == first
    assert trials(2) != first


def test_initial_points_scale_with_the_budget():
    assert default_initial_points(10, has_x0=True) == 3
    assert default_initial_points(50, has_x0=True) == 11  # the blog's: x0 plus gp_minimize's 10 random points
    assert default_initial_points(100, has_x0=False) == 10
    assert default_initial_points(1, has_x0=True) == 1
    # mlptune tune draws at most 5: the same at 10 calls, 6 with the starting point at 50
    assert default_initial_points(10, has_x0=True, max_drawn=5) == 3
    assert default_initial_points(50, has_x0=True, max_drawn=5) == 6


def test_a_latin_hypercube_puts_each_initial_point_in_its_own_slice_of_every_range():
    def first_points(design, seed=0, count=6):
        optimizer = make_optimizer(REFERENCE_SPACE, n_initial_points=count, acq_func="EI", seed=seed,
                                   initial_design=design)
        points = []
        for _ in range(count):
            points.append(optimizer.ask())
            optimizer.tell(points[-1], -0.5)
        return points

    lhs = first_points("lhs")
    assert lhs == first_points("lhs")  # the same seed, the same design
    assert lhs != first_points("lhs", seed=1) and lhs != first_points("random")
    # in the space's unit cube (learning rate on a log scale), 6 points fall into 6 different sixths of each range
    from skopt.space import Space

    unit = Space(REFERENCE_SPACE)
    unit.set_transformer("normalize")
    columns = np.array(unit.transform(lhs))
    learning_rate, num_layers, num_nodes = columns[:, 0], columns[:, 1], columns[:, 2]
    for column in (learning_rate, num_nodes):
        assert len({min(int(value * 6), 5) for value in column}) == 6
    assert len(set(num_layers)) >= 5  # 8 whole numbers in 6 slices: neighbours may round alike


def test_random_initial_points_are_the_blog_searchs_bit_for_bit():
    from skopt import Optimizer

    ours = make_optimizer(REFERENCE_SPACE, n_initial_points=11, acq_func="EI", seed=3)
    assert isinstance(ours, Optimizer) and ours._initial_samples is None  # skopt's own rvs draws, as gp_minimize's


def test_batches_hold_q_trials_but_never_pass_the_initial_points():
    assert batch_sizes(n_calls=50, trials_per_batch=1, n_initial_points=11) == [1] * 50
    assert batch_sizes(n_calls=50, trials_per_batch=4, n_initial_points=11) == [4, 4, 3] + [4] * 9 + [3]
    assert batch_sizes(n_calls=50, trials_per_batch=16, n_initial_points=11) == [11, 16, 16, 7]
    assert batch_sizes(n_calls=3, trials_per_batch=8, n_initial_points=3) == [3]


def test_points_are_picked_by_sampling_unless_every_dimension_is_real():
    assert acquisition_optimizer(REFERENCE_SPACE) == "sampling"
    assert acquisition_optimizer([Real(0.1, 1.0, name="a"), Integer(1, 3, name="b")]) == "sampling"
    assert acquisition_optimizer([Real(0.1, 1.0, name="a"), Real(1, 3, name="b")]) == "lbfgs"


def test_the_next_point_has_the_expected_improvement_the_model_promises():
    """Replays the first 42 trials of a real blog-protocol run (seed 0).

    There skopt's L-BFGS proposed [0.00091, 4, 10, 'tanh'] with an expected improvement of 1e-77,
    and the run spent its last 13 calls near that point; the best of 10,000 random points had 0.015.
    """
    from skopt.acquisition import gaussian_ei

    rows = json.loads((RECORDED / "blog_protocol_seed0_42_trials.json").read_text())["trials"]
    names = [dimension.name for dimension in REFERENCE_SPACE]
    optimizer = make_optimizer(REFERENCE_SPACE, n_initial_points=11, acq_func="EI", seed=0)
    optimizer.tell([[row["params"][name] for name in names] for row in rows], [-row["score"] for row in rows])
    proposal = optimizer.ask()

    def expected_improvement(points):
        return gaussian_ei(optimizer.space.transform(points), optimizer.models[-1], y_opt=min(optimizer.yi), xi=0.01)

    best_random = expected_improvement(optimizer.space.rvs(10_000, random_state=123)).max()
    assert best_random > 0.01
    assert expected_improvement([proposal])[0] >= 0.5 * best_random


def test_failed_trials_are_recorded_and_never_best(digits, tmp_path):
    def fragile(units, learning_rate):
        if units > 20:
            raise RuntimeError("out of memory (simulated)")
        model = keras.Sequential([keras.Input((8, 8)), keras.layers.Flatten(),
                                  keras.layers.Dense(units, activation="relu"), keras.layers.Dense(10, activation="softmax")])
        model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        return model

    space = [Integer(4, 40, name="units"), Real(1e-3, 1e-1, prior="log-uniform", name="learning_rate")]
    result = run_search(create_model=fragile, data=digits, space=space, x0=[30, 0.01], n_calls=4, seed=0,
                        max_consecutive_failures=5, out_dir=tmp_path / "run", **FAST)
    failed = [t for t in result.trials if not t.ok]
    assert failed and failed[0].index == 0 and "out of memory (simulated)" in failed[0].error
    assert failed[0].score is None
    assert result.best is not None and result.best.ok and result.best.params["units"] <= 20
    # the optimizer is told a failed trial is as bad as the worst possible one, and a finite number
    worst_possible = replace(result.best, score=0.0)
    assert math.isfinite(objective(failed[0])) and objective(failed[0]) >= objective(worst_possible)


def test_nan_loss_is_a_failed_trial_not_a_crash(digits):
    def diverging(scale):
        model = keras.Sequential([keras.Input((8, 8)), keras.layers.Flatten(),
                                  keras.layers.Lambda(lambda x: x * scale + np.inf),
                                  keras.layers.Dense(10, activation="softmax")])
        model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    with pytest.raises(SearchAborted, match="3 trials in a row failed") as aborted:
        run_search(create_model=diverging, data=digits, space=[Real(1.0, 2.0, name="scale")], n_calls=5, **FAST)
    result = aborted.value.result
    assert len(result.trials) == 3 and result.best is None
    assert all("diverged" in t.error or "NaN" in t.error or "nan" in t.error.lower() for t in result.trials)
    assert all(t.status == "failed" and t.score is None for t in result.trials)


@pytest.mark.slow  # an end-to-end run: make test-slow
def test_resume_replays_finished_trials(digits, digits_model, tmp_path):
    full = run_search(create_model=digits_model, data=digits, n_calls=4, seed=3, **FAST)
    partial = run_search(create_model=digits_model, data=digits, n_calls=2, seed=3, **FAST)
    # The same budget must be used when resuming, so n_initial_points is fixed to the full run's.
    resumed = run_search(create_model=digits_model, data=digits, n_calls=4, seed=3,
                         resume_trials=partial.trials, **FAST)
    assert [(t.params, t.score) for t in resumed.trials] == [(t.params, t.score) for t in full.trials]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"n_calls": 0}, "n_calls must be a positive integer"),
    ({"n_calls": 3, "n_initial_points": 5}, r"n_initial_points \(5\) exceeds n_calls \(3\)"),
    ({"space": []}, "search space is empty"),
    ({"seed": -1}, "seed must be a non-negative integer"),
    ({"acq_func": "XX"}, "acq_func must be EI"),
    ({"x0": [0.01, 3]}, "starting point has 2 values"),
])
def test_bad_search_arguments_fail_before_training(digits, digits_model, kwargs, message):
    with pytest.raises(InputError, match=message):
        run_search(create_model=digits_model, data=digits, **{"n_calls": 2, **kwargs})


def test_user_space_and_model_by_keyword(digits):
    seen = []

    def my_model(width, activation):
        seen.append((type(width), type(activation)))
        return create_model(0.01, 1, width, activation, input_shape=(8, 8), jit_compile=False)

    space = [Integer(8, 32, name="width"), Categorical(["relu", "tanh"], name="activation")]
    result = run_search(create_model=my_model, data=digits, space=space, n_calls=2, **FAST)
    assert seen == [(int, str), (int, str)]
    assert set(result.best.params) == {"width", "activation"}
    # what the plugin compares with a baseline before it spends the search
    assert planned_budget(space=space, n_calls=2, **FAST) == (result.budget, result.space_fingerprint)
    assert planned_budget(space=space, n_calls=2, epochs=2, batch_size=64)[0] != result.budget


def test_the_planned_budget_settles_the_reference_space_as_the_search_does():
    from harness.pruning import MedianStop

    assert "initial_design" not in planned_budget(n_calls=10, epochs=5, batch_size=64)[0].to_json()  # as before
    lhs = planned_budget(n_calls=50, epochs=5, batch_size=64, initial_design="lhs")[0]
    assert lhs.to_json()["initial_design"] == "lhs" and lhs.n_initial_points == 11
    with pytest.raises(InputError, match="initial_design must be one of random, lhs, got 'sobol'"):
        planned_budget(n_calls=10, epochs=5, batch_size=64, initial_design="sobol")

    budget, fingerprint = planned_budget(n_calls=10, epochs=5, batch_size=64, trials_per_batch=2, prune=MedianStop())
    assert budget.n_initial_points == default_initial_points(10, has_x0=True)  # the blog's default point comes first
    assert budget.acq_optimizer == "sampling" and budget.trials_per_batch == 2 and budget.prune == MedianStop()
    assert fingerprint == planned_budget(space=REFERENCE_SPACE, n_calls=3, epochs=1, batch_size=8)[1]
    with pytest.raises(InputError, match="exceeds n_calls"):
        planned_budget(n_calls=2, epochs=1, batch_size=8, n_initial_points=3)


@pytest.mark.slow  # an end-to-end run: make test-slow
def test_batches_are_determined_by_the_seed_and_the_batch_size(digits, digits_model):
    def trials(q):
        result = run_search(create_model=digits_model, data=digits, n_calls=5, seed=4, trials_per_batch=q, **FAST)
        return result, [(t.params, t.score, t.seed) for t in result.trials]

    batched, first = trials(2)
    serial, one_at_a_time = trials(1)
    assert trials(2)[1] == first
    assert one_at_a_time != first  # q is part of the search: another q, other points
    assert batched.budget.to_json()["trials_per_batch"] == 2
    assert "trials_per_batch" not in serial.budget.to_json()  # absent means 1, as before batches


@pytest.mark.slow  # an end-to-end run: make test-slow
def test_a_search_killed_mid_batch_resumes_to_the_uninterrupted_trials(digits, digits_model, tmp_path):
    from harness.run_directory import RunDirectory, RunSettings

    settings = RunSettings(dataset="digits", data_dir=None, validate_on="split", train_size=None, n_calls=5, epochs=1,
                           batch_size=64, seed=4, trials_per_batch=2)  # what lets a run folder be resumed
    whole = run_search(create_model=digits_model, data=digits, n_calls=5, seed=4, trials_per_batch=2,
                       out_dir=tmp_path / "whole", **FAST)
    calls = []

    def killed_on_the_fourth_trial(run_trial):  # trial 3: the second slot of the batch [2, 3]
        calls.append(1)
        if len(calls) == 4:
            raise KeyboardInterrupt
        return run_trial()

    with pytest.raises(KeyboardInterrupt), RunDirectory.create(tmp_path / "killed", settings) as run:
        run_search(create_model=digits_model, data=digits, n_calls=5, seed=4, trials_per_batch=2,
                   out_dir=run, trial_executor=killed_on_the_fourth_trial, **FAST)
    with RunDirectory.resume(tmp_path / "killed") as run:
        assert [t.index for t in run.trials] == [0, 1, 2]
        resumed = run_search(create_model=digits_model, data=digits, n_calls=5, seed=4, trials_per_batch=2,
                             out_dir=run, **FAST)
    assert [(t.params, t.score) for t in resumed.trials] == [(t.params, t.score) for t in whole.trials]
    # replayed trials list their params in the space's order, as new ones do (the log sorts its keys)
    assert {tuple(t.params) for t in resumed.trials} == {tuple(dimension.name for dimension in REFERENCE_SPACE)}
