"""The rate limiter spaces request starts, across threads."""

from __future__ import annotations

import itertools
import threading

import pytest

from airflow_provider_tencent_sms.rate_limit import ActionLimiters, RateLimiter


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.now += seconds


def test_starts_are_spaced_by_the_interval():
    clock = FakeClock()
    limiter = RateLimiter(10, clock=clock, sleep=clock.sleep)
    starts = []
    for _ in range(5):
        limiter.acquire()
        starts.append(round(clock.now, 6))
    assert starts == [100.0, 100.1, 100.2, 100.3, 100.4]


def test_idle_time_is_not_banked_into_a_burst():
    clock = FakeClock()
    limiter = RateLimiter(10, clock=clock, sleep=clock.sleep)
    limiter.acquire()
    clock.now += 60
    limiter.acquire()
    before = clock.now
    limiter.acquire()
    assert clock.now - before == pytest.approx(0.1)


def test_threads_share_one_budget():
    limiter = RateLimiter(200)
    import time

    started = time.monotonic()
    threads = [threading.Thread(target=lambda: [limiter.acquire() for _ in range(10)]) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # 40 starts at 200/s take at least 39 intervals.
    assert time.monotonic() - started >= 39 / 200


@pytest.mark.parametrize("rate", [0, -1])
def test_rate_must_be_positive(rate):
    with pytest.raises(ValueError, match="positive"):
        RateLimiter(rate)


def test_each_action_is_held_to_its_own_documented_rate():
    clock = FakeClock()
    limiters = ActionLimiters(clock=clock, sleep=clock.sleep)
    starts: dict[str, list[float]] = {}
    # Interleaved: one action's waiting must not space out the other's starts beyond its own rate.
    for _ in range(3):
        for action in ("DescribeSmsTemplateList", "PullSmsReplyStatus", "SendSms"):
            limiters.acquire(action)
            starts.setdefault(action, []).append(clock.now)
    gaps = {action: [round(b - a, 6) for a, b in itertools.pairwise(t)] for action, t in starts.items()}
    assert all(gap >= 0.05 for gap in gaps["DescribeSmsTemplateList"])  # 20/s
    assert all(gap >= 0.01 for gap in gaps["PullSmsReplyStatus"])  # 100/s
    assert clock.now - 100.0 == pytest.approx(0.1)  # only the 20/s action made anyone wait
