"""What the sandbox remembers: accepted messages (the inbox), delivery receipts, statistics, a request log,
and the replies recipients sent back (injected by tests).

Messages are kept as one :class:`Batch` per request and expanded into :class:`Delivery` views when read:
under load a request carries 200 numbers hundreds of times a second, and reads are rare.
Everything is bounded by ``max_messages`` (oldest requests dropped first) so that a long benchmark cannot
exhaust memory.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import NamedTuple

from .delivery import SUCCESS, Outcome

_DELIVERED = Outcome(SUCCESS, "DELIVRD", None)


@dataclass(frozen=True, slots=True)
class Batch:
    """One accepted SendSms request: what its recipients share, and the numbers that were sent to."""

    request_id: str
    api_version: str
    app_id: str
    template_id: str
    template_params: tuple[str, ...]
    sign_name: str | None
    text: str
    fee: int
    session_context: str
    extend_code: str | None
    sender_id: str | None
    timestamp: float
    #: The accepted numbers, with their IsoCode and SerialNo, in request order.
    phone_numbers: tuple[str, ...]
    iso_codes: tuple[str, ...]
    serial_nos: tuple[str, ...]
    #: Seconds from acceptance to a receipt, unless a delivery rule says otherwise.
    receipt_lag: float = 0.0
    #: Position -> the receipt a delivery rule gave it; the others are delivered after ``receipt_lag``.
    outcomes: Mapping[int, Outcome] = field(default_factory=dict)

    def outcome(self, position: int) -> Outcome:
        return self.outcomes.get(position, _DELIVERED)

    def receipt_time(self, position: int) -> float | None:
        """When the receipt of ``position`` appears (None: never)."""
        outcome = self.outcomes.get(position, _DELIVERED)
        if outcome.status is None:
            return None
        return self.timestamp + (self.receipt_lag if outcome.delay is None else outcome.delay)

    def deliveries(self, start: int = 0, stop: int | None = None) -> Iterator[Delivery]:
        return (Delivery(self, i) for i in range(start, len(self.phone_numbers) if stop is None else stop))


class Delivery(NamedTuple):
    """One message accepted for one number: a view of its batch."""

    batch: Batch
    position: int

    @property
    def phone_number(self) -> str:
        return self.batch.phone_numbers[self.position]

    @property
    def iso_code(self) -> str:
        return self.batch.iso_codes[self.position]

    @property
    def serial_no(self) -> str:
        return self.batch.serial_nos[self.position]

    @property
    def outcome(self) -> Outcome:
        return self.batch.outcome(self.position)

    @property
    def receipt_time(self) -> float | None:
        return self.batch.receipt_time(self.position)

    def receipt_due(self, now: float) -> bool:
        appears = self.batch.receipt_time(self.position)
        return appears is not None and appears <= now

    def to_json(self) -> dict[str, object]:
        batch = self.batch
        return {
            "phone_number": self.phone_number,
            "template_id": batch.template_id,
            "template_params": list(batch.template_params),
            "sign_name": batch.sign_name,
            "text": batch.text,
            "serial_no": self.serial_no,
            "fee": batch.fee,
            "received_at": datetime.fromtimestamp(batch.timestamp, timezone.utc).isoformat(
                timespec="milliseconds"
            ),
            "session_context": batch.session_context,
            "request_id": batch.request_id,
            "api_version": batch.api_version,
            "iso_code": self.iso_code,
            "sms_sdk_app_id": batch.app_id,
            "extend_code": batch.extend_code,
            "sender_id": batch.sender_id,
        }


@dataclass(frozen=True, slots=True)
class InboundReply:
    """A reply a recipient sent, as PullSmsReplyStatus reports it."""

    phone_number: str
    content: str
    #: Unix seconds.
    reply_time: int
    sign_name: str
    extend_code: str

    def to_json(self) -> dict[str, object]:
        return {
            "phone_number": self.phone_number,
            "content": self.content,
            "reply_time": self.reply_time,
            "sign_name": self.sign_name,
            "extend_code": self.extend_code,
        }


@dataclass(frozen=True)
class RequestRecord:
    """One API request as received, and the code it was answered with.

    ``outcome`` is ``Ok``, an error code, ``HTTP <status>`` for a faulted HTTP answer, or ``ConnectionDropped``.
    ``monotonic`` is ``time.monotonic()`` when the request arrived, for measuring rates and spacing.
    ``phone_numbers`` are the numbers the request named, sent or not: tests count attempts with them.
    """

    action: str
    api_version: str
    number_count: int
    monotonic: float
    outcome: str
    request_id: str
    phone_numbers: tuple[str, ...] = ()


@dataclass
class _Counts:
    requests: int = 0
    successes: int = 0
    fees: int = 0


class _BatchQueue:
    """Batches holding at most about ``limit`` messages, oldest dropped first."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.batches: deque[Batch] = deque()
        self.count = 0

    def append(self, batch: Batch) -> None:
        self.batches.append(batch)
        self.count += len(batch.phone_numbers)
        # Whole batches are dropped; the newest one always stays, however large.
        while self.count > self.limit and len(self.batches) > 1:
            self.count -= len(self.batches.popleft().phone_numbers)

    def clear(self) -> None:
        self.batches.clear()
        self.count = 0


