"""What delivery receipts prove about recipients, and when to look for them. Pure: no I/O, no clock.

A receipt exists only for a message Tencent accepted, so a receipt for a recipient's number whose
SessionContext names this task instance and the recipient's batch proves that the recipient's request was
processed: the recipient was sent to (and delivered or not, per the receipt). Its absence proves nothing
until receipts stop coming, and Tencent publishes no latency: hence checks at growing intervals until a
timeout, after which the recipient stays "outcome unknown".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .hooks.receipts import Receipt
from .session_context import is_from

#: Each wait between checks is this many times the one before.
GROWTH = 2.0


@dataclass(frozen=True)
class Settlement:
    """What the receipts of one recipient prove."""

    delivered: bool
    #: The carrier's status of the receipt that decided it (``DELIVRD``, ``UNDELIV``...).
    description: str


def settle(receipts: Iterable[Receipt], task_instance: str, batch: int) -> Settlement | None:
    """The outcome the receipts of one number prove for its recipient in ``batch``; ``None``: nothing.

    Only receipts whose session context names this task instance and batch count: the same number may
    get other messages (other tasks, other apps' senders) in the same hours. Receipts are deduplicated by
    ``SerialNo``. If several messages reached the number (a re-send), one delivered is enough.
    """
    ours = {r.serial_no: r for r in receipts if is_from(r.session_context, task_instance, batch)}
    if not ours:
        return None
    delivered = [r for r in ours.values() if r.delivered]
    decisive = delivered[0] if delivered else max(ours.values(), key=lambda r: r.user_receive_time)
    return Settlement(bool(delivered), decisive.description)


def check_offsets(first: float, timeout: float) -> list[float]:
    """Seconds after the origin at which to look for receipts: ``first``, then growing, ending at ``timeout``.

    ``first=120, timeout=3600`` gives ``[120, 240, 480, 960, 1920, 3600]``: a receipt is found at most
    about twice as late as it arrived, and an hour costs six rounds of queries.
    """
    if not 0 < first <= timeout:
        raise ValueError(f"the first check ({first} s) must come after 0 s and by the timeout ({timeout} s)")
    offsets = []
    offset = first
    while offset < timeout:
        offsets.append(offset)
        offset *= GROWTH
    offsets.append(timeout)
    return offsets


def next_check(origin: float, checks_done: int, first: float, timeout: float) -> float | None:
    """When the next check is due (a ``time.time()``), or ``None`` once the last one was made."""
    offsets = check_offsets(first, timeout)
    if checks_done >= len(offsets):
        return None
    return origin + offsets[checks_done]
