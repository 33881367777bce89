"""Client-side caps on request starts per second: one shared by the sending threads, and one per action."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class RateLimiter:
    """Spaces request starts at least ``1 / rate`` seconds apart, across threads.

    Each caller reserves the next free slot under a lock and sleeps outside it, so waiting threads
    never hold each other up beyond their own slot.

    :param rate: the most requests to start per second.
    """

    def __init__(
        self,
        rate: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not rate > 0:
            raise ValueError(f"rate must be a positive number of requests per second, got {rate!r}")
        self.interval = 1.0 / rate
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next = 0.0

    def acquire(self) -> None:
        with self._lock:
            now = self._clock()
            slot = max(now, self._next)
            self._next = slot + self.interval
        if slot > now:
            self._sleep(slot - now)


#: Tencent's documented per-account limits (requests per second) of the actions called besides SendSms.
DOCUMENTED_RATES: dict[str, float] = {
    "DescribeSmsTemplateList": 20,
    "PullSmsReplyStatus": 100,
    "PullSmsReplyStatusByPhoneNumber": 20,
}


class ActionLimiters:
    """One :class:`RateLimiter` per API action, each at its own rate; actions without one are not held."""

    def __init__(
        self,
        rates: dict[str, float] = DOCUMENTED_RATES,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._limiters = {action: RateLimiter(rate, clock, sleep) for action, rate in rates.items()}

    def acquire(self, action: str) -> None:
        limiter = self._limiters.get(action)
        if limiter is not None:
            limiter.acquire()