class _ReceiptQueue:
    """Receipts not yet pulled, by batch; each is handed out once, when its time has come.

    Receipts may come due out of order (delivery rules give numbers other delays), so each batch keeps the
    positions still to hand out. Like the inbox, it holds about ``limit`` receipts, oldest dropped first.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.pending: deque[tuple[Batch, list[int]]] = deque()
        self.count = 0

    def append(self, batch: Batch) -> None:
        size = len(batch.phone_numbers)
        if batch.outcomes:
            positions = [p for p in range(size) if batch.receipt_time(p) is not None]
        else:
            positions = list(range(size))  # on SendSms's hot path: no per-number work
        if not positions:
            return
        self.pending.append((batch, positions))
        self.count += len(positions)
        while self.count > self.limit and len(self.pending) > 1:
            self.count -= len(self.pending.popleft()[1])

    def take(self, limit: int, now: float) -> list[Delivery]:
        taken: list[Delivery] = []
        for batch, positions in self.pending:
            if len(taken) >= limit:
                break
            due = [p for p in positions if Delivery(batch, p).receipt_due(now)][: limit - len(taken)]
            if due:
                taken.extend(Delivery(batch, p) for p in due)
                handed = set(due)
                positions[:] = [p for p in positions if p not in handed]
        self.count -= len(taken)
        while self.pending and not self.pending[0][1]:
            self.pending.popleft()
        # Emptied batches further in are left until they reach the front: they hold no receipts.
        return taken

    def clear(self) -> None:
        self.pending.clear()
        self.count = 0


class Store:
    """Thread-safe; readers get snapshots."""

    def __init__(self, max_messages: int) -> None:
        self._lock = threading.Lock()
        self._messages = _BatchQueue(max_messages)
        self._receipts = _ReceiptQueue(max_messages)
        self._requests: deque[RequestRecord] = deque(maxlen=max_messages)
        self._hours: dict[str, _Counts] = {}
        self._replies: deque[InboundReply] = deque(maxlen=max_messages)
        self._unread_replies: deque[InboundReply] = deque(maxlen=max_messages)

    def add(self, batch: Batch, attempted: int, hour: str) -> None:
        """Record an accepted SendSms; ``attempted`` numbers count in ``hour``'s statistics."""
        sent = len(batch.phone_numbers)
        with self._lock:
            if sent:
                self._messages.append(batch)
                self._receipts.append(batch)
            counts = self._hours.get(hour)
            if counts is None:
                counts = self._hours[hour] = _Counts()
            counts.requests += attempted
            counts.successes += sent
            counts.fees += sent * batch.fee

    def log(self, record: RequestRecord) -> None:
        with self._lock:
            self._requests.append(record)

    def messages(self) -> list[Delivery]:
        with self._lock:
            batches = list(self._messages.batches)
        return [delivery for batch in batches for delivery in batch.deliveries()]

    def newest(self, limit: int) -> tuple[list[Delivery], int]:
        """Up to ``limit`` messages, newest first, and how many are kept in all."""
        with self._lock:
            batches, total = list(self._messages.batches), self._messages.count
        newest: list[Delivery] = []
        for batch in reversed(batches):
            newest.extend(reversed(list(batch.deliveries())))
            if len(newest) >= limit:
                break
        return newest[:limit], total

    def requests(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._requests)

    def pull_receipts(self, limit: int, now: float) -> list[Delivery]:
        """Take up to ``limit`` due delivery receipts off the queue: each is returned once, like Tencent's."""
        with self._lock:
            return self._receipts.take(limit, now)

    def history(self, number: str, begin: float, end: float | None, now: float) -> Iterator[Delivery]:
        """The receipts of ``number`` due by ``now``, for messages accepted between ``begin`` and ``end``."""
        with self._lock:
            batches = list(self._messages.batches)
        return (
            delivery
            for batch in batches
            if begin <= batch.timestamp and (end is None or batch.timestamp <= end)
            for delivery in batch.deliveries()
            if delivery.phone_number == number and delivery.receipt_due(now)
        )

    def add_reply(self, reply: InboundReply) -> None:
        with self._lock:
            self._replies.append(reply)
            self._unread_replies.append(reply)

    def replies(self) -> list[InboundReply]:
        """Every reply kept, oldest first, read or not."""
        with self._lock:
            return list(self._replies)

    def pull_replies(self, limit: int) -> list[InboundReply]:
        """Take up to ``limit`` replies off the queue: each is returned once, like Tencent's."""
        with self._lock:
            return [self._unread_replies.popleft() for _ in range(min(limit, len(self._unread_replies)))]

    def reply_history(self, number: str, begin: int, end: int | None) -> list[InboundReply]:
        """The replies from ``number`` between ``begin`` and ``end`` (Unix seconds, inclusive), oldest first."""
        with self._lock:
            replies = list(self._replies)
        return [
            r
            for r in replies
            if r.phone_number == number and begin <= r.reply_time and (end is None or r.reply_time <= end)
        ]

    def accepted_between(self, begin: float, end: float) -> list[Batch]:
        """The kept requests accepted from ``begin`` (inclusive) to ``end`` (exclusive)."""
        with self._lock:
            batches = list(self._messages.batches)
        return [batch for batch in batches if begin <= batch.timestamp < end]

    def statistics(self, first_hour: str, last_hour: str) -> tuple[int, int, int]:
        """(fees, requests, successes) over the hours ``first_hour``..``last_hour`` (``yyyymmddhh``)."""
        with self._lock:
            selected = [c for hour, c in self._hours.items() if first_hour <= hour <= last_hour]
        return (
            sum(c.fees for c in selected),
            sum(c.requests for c in selected),
            sum(c.successes for c in selected),
        )

    def clear(self) -> None:
        with self._lock:
            self._messages.clear()
            self._receipts.clear()
            self._requests.clear()
            self._hours.clear()
            self._replies.clear()
            self._unread_replies.clear()
