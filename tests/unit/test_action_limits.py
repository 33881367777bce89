"""Each read-only action is paced at its own documented rate."""

from __future__ import annotations

import itertools

import pytest

from airflow_provider_tencent_sms.action_limits import ActionLimiters


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


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
    assert all(gap >= 0.05 - 0.015 for gap in gaps["DescribeSmsTemplateList"])  # 20/s, a 15 ms burst allowed
    assert clock.now - 100.0 == pytest.approx(0.1)  # only the 20/s action made anyone wait


def test_many_calls_average_the_documented_rate():
    clock = FakeClock()
    limiters = ActionLimiters(clock=clock, sleep=clock.sleep)
    for _ in range(41):
        limiters.acquire("PullSmsReplyStatusByPhoneNumber")  # 20/s
    assert clock.now - 100.0 == pytest.approx(2.0, abs=0.02)
