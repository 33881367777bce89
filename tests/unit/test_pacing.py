"""Pacing rules: the rate cap, back-off on Tencent's rate limit, and how many requests to keep in flight."""

from __future__ import annotations

import bisect
import math

import pytest

from airflow_provider_tencent_sms.pacing import (
    BURST_SECONDS,
    DECREASE_HOLD,
    HEADROOM,
    SLACK,
    InFlightLimit,
    Pacer,
)


def starts(pacer: Pacer, begin: float, end: float, step: float = 0.0001) -> list[float]:
    """Offer the pacer a start every ``step`` seconds; return when it said yes."""
    taken, now = [], begin
    while now < end:
        if pacer.take(now):
            taken.append(now)
        now += step
    return taken


def most_in_any_second(taken: list[float]) -> int:
    return max(bisect.bisect_left(taken, t + 1) - i for i, t in enumerate(taken))


def test_starts_never_exceed_the_cap_in_any_second():
    pacer = Pacer(3000, now=0.0)
    taken = starts(pacer, 0.0, 3.0)
    for window_start in (0.0, 0.5, 1.0, 1.7):
        in_window = [t for t in taken if window_start <= t < window_start + 1]
        assert len(in_window) >= 2990
    assert most_in_any_second(taken) <= 3000


def test_idle_time_is_not_banked_into_a_burst():
    pacer = Pacer(100, now=0.0)
    assert pacer.take(0.0)
    # A minute idle, then a loop that offers a start every 0.1 ms: at most the short burst allowance.
    burst = starts(pacer, 60.0, 60.01)
    assert len(burst) <= 1 + 100 * BURST_SECONDS + 1


def test_a_refusal_halves_the_rate_once_per_hold_then_it_recovers_gradually():
    pacer = Pacer(1000, now=0.0)
    assert pacer.refused(1.0) and pacer.rate == 500
    # Answers of requests already in flight arrive together: one signal, not many halvings.
    assert not pacer.refused(1.0 + DECREASE_HOLD / 2) and pacer.rate == 500
    assert pacer.refused(1.0 + DECREASE_HOLD) and pacer.rate == 250
    now = 1.0 + DECREASE_HOLD
    rates = []
    for _ in range(30):
        now += 0.5
        pacer.recover(now)
        rates.append(pacer.rate)
    assert rates == sorted(rates) and rates[0] < 400 and rates[-1] == 1000


def test_a_bad_cap_is_refused():
    with pytest.raises(ValueError, match="positive"):
        Pacer(0, now=0.0)


def test_in_flight_follows_littles_law_once_answers_tell_the_latency():
    limit = InFlightLimit(1000)
    assert limit.current == 1000  # only the pacing bounds the first requests
    for _ in range(100):
        limit.answered(0.2, rate=3000)
    assert limit.current == limit.target(3000) == round(3000 * 0.2 * HEADROOM) + SLACK
    # Tencent slowed us down: fewer in flight are needed.
    limit.answered(0.2, rate=1000)
    assert limit.current == round(1000 * 0.2 * HEADROOM) + SLACK


def test_in_flight_stays_under_the_ceiling_and_shrinks_when_latency_drops():
    limit = InFlightLimit(50)
    for _ in range(200):
        limit.answered(0.2, rate=3000)
    assert limit.current == 50
    for _ in range(200):
        limit.answered(0.001, rate=3000)
    assert limit.current < 20


def test_answers_that_queued_do_not_inflate_the_requests_in_flight():
    # A busy loop (or server) delays most answers; sizing from their mean would open more connections,
    # which over HTTPS costs handshakes, which delays the answers more.
    limit = InFlightLimit(1000)
    for i in range(1000):
        limit.answered(0.001 if i % 3 == 0 else 0.1 + (i % 7) * 0.05, rate=3000)
    assert limit.current == math.ceil(3000 * 0.001 * HEADROOM) + SLACK


def test_the_first_slow_answers_are_soon_outvoted():
    limit = InFlightLimit(1000)
    limit.answered(0.5, rate=3000)  # connections being set up
    assert limit.current == 1000
    for _ in range(20):
        limit.answered(0.02, rate=3000)
    assert limit.current == math.ceil(3000 * 0.02 * HEADROOM) + SLACK


def test_a_real_rise_in_latency_is_followed_within_a_window():
    limit = InFlightLimit(1000)
    for _ in range(300):
        limit.answered(0.02, rate=3000)
    for _ in range(256):
        limit.answered(0.2, rate=3000)
    assert limit.current == math.ceil(3000 * 0.2 * HEADROOM) + SLACK
