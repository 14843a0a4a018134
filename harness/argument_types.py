"""Checks of argument values, in one place: parsers for command-line text, and `require` for Python values.

The parsers (shared by `mlptune` and the pytest plugin's options) raise
argparse.ArgumentTypeError with the value they got, so argparse (and pytest, which uses it)
reports a one-line usage error at parse time. `require_int` and `require_seconds` check a value
passed to the Python API (`run_search`, the runners) and raise InputError naming it.
"""

from __future__ import annotations

import argparse
import math
from typing import Any

from harness.errors import InputError


def is_int(value: Any) -> bool:
    """An int that is not a bool (True would otherwise pass as 1)."""
    return isinstance(value, int) and not isinstance(value, bool)


def require_int(name: str, value: Any, *, minimum: int = 1, fix: str | None = None) -> int:
    """`value` if it is an integer of at least `minimum`; otherwise InputError naming it (and the fix)."""
    if not is_int(value) or value < minimum:
        kind = "a positive integer" if minimum == 1 else "a non-negative integer" if minimum == 0 \
            else f"an integer of at least {minimum}"
        raise InputError(f"{name} must be {kind}, got {value!r}" + (f"; {fix}" if fix else ""))
    return value


def require_seconds(name: str, value: Any) -> float:
    """A positive, finite number of seconds."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < math.inf:
        raise InputError(f"{name} must be a positive number of seconds, got {value!r}")
    return float(value)


def _integer_at_least(minimum: int, description: str):
    def parse(text) -> int:
        try:
            value = int(text)
        except (TypeError, ValueError):
            value = None
        if value is None or value < minimum:
            raise argparse.ArgumentTypeError(f"expected {description}, got {text!r}")
        return value

    parse.__name__ = description.replace(" ", "_")
    return parse


parse_positive_int = _integer_at_least(1, "a positive integer")
parse_non_negative_int = _integer_at_least(0, "a non-negative integer")


def parse_non_negative_float(text) -> float:
    try:
        value = float(text)
    except (TypeError, ValueError):
        value = math.nan
    if not (value >= 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"expected a non-negative finite number, got {text!r}")
    return value


def parse_positive_float(text) -> float:
    try:
        value = parse_non_negative_float(text)
    except argparse.ArgumentTypeError:
        value = 0.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive finite number, got {text!r}")
    return value
