"""When an alert goes on to the escalation list: the decision over its delivery receipts. Pure: no I/O, no clock.

An alert is escalated when none of its primary recipients is known to have received it: no receipt of the
alert's messages says ``SUCCESS`` within ``escalate_after``. Some cases are settled before the wait is over:

- one ``SUCCESS`` receipt: someone has the alert, so it is not escalated;
- no message was accepted (every request refused or certainly not sent): no receipt can ever come, so it is
  escalated at once;
- every primary recipient has a ``FAIL`` receipt: nothing is still on its way, so it is escalated at once.

A receipt is the alert's when its ``SerialNo`` is one Tencent gave the alert's messages, or, for a request
whose answer was lost (outcome unknown, so no ``SerialNo`` is known), when its SessionContext carries the
alert's tag. Other messages the same people got in the same minutes prove nothing about this alert.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from .hooks.receipts import Receipt
from .phone import mask
from .session_context import is_from
from .wording import plural

#: Each wait for receipts lasts as long as the watch has lasted so far, within these bounds: most receipts
#: come within seconds, so the first looks come soon, and a long watch asks about once a minute.
MIN_CHECK_INTERVAL = timedelta(seconds=5)
MAX_CHECK_INTERVAL = timedelta(seconds=60)


@dataclass(frozen=True)
class SentAlert:
    """What became of an alert's requests, as far as its receipts are concerned."""

    #: The tag in the SessionContext its requests carried (``tsms1:<tag>:<request>``): random, one per alert.
    tag: str
    #: When its first request left.
    started: datetime
    #: Number → ``SerialNo`` of each message Tencent accepted.
    accepted: Mapping[str, str] = field(default_factory=dict)
    #: Numbers whose request got no answer: they may have been sent.
    unknown: frozenset[str] = frozenset()

    @property
    def watched(self) -> frozenset[str]:
        """The numbers a receipt may still come for."""
        return frozenset(self.accepted) | self.unknown

    def __repr__(self) -> str:
        return (
            f"SentAlert(tag={self.tag!r}, started={self.started.isoformat()!r}, "
            f"accepted={sorted(mask(n) for n in self.accepted)}, unknown={sorted(mask(n) for n in self.unknown)})"
        )

    def is_ours(self, receipt: Receipt) -> bool:
        if self.accepted.get(receipt.phone_number) == receipt.serial_no:
            return True
        return receipt.phone_number in self.unknown and is_from(receipt.session_context, self.tag)


@dataclass(frozen=True)
class Delivered:
    """A receipt says ``phone_number`` received the alert: no escalation."""

    phone_number: str


@dataclass(frozen=True)
class Escalate:
    """Send the alert to the escalation list now, because of ``reason``."""

    reason: str


@dataclass(frozen=True)
class KeepWatching:
    """Nothing is proven yet: look for receipts again at ``moment``."""

    moment: datetime


def check_interval(watched_for: timedelta) -> timedelta:
    """How long to wait before the next look for receipts, ``watched_for`` into the watch."""
    return min(max(watched_for, MIN_CHECK_INTERVAL), MAX_CHECK_INTERVAL)


def decide(
    alert: SentAlert, receipts: Iterable[Receipt], now: datetime, escalate_after: timedelta
) -> Delivered | Escalate | KeepWatching:
    """Escalate, stop watching because the alert arrived, or look again later."""
    ours = [r for r in receipts if alert.is_ours(r)]
    delivered = next((r for r in ours if r.delivered), None)
    if delivered is not None:
        return Delivered(delivered.phone_number)
    watched = alert.watched
    if not watched:
        return Escalate("the alert reached none of its recipients")
    failed = {r.phone_number for r in ours}
    if failed >= watched:
        return Escalate(f"every receipt says FAIL ({plural(len(watched), 'recipient')})")
    deadline = alert.started + escalate_after
    if now >= deadline:
        return Escalate(
            f"no receipt says SUCCESS after {describe(escalate_after)} ({plural(len(watched), 'recipient')})"
        )
    return KeepWatching(min(deadline, now + check_interval(now - alert.started)))


def unsettled(alert: SentAlert, receipts: Iterable[Receipt]) -> list[str]:
    """The numbers worth asking about: watched, and no receipt of the alert's found for them yet."""
    settled = {r.phone_number for r in receipts if alert.is_ours(r)}
    return sorted(alert.watched - settled)


def describe(delay: timedelta) -> str:
    """``5 min``, ``90 s``, ``1 h 30 min``: a wait as people write it."""
    seconds = round(delay.total_seconds())
    if seconds % 60:
        return f"{seconds} s"
    hours, minutes = divmod(seconds // 60, 60)
    parts = ([f"{hours} h"] if hours else []) + ([f"{minutes} min"] if minutes else [])
    return " ".join(parts) or "0 s"
