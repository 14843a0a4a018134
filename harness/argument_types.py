"""Parsers for command-line values, shared by `mlptune` and the pytest plugin's options.

Each raises argparse.ArgumentTypeError with the value it got, so argparse (and pytest, which
uses it) reports a one-line usage error at parse time.
"""

from __future__ import annotations

import argparse
import math


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
