"""Time zones chosen so that tests never straddle midnight or Tencent's marketing hours, whenever they run."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo


def midday_zone(now: datetime) -> ZoneInfo:
    """A fixed-offset zone in which ``now`` falls in the 12:00 hour, local time."""
    offset = 12 - now.astimezone(timezone.utc).hour  # -11 .. +12, all of which exist as Etc/GMT zones
    # POSIX-style names invert the sign: Etc/GMT-8 is UTC+8.
    return ZoneInfo("Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}")


def next_minute_after(moment: datetime, lead: timedelta) -> datetime:
    """The first whole minute at least ``lead`` after ``moment`` (windows have minute resolution)."""
    earliest = moment + lead
    floor = earliest.replace(second=0, microsecond=0)
    return floor if floor == earliest else floor + timedelta(minutes=1)
