"""When a tuning test in a --tune run would pass without having checked anything.

A green gate must mean every tuning test compared a search with its baseline. Two ways to pass
without that: the test was skipped by something other than its own skip marker (another plugin's
option, `pytest.skip` or `importorskip` in a fixture or the body), or it used the `mlptune` fixture
but never called `mlptune.check`. Both become failures that say why.
"""

from __future__ import annotations

VACUOUS_PROPERTY = "mlptune_unchecked"
BENCHMARK_ONLY_REASON = "Skipping non-benchmark"  # the reason pytest-benchmark's --benchmark-only gives


def vacuous_problem(report, *, fixture, uses_fixture: bool, skipped_by_marker: bool) -> str | None:
    """The reason this report of a tuning test is a vacuous pass, or None.

    `fixture` is the test's `mlptune` fixture (None if it was never set up); `skipped_by_marker`
    says the test carries a skip or skipif marker, which is a deliberate, visible skip.
    """
    if report.skipped:
        if (report.when == "setup" and skipped_by_marker) or hasattr(report, "wasxfail"):  # deliberate, in the test file
            return None
        reason = _skip_reason(report)
        return (f"tuning test skipped in a --tune run ({reason}); a skipped tuning test checks nothing. Run it, "
                "or skip it on purpose with @pytest.mark.skip / skipif on the test")
    if report.when == "call" and report.passed and uses_fixture and fixture is not None and not fixture.checked:
        if fixture.searched:
            return ("the test called mlptune.search() but never mlptune.check(result), so it checked nothing; "
                    "add mlptune.check(result)")
        return "the test used the mlptune fixture but ran no search and no check; call mlptune.search() and mlptune.check()"
    return None


def _skip_reason(report) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        reason = str(longrepr[2])
        return reason[len("Skipped: "):] if reason.startswith("Skipped: ") else reason
    return str(longrepr)
