import functools
import math
import statistics

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from pytest_mlptune.verdict import (
    ReplayComparison,
    SearchComparison,
    Status,
    allowed_drop,
    comparability_problems,
    compare_replay,
    compare_search,
    judge,
    new_verdict,
    not_comparable_verdict,
    one_sided,
    replay_stderr,
    unfailable_verdict,
    unusable_verdict,
    updated_verdict,
)

accuracy = st.floats(0.0, 1.0)
k = st.floats(0.0, 5.0)
floor = st.floats(0.0, 0.1)


def scores(configs: int, seeds: int):
    return st.lists(st.lists(accuracy, min_size=seeds, max_size=seeds), min_size=configs, max_size=configs)


@st.composite
def paired_scores(draw):
    configs, seeds = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    return draw(scores(configs, seeds)), draw(scores(configs, seeds))


@given(delta=st.floats(-1, 1), lower=st.floats(0, 1), bound=st.floats(0, 0.5))
def test_lowering_a_signal_never_turns_a_failure_into_a_pass(delta, lower, bound):
    if one_sided(delta=delta, bound=bound) is Status.REGRESSED:
        assert one_sided(delta=delta - lower, bound=bound) is Status.REGRESSED


@given(delta=st.floats(-1, 1), bound=st.floats(0, 0.5), wider=st.floats(0, 0.5))
def test_a_wider_bound_never_turns_a_pass_into_a_failure(delta, bound, wider):
    if one_sided(delta=delta, bound=bound) is not Status.REGRESSED:
        assert one_sided(delta=delta, bound=bound + wider) is not Status.REGRESSED


@given(stderr=st.floats(0, 0.2), k=k, floor=floor)
def test_the_bound_is_max_of_k_stderr_and_floor(stderr, k, floor):
    bound = allowed_drop(stderr=stderr, k=k, floor=floor)
    assert bound == max(k * stderr, floor)
    assume(bound > 1e-9)
    assert one_sided(delta=-bound, bound=bound) is Status.OK
    assert one_sided(delta=-bound * 1.001 - 1e-9, bound=bound) is Status.REGRESSED
    assert one_sided(delta=bound * 1.001 + 1e-9, bound=bound) is Status.IMPROVED


@given(pair=paired_scores(), k=k, floor=floor)
def test_replaying_unchanged_code_is_ok_with_zero_delta(pair, k, floor):
    baseline, _ = pair
    comparison = compare_replay(baseline_scores=baseline, new_scores=baseline, k=k, floor=floor)
    assert comparison.delta == 0 and comparison.status is Status.OK


@given(pair=paired_scores(), shift=st.floats(0.0, 0.5), k=k, floor=floor)
def test_shifting_every_new_score_down_shifts_the_delta_and_keeps_the_noise(pair, shift, k, floor):
    baseline, new = pair
    lowered = [[score - shift for score in row] for row in new]
    before = compare_replay(baseline_scores=baseline, new_scores=new, k=k, floor=floor)
    after = compare_replay(baseline_scores=baseline, new_scores=lowered, k=k, floor=floor)
    assert after.delta == pytest.approx(before.delta - shift, abs=1e-9)
    assert after.stderr == pytest.approx(before.stderr, abs=1e-9)  # a uniform shift is signal, not noise
    if before.status is Status.REGRESSED:
        assert after.status is Status.REGRESSED


def test_replay_stderr_is_the_within_configuration_spread_of_the_paired_differences():
    baseline = [[0.80, 0.82], [0.70, 0.74]]
    new = [[0.79, 0.80], [0.71, 0.71]]
    differences = [[-0.01, -0.02], [0.01, -0.03]]
    squares = sum((d - statistics.fmean(row)) ** 2 for row in differences for d in row)
    expected = math.sqrt(squares / 2) / math.sqrt(4)  # 2 configs x (2 - 1) degrees of freedom; 4 pairs
    assert replay_stderr(baseline_scores=baseline, new_scores=new) == pytest.approx(expected)
    comparison = compare_replay(baseline_scores=baseline, new_scores=new, k=3, floor=0.01)
    assert comparison.delta == pytest.approx(-0.0125)
    assert comparison.bound == pytest.approx(max(3 * expected, 0.01))
    assert (comparison.configs, comparison.seeds) == (2, 2)


def test_a_uniform_shift_has_no_noise_and_meets_the_floor():
    baseline = [[0.80, 0.82], [0.70, 0.74]]
    shifted = [[score - 0.02 for score in row] for row in baseline]
    comparison = compare_replay(baseline_scores=baseline, new_scores=shifted, k=3, floor=0.01)
    assert comparison.stderr == pytest.approx(0, abs=1e-12) and comparison.bound == 0.01
    assert comparison.status is Status.REGRESSED


