"""What the Gaussian process is told for a trial, on either scale, and how a search and its budget carry the scale."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness import search as search_module
from harness.errors import InputError
from harness.objective import (
    OBJECTIVE_SCALES,
    SMALLEST_ERROR,
    accuracy_from_objective,
    check_objective_scale,
    objective,
)
from harness.search import planned_budget, run_search
from harness.trial import FAILED, OK, PRUNED, Trial

# what a validation set of 10,000 rows can score (the largest here): correct rows / rows
accuracies = st.integers(min_value=0, max_value=10_000).map(lambda correct: correct / 10_000)


def trial(index, scores, status=OK):
    score = None if status == FAILED else scores[-1]
    return Trial(index=index, params={"x": index}, seed=index, status=status, score=score, val_loss=None,
                 seconds=1.0, epoch_scores=tuple(scores) if status != FAILED else ())


def test_the_log_scale_tells_the_log_of_the_error_rate():
    assert objective(trial(0, [0.5, 0.88]), scale="log-error") == pytest.approx(math.log(0.12))
    assert objective(trial(0, [0.5, 0.88])) == -0.88  # the blog's scale stays the default
    # a failed trial is told accuracy 0 on both scales: the worst, and finite
    assert objective(trial(1, [], FAILED), scale="log-error") == 0.0
    # a pruned one its projected score: 0.3 plus the median gain of finished trials (0.2)
    earlier = [trial(2, [0.5, 0.7]), trial(3, [0.6, 0.8])]
    assert objective(trial(4, [0.3], PRUNED), earlier, scale="log-error") == pytest.approx(math.log(1 - 0.5))


def test_a_perfect_score_is_finite_on_the_log_scale():
    assert objective(trial(0, [1.0]), scale="log-error") == math.log(SMALLEST_ERROR)


def test_a_diverged_trial_weighs_less_against_good_ones_on_the_log_scale():
    good, better, diverged = trial(0, [0.86]), trial(1, [0.88]), trial(2, [0.10])

    def outlier_ratio(scale):  # how far the diverged trial lies, in units of the good ones' spread
        told = {t.index: objective(t, scale=scale) for t in (good, better, diverged)}
        return (told[2] - told[0]) / (told[0] - told[1])

    assert outlier_ratio("accuracy") == pytest.approx(38, abs=0.5)
    assert outlier_ratio("log-error") < 15


@given(a=accuracies, b=accuracies)
def test_both_scales_rank_trials_alike(a, b):
    # the best trial, the one the Gaussian process should look near, is the same on either scale
    for scale in OBJECTIVE_SCALES:
        told_a, told_b = objective(trial(0, [a]), scale=scale), objective(trial(1, [b]), scale=scale)
        assert (told_a < told_b) == (a > b) and (told_a == told_b) == (a == b)


@given(a=accuracies)
def test_accuracy_from_objective_undoes_objective(a):
    for scale in OBJECTIVE_SCALES:
        told = objective(trial(0, [a]), scale=scale)
        # a perfect score is told as SMALLEST_ERROR on the log scale
        expected = min(a, 1 - SMALLEST_ERROR) if scale == "log-error" else a
        assert accuracy_from_objective([told], scale)[0] == pytest.approx(expected, abs=1e-12)


def test_an_unknown_scale_is_refused_with_the_choices():
    with pytest.raises(InputError, match="objective_scale must be one of accuracy, log-error, got 'logit'"):
        check_objective_scale("logit")
    with pytest.raises(InputError, match="objective_scale must be one of"):
        planned_budget(n_calls=10, epochs=5, batch_size=64, objective_scale="logit")


def test_the_scale_is_part_of_the_budget_and_absent_for_the_blogs():
    # absent means -accuracy: every baseline recorded before the choice existed stays comparable
    assert "objective_scale" not in planned_budget(n_calls=10, epochs=5, batch_size=64)[0].to_json()
    log_scale = planned_budget(n_calls=10, epochs=5, batch_size=64, objective_scale="log-error")[0]
    assert log_scale.to_json()["objective_scale"] == "log-error"
    assert log_scale != planned_budget(n_calls=10, epochs=5, batch_size=64)[0]


def test_the_search_tells_the_optimizer_on_its_scale(digits, digits_model, monkeypatch):
    told_scales = []

    def spy(trial, earlier=(), scale="accuracy"):
        told_scales.append(scale)
        return objective(trial, earlier, scale)

    monkeypatch.setattr(search_module, "objective", spy)
    result = run_search(create_model=digits_model, data=digits, n_calls=3, seed=0, epochs=1, batch_size=64,
                        objective_scale="log-error", tensorboard=False, save_best=False)
    assert told_scales == ["log-error"] * 3
    assert result.to_json()["budget"]["objective_scale"] == "log-error"
