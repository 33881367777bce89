"""What a send will cost, in billed SMS, and a cap on what it may cost (pure, no Airflow, no I/O)."""

from __future__ import annotations

import enum
import math
import threading
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .ledger import Ledger, SendUnit
from .segments import message_text, renderer, segments

if TYPE_CHECKING:
    # Only for annotations: next_step (imported when DAG files are parsed) needs this module without
    # batching's phone-number library.
    from .batching import Batch


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


def scaled(estimate: int, scale: float | None) -> int:
    """What an estimate may be billed at, Tencent having billed up to ``scale`` times the estimate so far."""
    return math.ceil(estimate * max(1.0, scale or 1.0))


@dataclass(frozen=True)
class Prices:
    """Per batch, how many numbers it has and the estimated fee of one of its messages: what the fee cap
    counts with, from :func:`message_fees`."""

    sizes: Sequence[int]
    per_message: Sequence[int]

    @classmethod
    def of(cls, batches: Sequence[Batch], fees: Sequence[int]) -> Prices:
        return cls([len(batch.numbers) for batch in batches], fees)

    def units(self, units: Iterable[SendUnit]) -> int:
        """The estimated fee of sending these units (whole batches or some of their positions)."""
        return sum(
            self.per_message[unit.batch]
            * (self.sizes[unit.batch] if unit.positions is None else len(unit.positions))
            for unit in units
        )

    def positions(self, by_batch: Mapping[int, Sequence[int]]) -> int:
        """The estimated fee of these positions (batch -> positions)."""
        return sum(self.per_message[batch] * len(positions) for batch, positions in by_batch.items())

    def spent(self, ledger: Ledger) -> int:
        """What the send may have cost so far: the fees Tencent reported, and the requests whose outcome was
        unknown (never priced by Tencent) at their estimate times the highest ratio billed so far."""
        return ledger.fee + scaled(self.positions(ledger.unpriced), ledger.fee_scale)


class Room(enum.Enum):
    """Whether a request may start under the fee cap."""

    #: Reserved: start it.
    START = "start"
    #: Tencent has not yet billed any request of the send, and one is in flight: wait for its answer,
    #: which tells how Tencent bills the estimate.
    WAIT = "wait"
    #: It would take the fee past ``max_fee``: start nothing more.
    FULL = "full"


class FeeBudget:
    """A cap on the fee of a send, checked before each request starts.

    A request reserves its estimated fee under a key before it starts, and is not started when the
    reservation would take the fees spent and reserved past ``max_fee``. Tencent can bill differently from
    the estimate (its count of the text, a price per message), so every estimate is scaled by the highest
    ratio of billed to estimated fee seen in an answer (``scale``), those of requests still in flight
    included. Until a first answer has set that ratio, one request is in flight at a time, so the unknown
    price can only be wrong for one request. When a request is answered its reservation is settled with the
    fee Tencent reported; recipients whose outcome is unknown stay counted at their (scaled) estimate, since
    they may have been billed. Thread-safe.

    :param max_fee: the most the send may cost, in billed SMS.
    :param reported: the fees Tencent reported to earlier tries of the same send.
    :param held: the estimate of earlier tries' recipients whose outcome was unknown (unpriced).
    :param scale: the ratio earlier tries saw (``Ledger.fee_scale``); None when none was seen yet.
    """

    def __init__(self, max_fee: int, reported: int = 0, held: int = 0, scale: float | None = None) -> None:
        if isinstance(max_fee, bool) or not isinstance(max_fee, int) or max_fee < 0:
            raise ValueError(f"max_fee must be a whole number of billed SMS, 0 or more; got {max_fee!r}")
        self.max_fee = max_fee
        self.reported = reported
        self.held = held
        #: Billed / estimated, the largest seen (at least 1); None before an answer billed anyone.
        self.scale = scale
        #: Key -> the estimate it reserved.
        self._reservations: dict[Hashable, int] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"FeeBudget(max_fee={self.max_fee}, spent={self.spent}, reserved={self.reserved})"

    @property
    def spent(self) -> int:
        with self._lock:
            return self._spent()

    @property
    def reserved(self) -> int:
        with self._lock:
            return self._reserved()

    def _spent(self) -> int:
        return self.reported + scaled(self.held, self.scale)

    def _reserved(self) -> int:
        return sum(scaled(estimate, self.scale) for estimate in self._reservations.values())

    def reserve(self, key: Hashable, estimate: int) -> Room:
        """Reserve the fee of the request ``key`` about to start (``Room.START``); nothing is reserved otherwise."""
        with self._lock:
            if key in self._reservations:
                raise ValueError(f"{key!r} already holds a reservation")
            if self._spent() + self._reserved() + scaled(estimate, self.scale) > self.max_fee:
                return Room.FULL
            if self.scale is None and self._reservations:
                return Room.WAIT
            self._reservations[key] = estimate
            return Room.START

    def settle(self, key: Hashable, reported: int, billed_estimate: int = 0, held: int = 0) -> None:
        """The request ``key`` was answered: Tencent reported ``reported`` for recipients estimated at
        ``billed_estimate`` (0: it billed nobody); ``held``: the estimate of its recipients whose outcome is
        unknown, which stay counted as spent."""
        with self._lock:
            self._reservations.pop(key, None)
            self.reported += reported
            self.held += held
            if billed_estimate > 0:
                self.scale = max(self.scale or 1.0, reported / billed_estimate)
