"""Argument values are checked in one place, with one wording."""

import argparse
import math

import pytest

from harness.argument_types import parse_positive_int, require_int, require_seconds
from harness.errors import InputError


@pytest.mark.parametrize("value", [0, -1, True, 1.0, "3", None])
def test_require_int_refuses_what_is_not_a_positive_integer(value):
    with pytest.raises(InputError, match=rf"^n_calls must be a positive integer, got {value!r}; give more$"):
        require_int("n_calls", value, fix="give more")


def test_require_int_with_a_minimum_of_zero():
    assert require_int("seed", 0, minimum=0) == 0
    with pytest.raises(InputError, match="seed must be a non-negative integer, got -1"):
        require_int("seed", -1, minimum=0)


@pytest.mark.parametrize("value", [0, -2.5, math.inf, math.nan, True, "5"])
def test_require_seconds_refuses_what_is_not_a_positive_finite_number(value):
    with pytest.raises(InputError, match="trial_timeout must be a positive number of seconds"):
        require_seconds("trial_timeout", value)


def test_parsers_and_checks_agree_on_what_is_valid():
    assert require_int("n", parse_positive_int("7")) == 7
    with pytest.raises(argparse.ArgumentTypeError, match="expected a positive integer, got '0'"):
        parse_positive_int("0")