def test_with_one_seed_the_noise_comes_from_the_spread_of_the_differences():
    baseline, new = [[0.80], [0.70], [0.90]], [[0.78], [0.69], [0.86]]
    assert replay_stderr(baseline_scores=baseline, new_scores=new) == pytest.approx(
        statistics.stdev([-0.02, -0.01, -0.04]) / math.sqrt(3))
    assert replay_stderr(baseline_scores=[[0.8]], new_scores=[[0.7]]) == 0.0


def test_mismatched_replays_are_refused():
    with pytest.raises(ValueError, match="same configurations and seeds"):
        compare_replay(baseline_scores=[[0.8, 0.8]], new_scores=[[0.8]], k=3, floor=0.01)
    with pytest.raises(ValueError, match="same configurations and seeds"):
        compare_replay(baseline_scores=[], new_scores=[], k=3, floor=0.01)


def replay(delta: float, *, bound: float = 0.012, failed: int = 0) -> ReplayComparison:
    return ReplayComparison(delta=delta, stderr=0.004, bound=bound, configs=3, seeds=2, baseline_mean=0.85,
                            failed=failed)


def search(best: float, baseline: float = 0.85, bound: float = 0.05) -> SearchComparison:
    return SearchComparison(best=best, baseline=baseline, bound=bound)


def verdict(replay_comparison, search_comparison, changed=False):
    return judge(search=search_comparison, replay=replay_comparison, location="baselines/k/t.json",
                 update_command="mlptune baselines update t.py::t --n-calls 10", training_data_changed=changed)


def test_a_drop_of_the_replay_alone_is_a_regression_with_both_signals_named():
    result = verdict(replay(-0.031, failed=1), search(0.84), changed=True)
    assert result.status is Status.REGRESSED and not result.status.passed
    assert result.message == (
        "tuning regressed: replay -0.0310 ± 0.0040 over 3 configs x 2 seeds (bound 0.0120, 1 failed trial scored 0): "
        "regressed; search best 0.8400 vs baseline 0.8500 (-0.0100, bound 0.0500): ok; baseline baselines/k/t.json; "
        "the training data changed since the baseline; if intended, update with: "
        "mlptune baselines update t.py::t --n-calls 10")


def test_a_replay_whose_trials_crashed_says_why_the_first_one_did():
    crashed = compare_replay(baseline_scores=[[0.8, 0.8]], new_scores=[[0.0, 0.0]], k=3, floor=0.01, failed=2,
                             first_error="{'units': 8} seed 1: WorkerSetupError: the trial process cannot load create_model")
    assert "(bound 0.0100, 2 failed trials scored 0, the first: {'units': 8} seed 1: WorkerSetupError: " in \
        crashed.describe()


def test_a_search_that_no_longer_tunes_is_a_regression_even_when_the_replay_holds():
    result = verdict(replay(0.0), search(0.70))
    assert result.status is Status.REGRESSED
    assert "search best 0.7000 vs baseline 0.8500 (-0.1500, bound 0.0500): regressed" in result.message


def test_search_path_noise_within_its_bound_passes():
    result = verdict(replay(-0.005), search(0.81))
    assert result.status is Status.OK and result.status.passed
    assert result.message.startswith("replay -0.0050 ± 0.0040 over 3 configs x 2 seeds (bound 0.0120): ok; ")


def test_improvements_pass_and_are_reported():
    result = verdict(replay(0.03), search(0.86))
    assert result.status is Status.IMPROVED and result.status.passed
    assert result.message.startswith("tuning improved: replay +0.0300")


def test_every_status_has_its_message():
    command = "mlptune baselines update t.py::t --n-calls 10"
    assert new_verdict(best=0.8, environment_key="env", update_command=command).message == (
        "no baseline for this test in environment env (best 0.8000); create it with: " + command)
    assert unusable_verdict(best=0.8, location="b.json", problem="not valid JSON", update_command=command).message == (
        "baseline b.json is unusable: not valid JSON; regenerate it with: " + command)
    assert updated_verdict(best=0.8, location="b.json").status is Status.UPDATED
    other_budget = not_comparable_verdict(best=0.8, location="b.json", problems=["n_calls 10 in the baseline, 20 now"],
                                          baseline_calls=10, n_calls=20, update_command=command)
    assert other_budget.status is Status.NOT_COMPARABLE and not other_budget.status.passed
    assert other_budget.message == ("baseline b.json is not comparable: n_calls 10 in the baseline, 20 now. Run with the "
                                    "baseline's budget (--n-calls 10), or after an intentional change refresh it with: "
                                    + command)
    same_budget = not_comparable_verdict(best=0.8, location="b.json", problems=["x"], baseline_calls=10, n_calls=10,
                                         update_command=command)
    assert "x. After an intentional change refresh it with" in same_budget.message
    assert {status.value for status in Status} == {"ok", "improved", "regressed", "new", "not-comparable", "updated",
                                                   "error"}
    before_search = new_verdict(environment_key="env", update_command=command)  # found before any trial: no best
    assert before_search.best is None and before_search.message == (
        "no baseline for this test in environment env; create it with: " + command)
    # after a TensorFlow upgrade: the old environment's baseline is offered before recording a new one
    upgraded = new_verdict(environment_key="tf2.22", update_command=command, recorded_elsewhere=["tf2.21"])
    assert upgraded.message == ("no baseline for this test in environment tf2.22; it has one in tf2.21: judge against "
                                "it with --baselines-from=tf2.21, or create one here with: " + command)
    several = new_verdict(environment_key="tf2.22", update_command=command, recorded_elsewhere=["tf2.15", "tf2.21"])
    assert "; it has baselines in 2 other environments, the last tf2.21: judge against it with --baselines-from=tf2.21" \
        in several.message


