from hypothesis import assume, given
from hypothesis import strategies as st

from pytest_mlptune.verdict import (
    IMPROVED,
    OK,
    REGRESSED,
    allowed_drop,
    comparability_problems,
    compare_scores,
)

accuracy = st.floats(0.0, 1.0)
std = st.floats(0.0, 0.2)
k = st.floats(0.0, 5.0)
floor = st.floats(0.0, 0.1)


@given(best=accuracy, lower=st.floats(0.0, 1.0), baseline=accuracy, std=std, k=k, floor=floor)
def test_lowering_best_never_turns_a_failure_into_a_pass(best, lower, baseline, std, k, floor):
    worse = best - lower
    if compare_scores(best=best, baseline=baseline, std=std, k=k, floor=floor) == REGRESSED:
        assert compare_scores(best=worse, baseline=baseline, std=std, k=k, floor=floor) == REGRESSED


@given(best=accuracy, baseline=accuracy, std=std, k=k, floor=floor, wider=st.floats(0.0, 0.1))
def test_a_wider_bound_never_turns_a_pass_into_a_failure(best, baseline, std, k, floor, wider):
    if compare_scores(best=best, baseline=baseline, std=std, k=k, floor=floor) != REGRESSED:
        assert compare_scores(best=best, baseline=baseline, std=std, k=k, floor=floor + wider) != REGRESSED


@given(baseline=accuracy, std=std, k=k, floor=floor, gain=st.floats(0.0, 1.0))
def test_improvements_always_pass(baseline, std, k, floor, gain):
    assert compare_scores(best=baseline + gain, baseline=baseline, std=std, k=k, floor=floor) in (OK, IMPROVED)


@given(baseline=accuracy, std=std, k=k, floor=floor)
def test_the_boundary_is_exactly_max_of_k_std_and_floor(baseline, std, k, floor):
    drop = allowed_drop(std=std, k=k, floor=floor)
    assert drop == max(k * std, floor)
    assume(drop > 1e-9)
    assert compare_scores(best=baseline - drop, baseline=baseline, std=std, k=k, floor=floor) == OK
    assert compare_scores(best=baseline - drop * 1.001 - 1e-9, baseline=baseline, std=std, k=k, floor=floor) == REGRESSED


def test_examples():
    assert compare_scores(best=0.85, baseline=0.86, std=0.0, k=3, floor=0.01) == OK
    assert compare_scores(best=0.84, baseline=0.86, std=0.0, k=3, floor=0.01) == REGRESSED
    assert compare_scores(best=0.84, baseline=0.86, std=0.01, k=3, floor=0.01) == OK
    assert compare_scores(best=0.90, baseline=0.86, std=0.0, k=3, floor=0.01) == IMPROVED


def test_comparability_names_each_difference():
    budget = {"n_calls": 10, "epochs": 3}
    assert comparability_problems(baseline_budget=budget, budget=dict(budget), baseline_data="a", data="a",
                                  baseline_space="s", space="s") == []
    problems = comparability_problems(baseline_budget=budget, budget={"n_calls": 20, "epochs": 3},
                                      baseline_data="a", data="b", baseline_space="s", space="t")
    assert problems == ["n_calls 10 in the baseline, 20 now", "validation data fingerprint a in the baseline, b now",
                        "search space fingerprint s in the baseline, t now"]
