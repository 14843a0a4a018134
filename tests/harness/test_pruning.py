"""The prune rule: its thresholds, what the optimizer is told for a pruned trial, and a pruned search."""

import pytest

from harness.errors import InputError
from harness.objective import objective
from harness.pruning import MedianStop, PercentileStop, every_epoch_but_the_last, parse_epochs, parse_rule, projected_score
from harness.search import run_search
from harness.trial import FAILED, OK, PRUNED, Trial, TrialFormatError, run_trial


def trial(index, scores, status=OK):
    score = None if status == FAILED else scores[-1]
    return Trial(index=index, params={"x": index}, seed=index, status=status, score=score, val_loss=None,
                 seconds=1.0, epoch_scores=tuple(scores) if status != FAILED else ())


def test_threshold_is_the_median_of_earlier_scores_at_each_checked_epoch():
    earlier = [trial(0, [0.5, 0.6, 0.7]), trial(1, [0.2, 0.3, 0.4]), trial(2, [0.8, 0.85, 0.9])]
    assert MedianStop(after_epochs=(1, 2), min_trials=3).thresholds(earlier, epochs=3) == {1: 0.5, 2: 0.6}


def test_a_percentile_rule_interpolates_between_the_nearest_earlier_scores():
    earlier = [trial(0, [0.5, 0.6, 0.7]), trial(1, [0.2, 0.3, 0.4]), trial(2, [0.8, 0.85, 0.9])]
    # sorted epoch-1 scores 0.2, 0.5, 0.8: the 90th percentile lies 0.8 of the way from 0.5 to 0.8
    assert PercentileStop(percentile=90, min_trials=3).thresholds(earlier, epochs=3) == {1: pytest.approx(0.74)}
    assert PercentileStop(percentile=50, after_epochs=(1, 2), min_trials=3).thresholds(earlier, epochs=3) == \
        MedianStop(after_epochs=(1, 2), min_trials=3).thresholds(earlier, epochs=3)


def test_the_median_is_the_percentile_rule_at_50_and_keeps_its_old_record():
    assert MedianStop is PercentileStop and MedianStop() == PercentileStop(percentile=50)
    # a baseline or run recorded with the median rule must still compare equal
    assert MedianStop(after_epochs=(1, 2)).to_json() == {"rule": "median", "after_epochs": [1, 2], "min_trials": 5}
    assert PercentileStop(percentile=90, min_trials=3).to_json() == \
        {"rule": "percentile", "percentile": 90.0, "after_epochs": [1], "min_trials": 3}


def test_no_threshold_until_enough_trials_reached_the_epoch():
    earlier = [trial(0, [0.5, 0.6, 0.7]), trial(1, [0.2], PRUNED), trial(2, [0.8, 0.85, 0.9])]
    rule = MedianStop(after_epochs=(1, 2), min_trials=3)
    # epoch 1: three trials reached it (the pruned one too); epoch 2: only two did
    assert rule.thresholds(earlier, epochs=3) == {1: 0.5}


def test_failed_trials_and_checks_at_the_last_epoch_give_no_threshold():
    earlier = [trial(0, [0.5, 0.6]), trial(1, [], FAILED), trial(2, [0.7, 0.8])]
    # a check at the last epoch would only throw away a finished trial
    assert MedianStop(after_epochs=(1, 2), min_trials=2).thresholds(earlier, epochs=2) == {1: 0.6}
    assert MedianStop(after_epochs=(1,), min_trials=3).thresholds(earlier, epochs=2) == {}


def test_pruned_trial_is_told_its_score_plus_the_median_gain_of_finished_trials():
    earlier = [trial(0, [0.5, 0.6, 0.7]), trial(1, [0.2, 0.3, 0.6]), trial(2, [0.8, 0.85, 0.9]),
               trial(3, [0.1], PRUNED)]
    stopped = trial(4, [0.3], PRUNED)
    assert projected_score(stopped, earlier) == pytest.approx(0.3 + 0.2)  # gains 0.2, 0.4, 0.1 -> median 0.2
    assert objective(stopped, earlier) == pytest.approx(-0.5)
    assert projected_score(stopped, []) == 0.3  # nothing finished yet: its own score
    assert projected_score(trial(5, [0.95], PRUNED), [trial(0, [0.1, 0.9])]) == 1.0  # an accuracy stays <= 1


def test_full_budget_and_failed_trials_are_told_as_before():
    assert objective(trial(0, [0.5, 0.7])) == -0.7
    assert objective(trial(1, [], FAILED)) == 0.0


