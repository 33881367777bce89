"""What a send will cost, in billed SMS, and a cap on what it may cost (pure, no Airflow, no I/O)."""

from __future__ import annotations

import math
import threading
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from .batching import Batch
from .ledger import SendUnit
from .segments import message_text, renderer, segments


def message_fees(batches: Sequence[Batch], content: str, sign_name: str | None) -> list[int]:
    """Per batch, the SMS each of its messages is billed as.

    :param batches: the batch plan.
    :param content: the template's content, with its ``{n}`` placeholders.
    :param sign_name: the signature sent with the messages (part of the billed text), if any.
    """
    fees: dict[tuple[tuple[str, ...], bool], int] = {}
    render = renderer(content)
    result = []
    for batch in batches:
        key = (batch.template_params, batch.mainland_china)
        fee = fees.get(key)
        if fee is None:
            text = message_text(sign_name, render(batch.template_params))
            fee = fees[key] = segments(text, batch.mainland_china)
        result.append(fee)
    return result


@dataclass(frozen=True)
class Estimate:
    """What a batch plan will be billed, by :func:`estimate`."""

    #: Billed SMS in all: segments per message, summed over the recipients.
    billed_sms: int
    #: Segments per message -> how many recipients get a message of that many segments.
    recipients_by_segments: Mapping[int, int]


def estimate(batches: Sequence[Batch], fees: Sequence[int]) -> Estimate:
    """The billed SMS of a batch plan, from :func:`message_fees` of the same plan."""
    by_segments: Counter[int] = Counter()
    for batch, fee in zip(batches, fees, strict=True):
        by_segments[fee] += len(batch.numbers)
    return Estimate(
        billed_sms=sum(fee * count for fee, count in by_segments.items()),
        recipients_by_segments=dict(sorted(by_segments.items())),
    )


def units_fee(units: Iterable[SendUnit], batches: Sequence[Batch], fees: Sequence[int]) -> int:
    """The estimated fee of sending these units (whole batches or some of their positions)."""
    return sum(
        fees[unit.batch]
        * (len(batches[unit.batch].numbers) if unit.positions is None else len(unit.positions))
        for unit in units
    )


class FeeBudget:
    """A cap on the fee of a send, checked before each request starts.

    A request reserves its estimated fee under a key before it starts, and is not started when the
    reservation would take spent plus reserved fees past ``max_fee``. When it is answered, the reservation
    is settled with the fee Tencent reported; a request whose outcome is unknown keeps its reservation as
    spent, since it may have been billed. Should Tencent bill a request more than estimated, every estimate,
    those of requests still in flight included, is scaled up by the largest ratio seen, so that the rest of
    the send stays under the cap. Thread-safe.

    :param max_fee: the most the send may cost, in billed SMS.
    :param spent: what earlier tries of the same send already cost.
    """

    def __init__(self, max_fee: int, spent: int = 0) -> None:
        if isinstance(max_fee, bool) or not isinstance(max_fee, int) or max_fee < 0:
            raise ValueError(f"max_fee must be a whole number of billed SMS, 0 or more; got {max_fee!r}")
        self.max_fee = max_fee
        self.spent = spent
        #: Billed / estimated, the largest seen (1 while Tencent bills as estimated).
        self.scale = 1.0
        #: Key -> the estimate it reserved.
        self._reservations: dict[Hashable, int] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"FeeBudget(max_fee={self.max_fee}, spent={self.spent}, reserved={self.reserved})"

    @property
    def reserved(self) -> int:
        with self._lock:
            return self._reserved()

    def _reserved(self) -> int:
        return sum(self._scaled(estimate) for estimate in self._reservations.values())

    def _scaled(self, estimate: int) -> int:
        return math.ceil(estimate * self.scale)

    def reserve(self, key: Hashable, estimate: int) -> bool:
        """Reserve the fee of the request ``key`` about to start; False (nothing reserved) if it does not fit."""
        with self._lock:
            if key in self._reservations:
                raise ValueError(f"{key!r} already holds a reservation")
            if self.spent + self._reserved() + self._scaled(estimate) > self.max_fee:
                return False
            self._reservations[key] = estimate
            return True

    def settle(self, key: Hashable, fee: int | None) -> None:
        """The request ``key`` was answered and cost ``fee`` (0: not sent; None: unknown, so as reserved)."""
        with self._lock:
            estimate = self._reservations.pop(key, 0)
            if fee is None:
                self.spent += self._scaled(estimate)
                return
            self.spent += fee
            if estimate and fee > estimate:
                self.scale = max(self.scale, fee / estimate)
