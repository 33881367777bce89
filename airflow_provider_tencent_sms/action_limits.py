"""Tencent's documented rate limits of the read-only actions, one pacer per action, shared by threads."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from .pacing import Pacer

#: Tencent's documented per-account limits (requests per second) of the actions called besides SendSms.
DOCUMENTED_RATES: dict[str, float] = {
    "DescribeSmsTemplateList": 20,
    "PullSmsReplyStatus": 100,
    "PullSmsReplyStatusByPhoneNumber": 20,
}


class ActionLimiters:
    """Spaces the calls of each action at its own rate; actions without a rate are not held."""

    def __init__(
        self,
        rates: dict[str, float] = DOCUMENTED_RATES,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._pacers = {action: Pacer(rate, clock()) for action, rate in rates.items()}
        self._lock = threading.Lock()

    def acquire(self, action: str) -> None:
        """Return when a call of ``action`` may start."""
        pacer = self._pacers.get(action)
        if pacer is None:
            return
        while True:
            with self._lock:
                now = self._clock()
                if pacer.take(now):
                    return
                wait = pacer.wait(now)
            self._sleep(wait)
