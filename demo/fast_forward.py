"""Skip the wait for a marketing send window: move the clock to just before it opens as the send starts.

A listener (Airflow's plugin hook ``on_task_instance_running``) sees the send task start. If the window is
closed (or closes within a minute), it moves the clock with time-machine to a few seconds before the next
opening. From there everything is real: the operator finds the window closed and defers, the trigger waits
out those seconds, and the task resumes and sends. The sandbox shares the clock, so it enforces Tencent's
marketing hours at the same moment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import time_machine
from airflow.listeners import hookimpl

#: How long before the opening the clock lands: the deferral then lasts about this long.
LEAD = timedelta(seconds=5)
#: A window closing sooner than this (plus the operator's own margin) counts as closed.
SLACK = timedelta(minutes=1)


@dataclass(frozen=True)
class Jump:
    real: datetime
    to: datetime
    opening: datetime
    #: The window was open: the jump was asked for (``always``), not needed.
    forced: bool


def _at(day: datetime, hh_mm: str) -> datetime:
    hours, minutes = (int(part) for part in hh_mm.split(":"))
    return datetime.combine(day.date(), time(hours, minutes), tzinfo=day.tzinfo)


def next_opening(now: datetime, window: tuple[str, str], margin: timedelta) -> datetime | None:
    """The next opening of the daily ``window`` if it is closed at ``now`` (local time); None if it is open."""
    opens, closes = _at(now, window[0]), _at(now, window[1])
    if opens <= now < closes - margin - SLACK:
        return None
    if now < opens:
        return opens
    return _at(now + timedelta(days=1), window[0])


class FastForward:
    """While registered, jumps the clock once, when ``task_id`` first starts outside its send window.

    :param always: jump to the next opening even if the window is open now (to show the deferral anyway).
    """

    def __init__(self, task_id: str, *, always: bool = False) -> None:
        self.task_id = task_id
        self.always = always
        self.jump: Jump | None = None
        self._decided = False
        self._traveller: Any = None

    @hookimpl
    def on_task_instance_running(self, previous_state: Any, task_instance: Any) -> None:
        if task_instance.task_id != self.task_id or self._decided:
            return
        self._decided = True
        operator = task_instance.task
        zone = ZoneInfo(operator.send_window_timezone)
        now = datetime.now(zone)
        opening = next_opening(now, operator.send_window, operator.send_window_margin)
        forced = opening is None and self.always
        if forced:
            opening = _at(now + timedelta(days=1), operator.send_window[0])
        if opening is None:
            return
        self.jump = Jump(real=now, to=opening - LEAD, opening=opening, forced=forced)
        self._traveller = time_machine.travel(self.jump.to, tick=True)
        self._traveller.start()

    def stop(self) -> None:
        """Back to the real clock."""
        if self._traveller is not None:
            self._traveller.stop()
            self._traveller = None
