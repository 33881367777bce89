"""Polling with a deadline: Airflow's components act asynchronously, so tests wait for states, not times."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class WaitTimeout(AssertionError):
    """The awaited condition did not hold in time (an AssertionError so pytest reports it as a failure)."""


def wait_for(
    probe: Callable[[], T | None],
    *,
    timeout: float,
    what: str,
    interval: float = 0.5,
    describe: Callable[[], str] | None = None,
) -> T:
    """Call ``probe`` until it returns something truthy and return that; fail after ``timeout`` seconds.

    ``describe`` is called on timeout to say what was seen instead (e.g. the last task state).
    """
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() >= deadline:
            seen = f"; last seen: {describe()}" if describe else ""
            raise WaitTimeout(f"timed out after {timeout:.0f} s waiting for {what}{seen}")
        time.sleep(interval)