def test_a_check_that_cannot_fail_is_known_before_the_search_from_the_bounds_alone():
    common = dict(location="b.json", update_command="mlptune baselines update t.py::t --n-calls 10")
    assert unfailable_verdict(replay_bound=0.01, replay_baseline=0.9, search_bound=0.05, search_baseline=0.9,
                              **common) is None
    result = unfailable_verdict(replay_bound=0.01, replay_baseline=0.9, search_bound=1.0, search_baseline=0.9, **common)
    assert result.status is Status.ERROR and result.best is None
    assert result.message.startswith("this check cannot fail: the search's best may drop 1.0000 from a baseline of "
                                     "0.9000, so even a score of 0 would pass. ")


def test_search_comparison_uses_the_recorded_spread():
    assert compare_search(best=0.8, baseline=0.85, std=0.02, k=3, floor=0.05).bound == pytest.approx(0.06)
    assert compare_search(best=0.8, baseline=0.85, std=0.0, k=3, floor=0.05).bound == 0.05


def test_comparability_names_each_difference():
    budget = {"n_calls": 10, "epochs": 3}
    assert comparability_problems(baseline_budget=budget, budget=dict(budget), baseline_data="a", data="a",
                                  baseline_space="s", space="s") == []
    problems = comparability_problems(baseline_budget=budget, budget={"n_calls": 20, "epochs": 3},
                                      baseline_data="a", data="b", baseline_space="s", space="t")
    assert problems == ["n_calls 10 in the baseline, 20 now", "validation data fingerprint a in the baseline, b now",
                        "search space fingerprint s in the baseline, t now"]


def test_a_budget_key_the_baseline_did_not_record_makes_it_not_comparable():
    # a baseline written before the budget recorded how points are picked
    old = {"n_calls": 10, "epochs": 3}
    problems = comparability_problems(baseline_budget=old, budget={**old, "acq_optimizer": "sampling"},
                                      baseline_data="a", data="a", baseline_space="s", space="s")
    assert problems == ["acq_optimizer (not recorded) in the baseline, sampling now"]


def test_a_baseline_from_before_the_pool_was_pinned_counts_as_two_threads():
    old = {"n_calls": 10, "epochs": 3}  # recorded on two-core machines, where TensorFlow's pool had two threads
    compare = functools.partial(comparability_problems, baseline_budget=old, baseline_data="a", data="a",
                                baseline_space="s", space="s")
    assert compare(budget={**old, "threads": 2}) == [] and compare(budget=old) == []
    assert compare(budget={**old, "threads": 1}) == ["threads 2 in the baseline, 1 now"]
    assert compare(budget={**old, "threads": None}) == ["threads 2 in the baseline, None now"]


@pytest.mark.parametrize(("replay_bound", "search_bound", "named"), [
    (0.85, 0.05, "the replay may drop 0.8500 from a baseline of 0.8500"),
    (0.012, 0.9, "the search's best may drop 0.9000 from a baseline of 0.8500"),
])
def test_a_check_that_cannot_fail_is_an_error_not_a_pass(replay_bound, search_bound, named):
    result = verdict(replay(-0.5, bound=replay_bound), search(0.84, bound=search_bound))
    assert result.status is Status.ERROR and not result.status.passed
    assert result.message.startswith(f"this check cannot fail: {named}, so even a score of 0 would pass. ")
    assert result.message.endswith("re-record a less noisy baseline baselines/k/t.json with: "
                                   "mlptune baselines update t.py::t --n-calls 10")


def test_a_wide_spread_in_the_baseline_makes_the_search_signal_vacuous():
    comparison = compare_search(best=0.1, baseline=0.5, std=0.7071, k=3, floor=0.05)  # spread of [0.0, 1.0]
    assert verdict(replay(0.0), comparison).status is Status.ERROR


def test_a_budget_without_trials_per_batch_means_one_trial_per_batch():
    old = {"n_calls": 10, "epochs": 5}
    common = dict(baseline_data="v", data="v", baseline_space="s", space="s")
    assert comparability_problems(baseline_budget=old, budget={**old, "trials_per_batch": 1}, **common) == []
    assert comparability_problems(baseline_budget=old, budget={**old, "trials_per_batch": 2}, **common) == [
        "trials_per_batch 1 in the baseline, 2 now"]
