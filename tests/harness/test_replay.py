"""Retraining fixed configurations: the same numbers as the search's own trials, seeds apart from its streams."""

import pytest

from harness.replay import (
    ReplayCancelled,
    ReplayConfig,
    ReplayInBackground,
    plan_replay,
    replay_seed,
    run_replay,
    top_configurations,
)
from harness.search import run_search
from harness.trial import FAILED, OK, Trial, run_trial, trial_seed

FAST = dict(epochs=2, batch_size=64)


def trial(index, score, params, status=OK):
    return Trial(index=index, params=params, seed=index, status=status, score=score, val_loss=None, seconds=1.0)


def test_top_configurations_are_distinct_best_first_earliest_on_ties_and_skip_failures():
    trials = [trial(0, 0.5, {"u": 1}), trial(1, 0.9, {"u": 2}), trial(2, 0.9, {"u": 3}), trial(3, 0.9, {"u": 2}),
              trial(4, None, {"u": 9}, status=FAILED), trial(5, 0.7, {"u": 4})]
    assert top_configurations(trials, 3) == [{"u": 2}, {"u": 3}, {"u": 4}]
    assert top_configurations(trials, 10) == [{"u": 2}, {"u": 3}, {"u": 4}, {"u": 1}]


def test_replay_seeds_are_stable_distinct_and_never_a_trial_seed():
    seeds = {replay_seed(search, rank, repeat) for search in range(3) for rank in range(5) for repeat in range(4)}
    assert len(seeds) == 60
    assert not seeds & {trial_seed(search, index) for search in range(3) for index in range(200)}
    assert replay_seed(0, 0, 0) == replay_seed(0, 0, 0)
    plan = plan_replay([trial(0, 0.5, {"u": 1}), trial(1, 0.9, {"u": 2})], search_seed=7, configs=3, seeds=2)
    assert plan == [ReplayConfig(params={"u": 2}, seeds=(replay_seed(7, 0, 0), replay_seed(7, 0, 1))),
                    ReplayConfig(params={"u": 1}, seeds=(replay_seed(7, 1, 0), replay_seed(7, 1, 1)))]


def test_a_replay_scores_exactly_what_the_search_scored_with_the_same_seed(digits, digits_model):
    result = run_search(create_model=digits_model, data=digits, n_calls=2, seed=3, tensorboard=False,
                        save_best=False, **FAST)
    first = result.trials[1]
    replayed = run_replay(create_model=digits_model, data=digits,
                          configs=[ReplayConfig(params=first.params, seeds=(first.seed, first.seed))], **FAST)
    assert replayed.scores == ((first.score, first.score),) and replayed.failed == 0


def test_a_failing_configuration_scores_zero_and_says_why(digits, digits_model):
    params = {"learning_rate": 0.01, "num_layers": 3, "num_nodes": 16, "hidden_activation": "no-such-activation"}
    replayed = run_replay(create_model=digits_model, data=digits, configs=[ReplayConfig(params=params, seeds=(1,))],
                          **FAST)
    assert replayed.scores == ((0.0,),) and replayed.failed == 1
    assert "seed 1: ValueError: hidden_activation must be one of" in replayed.errors[0]


def test_validating_only_after_the_last_epoch_changes_nothing(digits, digits_model, tmp_path):
    params = {"learning_rate": 0.003, "num_layers": 3, "num_nodes": 32, "hidden_activation": "relu"}
    every_epoch, _ = run_trial(create_model=digits_model, params=params, data=digits, index=0, seed=5, epochs=3,
                               batch_size=64, log_dir=tmp_path / "tb")  # TensorBoard curves: validated each epoch
    last_epoch, _ = run_trial(create_model=digits_model, params=params, data=digits, index=0, seed=5, epochs=3,
                              batch_size=64)
    assert (last_epoch.score, last_epoch.val_loss) == pytest.approx((every_epoch.score, every_epoch.val_loss), abs=0)


def test_a_replay_beside_the_search_scores_what_an_in_process_replay_scores(digits, digits_model):
    configs = [ReplayConfig(params={"learning_rate": 0.003, "num_layers": 3, "num_nodes": 32,
                                    "hidden_activation": "relu"}, seeds=(1, 2))]
    background = ReplayInBackground(create_model=digits_model, data=digits, configs=configs, **FAST)
    here = run_replay(create_model=digits_model, data=digits, configs=configs, **FAST)  # while the worker trains
    assert background.result().scores == here.scores


def test_cancelling_a_replay_ends_its_worker(digits, digits_model):
    import os
    import time

    configs = [ReplayConfig(params={"learning_rate": 0.003, "num_layers": 3, "num_nodes": 32,
                                    "hidden_activation": "relu"}, seeds=tuple(range(20)))]
    background = ReplayInBackground(create_model=digits_model, data=digits, configs=configs, **FAST)
    deadline = time.monotonic() + 60
    while background._runner.worker_pid is None and time.monotonic() < deadline:
        time.sleep(0.05)
    pid = background._runner.worker_pid
    assert pid is not None
    background.cancel()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    with pytest.raises(ReplayCancelled):
        background.result()
