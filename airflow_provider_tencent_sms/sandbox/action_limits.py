"""Tencent's documented per-action rate limits (requests per second, per account), enforced when enabled."""

from __future__ import annotations

import threading
from collections import deque

#: Requests per second each action accepts; over it Tencent answers ``RequestLimitExceeded``.
ACTION_RATE_LIMITS = {
    "SendSms": 3000,
    "DescribePhoneNumberInfo": 1000,
    "PullSmsSendStatus": 100,
    "PullSmsSendStatusByPhoneNumber": 20,
    "DescribeSmsTemplateList": 20,
    "DescribeSmsSignList": 20,
    "SendStatusStatistics": 10,
    "CallbackStatusStatistics": 10,
}


class ActionLimits:
    """Counts each action's requests over the last second at arrival time, as Tencent does; thread-safe."""

    def __init__(self, limits: dict[str, int] | None = None) -> None:
        self.limits = dict(ACTION_RATE_LIMITS if limits is None else limits)
        self._lock = threading.Lock()
        self._arrivals: dict[str, deque[float]] = {}

    def admit(self, action: str, now: float) -> bool:
        """Whether a request for ``action`` arriving at ``now`` (monotonic seconds) is within its limit."""
        limit = self.limits.get(action)
        if limit is None:
            return True
        with self._lock:
            arrivals = self._arrivals.setdefault(action, deque())
            while arrivals and arrivals[0] <= now - 1.0:
                arrivals.popleft()
            if len(arrivals) >= limit:
                return False
            arrivals.append(now)
            return True
