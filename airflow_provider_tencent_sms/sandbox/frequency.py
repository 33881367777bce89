"""Per-number sending limits, like the frequency policy of Tencent's SMS console (off unless configured)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo

_DAY = 86_400.0


@dataclass(frozen=True)
class FrequencyLimits:
    """How many messages one number may get; None switches a limit off.

    The first three defaults are the policy Tencent's console is documented to start with (1 per 30 seconds,
    5 per hour, 10 per day); Tencent publishes no default for ``same_content_daily``, so it is 3 here, low
    enough to be reached before ``daily``.
    """

    thirty_seconds: int | None = 1
    one_hour: int | None = 5
    daily: int | None = 10
    same_content_daily: int | None = 3


class FrequencyTracker:
    """Counts what each number was sent, and refuses a message that would exceed a limit.

    "Daily" is the calendar day in ``zone`` (Beijing time by default), as in Tencent's console.
    """

    def __init__(self, limits: FrequencyLimits, zone: tzinfo) -> None:
        self._limits = limits
        self._zone = zone
        self._lock = threading.Lock()
        self._sent: dict[str, list[tuple[float, str]]] = {}
        self._day_start = 0.0

    def admit(self, numbers: Sequence[str], text: str, now: float) -> list[str | None]:
        """For each number: None if it may get ``text`` now (and count it as sent), else the limit's code."""
        local = datetime.fromtimestamp(now, self._zone)
        day_start = now - (local.hour * 3600 + local.minute * 60 + local.second + local.microsecond / 1e6)
        with self._lock:
            if day_start > self._day_start:
                # Once a day, forget numbers not sent to for a day, so that memory follows one day's traffic.
                self._day_start = day_start
                self._sent = {n: h for n, h in self._sent.items() if h and h[-1][0] > now - _DAY}
            return [self._admit_one(number, text, now, day_start) for number in numbers]

    def _admit_one(self, number: str, text: str, now: float, day_start: float) -> str | None:
        history = [entry for entry in self._sent.get(number, ()) if entry[0] > now - _DAY]
        self._sent[number] = history
        limits = self._limits
        today = [entry for entry in history if entry[0] >= day_start]
        checks = (
            (limits.thirty_seconds, sum(1 for t, _ in history if t > now - 30), "ThirtySecondLimit"),
            (limits.one_hour, sum(1 for t, _ in history if t > now - 3600), "OneHourLimit"),
            (limits.daily, len(today), "DailyLimit"),
            (limits.same_content_daily, sum(1 for _, c in today if c == text), "SameContentDailyLimit"),
        )
        for limit, count, name in checks:
            if limit is not None and count >= limit:
                return f"LimitExceeded.PhoneNumber{name}"
        history.append((now, text))
        return None

    def clear(self) -> None:
        with self._lock:
            self._sent.clear()
