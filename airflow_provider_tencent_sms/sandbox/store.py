"""What the sandbox remembers: accepted messages (the inbox), delivery receipts, statistics, a request log.

Everything is bounded by ``max_messages`` (oldest dropped first) so that a long benchmark cannot exhaust memory.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import NamedTuple


@dataclass(frozen=True, slots=True)
class Batch:
    """What the recipients of one accepted SendSms request share."""

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


class Delivery(NamedTuple):
    """One message accepted for one number (a NamedTuple: up to 200 are made per request)."""

    batch: Batch
    phone_number: str
    iso_code: str
    serial_no: str

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


@dataclass(frozen=True)
class RequestRecord:
    """One API request as received, and the code it was answered with.

    ``outcome`` is ``Ok``, an error code, ``HTTP <status>`` for a faulted HTTP answer, or ``ConnectionDropped``.
    ``monotonic`` is ``time.monotonic()`` when the request arrived, for measuring rates and spacing.
    """

    action: str
    api_version: str
    number_count: int
    monotonic: float
    outcome: str
    request_id: str


@dataclass
class _Counts:
    requests: int = 0
    successes: int = 0
    fees: int = 0


class Store:
    """Thread-safe; readers get snapshots."""

    def __init__(self, max_messages: int) -> None:
        self._lock = threading.Lock()
        self._messages: deque[Delivery] = deque(maxlen=max_messages)
        self._receipts: deque[Delivery] = deque(maxlen=max_messages)
        self._requests: deque[RequestRecord] = deque(maxlen=max_messages)
        self._hours: dict[str, _Counts] = {}

    def add(self, deliveries: list[Delivery], attempted: int, fees: int, hour: str) -> None:
        """Record an accepted SendSms: its deliveries; ``attempted`` numbers and ``fees`` for ``hour``'s statistics."""
        with self._lock:
            self._messages.extend(deliveries)
            self._receipts.extend(deliveries)
            counts = self._hours.get(hour)
            if counts is None:
                counts = self._hours[hour] = _Counts()
            counts.requests += attempted
            counts.successes += len(deliveries)
            counts.fees += fees

    def log(self, record: RequestRecord) -> None:
        with self._lock:
            self._requests.append(record)

    def messages(self) -> list[Delivery]:
        with self._lock:
            return list(self._messages)

    def requests(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._requests)

    def pull_receipts(self, limit: int) -> list[Delivery]:
        """Take up to ``limit`` delivery receipts off the queue: each is returned once, like Tencent's."""
        with self._lock:
            count = min(limit, len(self._receipts))
            return [self._receipts.popleft() for _ in range(count)]

    def history(self, number: str, begin: float, end: float | None) -> Iterable[Delivery]:
        with self._lock:
            messages = list(self._messages)
        return (
            d
            for d in messages
            if d.phone_number == number
            and begin <= d.batch.timestamp
            and (end is None or d.batch.timestamp <= end)
        )

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
