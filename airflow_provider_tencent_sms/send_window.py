"""The daily window in which marketing SMS may be sent (Tencent: 08:00-22:00 Beijing time).

Pure functions over aware datetimes. Times are computed as wall-clock times in the window's zone, so
zones with daylight saving time open at the right local hour on their change days.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_WINDOW = ("08:00", "22:00")
DEFAULT_TIMEZONE = "Asia/Shanghai"
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True)
class SendWindow:
    """Sending is allowed from ``opens`` (inclusive) to ``closes`` (exclusive), local time in ``zone``."""

    opens: time
    closes: time
    zone: ZoneInfo

    @classmethod
    def parse(cls, window: tuple[str, str] | list[str], timezone_name: str) -> SendWindow:
        """Build a window from ``("HH:MM", "HH:MM")`` and an IANA zone name; errors say what is wrong."""
        if not isinstance(window, tuple | list) or len(window) != 2:
            raise ValueError(
                f"send_window must be a pair of 'HH:MM' strings such as ('08:00', '22:00'), got {window!r}"
            )
        bounds = []
        for value in window:
            match = _HHMM.match(str(value).strip())
            if not match:
                raise ValueError(
                    f"send_window time {value!r} is not in 24-hour 'HH:MM' format (e.g. '08:00')"
                )
            bounds.append(time(int(match.group(1)), int(match.group(2))))
        if bounds[0] >= bounds[1]:
            raise ValueError(
                f"send_window {tuple(window)!r} is empty: the opening time must be before the closing time "
                "(windows across midnight are not supported)"
            )
        try:
            zone = ZoneInfo(str(timezone_name))
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"send_window_timezone {timezone_name!r} is not a known IANA time zone (e.g. 'Asia/Shanghai')"
            ) from None
        return cls(bounds[0], bounds[1], zone)

    def _at(self, day: date, moment: time) -> datetime:
        # Built as local wall time, then normalised through UTC so a nonexistent DST time moves forward.
        naive = datetime.combine(day, moment)
        return naive.replace(tzinfo=self.zone).astimezone(timezone.utc).astimezone(self.zone)

    def is_open(self, now: datetime) -> bool:
        local = now.astimezone(self.zone)
        return self._at(local.date(), self.opens) <= local < self._at(local.date(), self.closes)

    def opening(self, now: datetime) -> datetime:
        """When the window of ``now``'s local day opens."""
        return self._at(now.astimezone(self.zone).date(), self.opens)

    def next_opening(self, now: datetime) -> datetime:
        """The next moment the window opens after ``now`` (``now`` itself when it is exactly opening)."""
        local = now.astimezone(self.zone)
        today = self._at(local.date(), self.opens)
        if local <= today:
            return today
        return self._at(local.date() + timedelta(days=1), self.opens)

    def closing(self, now: datetime) -> datetime:
        """When the window of ``now``'s local day closes."""
        local = now.astimezone(self.zone)
        return self._at(local.date(), self.closes)

    def describe(self, moment: datetime) -> str:
        """A moment for logs, in the window's zone and in UTC."""
        local = moment.astimezone(self.zone)
        utc = moment.astimezone(timezone.utc)
        return f"{local:%Y-%m-%d %H:%M:%S %Z} ({self.zone.key}) = {utc:%Y-%m-%d %H:%M:%S} UTC"