@pytest.mark.parametrize(("call", "message"), [
    (lambda: parse_rule("hyperband"), "unknown prune rule 'hyperband'; give one of none, median, percentile"),
    (lambda: parse_rule("none", [1]), "the prune rule is none"),
    (lambda: parse_rule("none", min_trials=3), "the prune rule is none"),
    (lambda: parse_rule("median", percentile=90), "give --prune percentile for it"),
    (lambda: PercentileStop(percentile=100), "between 0 and 100"),
    (lambda: PercentileStop(percentile=0), "between 0 and 100"),
    (lambda: PercentileStop(percentile=True), "between 0 and 100"),
    (lambda: PercentileStop(percentile=float("nan")), "between 0 and 100"),
    (lambda: parse_epochs("1,x"), "comma-separated list of whole numbers, got '1,x'"),
    (lambda: parse_epochs("0"), r"prune epochs must be whole numbers >= 1, got \[0\]"),
    (lambda: MedianStop(min_trials=0), "at least 1 earlier trial"),
])
def test_bad_rules_are_one_line_errors(call, message):
    with pytest.raises(InputError, match=message):
        call()


def test_rule_names_and_epochs_parse():
    assert parse_rule("none") is None
    assert parse_rule("median") == MedianStop(after_epochs=(1,))
    assert parse_rule("median", parse_epochs("2,1,2")).to_json() == {"rule": "median", "after_epochs": [1, 2],
                                                                     "min_trials": 5}
    # the percentile rule's own defaults, each one replaced when given
    assert parse_rule("percentile") == PercentileStop(percentile=90, after_epochs=(1,), min_trials=3)
    assert parse_rule("percentile", [1, 2], percentile=75, min_trials=4) == \
        PercentileStop(percentile=75, after_epochs=(1, 2), min_trials=4)
    assert parse_rule("median", min_trials=3) == MedianStop(min_trials=3)


def test_mlptune_tune_checks_every_epoch_but_the_last_by_default():
    assert every_epoch_but_the_last(5) == (1, 2, 3, 4)
    assert every_epoch_but_the_last(2) == (1,)
    assert every_epoch_but_the_last(1) == (1,)  # a check at the last epoch is never made: nothing stops
    assert MedianStop(after_epochs=every_epoch_but_the_last(1)).thresholds([], epochs=1) == {}


def test_pruned_trial_round_trips_and_a_forged_one_is_refused():
    pruned = trial(3, [0.25, 0.5], PRUNED)
    assert Trial.from_json(pruned.to_json()) == pruned
    assert "epoch_scores" not in Trial(index=0, params={}, seed=0, status=OK, score=0.5, val_loss=0.1,
                                       seconds=1.0).to_json()  # trials without a rule keep their old lines
    for bad in ({**pruned.to_json(), "epoch_scores": []}, {**pruned.to_json(), "score": 0.4},
                {**pruned.to_json(), "epoch_scores": [0.2, 1.5]}):
        with pytest.raises(TrialFormatError):
            Trial.from_json(bad)


def test_a_trial_below_the_threshold_stops_there_and_one_above_trains_the_same_model(digits, digits_model):
    params = {"learning_rate": 0.003, "num_layers": 2, "num_nodes": 32, "hidden_activation": "relu"}
    common = dict(create_model=digits_model, data=digits, params=params, index=0, seed=7, epochs=3, batch_size=64)
    plain, plain_model = run_trial(**common)
    watched, watched_model = run_trial(**common, stop_below={1: 0.0, 2: 0.0})
    stopped, stopped_model = run_trial(**common, stop_below={2: 1.0})

    assert plain.status == OK and plain.epoch_scores == () and plain_model is not None
    # validating every epoch and checking draws no random numbers: the same training, bit for bit
    assert watched.status == OK and watched.score == plain.score and len(watched.epoch_scores) == 3
    assert stopped.status == PRUNED and stopped_model is None
    assert stopped.epoch_scores == watched.epoch_scores[:2] and stopped.score == watched.epoch_scores[1]


@pytest.mark.parametrize("rule", [MedianStop(after_epochs=(1, 2), min_trials=2),
                                  PercentileStop(percentile=90, after_epochs=(1,), min_trials=2)], ids=["median", "p90"])
def test_a_pruned_search_is_determined_by_its_seed_and_its_best_is_a_full_budget_trial(digits, digits_model, rule):
    first = run_search(create_model=digits_model, data=digits, n_calls=7, seed=4, epochs=3, prune=rule)
    again = run_search(create_model=digits_model, data=digits, n_calls=7, seed=4, epochs=3, prune=rule)

    assert [(t.params, t.status, t.epoch_scores) for t in again.trials] == \
        [(t.params, t.status, t.epoch_scores) for t in first.trials]
    statuses = [t.status for t in first.trials]
    assert statuses[:2] == [OK, OK] and PRUNED in statuses  # the rule waits for two trials, then stops some
    assert first.best.status == OK and len(first.best.epoch_scores) == 3
    assert first.budget.to_json()["prune"] == rule.to_json()
    for index, t in enumerate(first.trials):
        if t.pruned:
            threshold = rule.thresholds(first.trials[:index], epochs=3)[len(t.epoch_scores)]
            assert t.score < threshold  # stopped only where it was below the earlier trials' percentile
