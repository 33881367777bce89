"""Faults: rules that make chosen requests fail, to test how clients cope with errors and lost answers."""

from __future__ import annotations

import dataclasses
import html
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any


@dataclass(frozen=True)
class Fault:
    """What to do to matching requests, and which requests match.

    Effects: ``code`` answers the whole request with that error; ``recipient_code`` gives that code to the
    numbers in ``phone_numbers`` (all numbers if empty) inside SendSms's ``SendStatusSet`` while the others are
    sent; ``http_status`` answers with that status and an HTML ``body``, like a proxy, after processing the
    request if ``process`` is true; ``latency_ms`` delays the answer; ``drop_connection`` processes the request
    and closes the connection without answering (messages and receipts exist); ``drop_before_send`` closes it
    without processing anything; ``fee`` bills each message SendSms sends this many SMS instead of what its
    text costs (as if Tencent counted differently from the provider's estimate). At most one of ``code``,
    ``http_status``, ``drop_connection`` and ``drop_before_send`` may be set.

    Matching: requests for ``action`` (None for any) that contain one of ``phone_numbers`` (if given). The
    first ``after`` matching requests are let through, then the next ``count`` ones (None: all) are hit.
    """

    code: str | None = None
    message: str | None = None
    recipient_code: str | None = None
    phone_numbers: frozenset[str] = frozenset()
    http_status: int | None = None
    body: str | None = None
    process: bool = False
    latency_ms: int = 0
    drop_connection: bool = False
    drop_before_send: bool = False
    fee: int | None = None
    action: str | None = "SendSms"
    after: int = 0
    count: int | None = None
    #: Set by the sandbox when the fault is added.
    id: int = field(default=0, compare=False)

    def __post_init__(self) -> None:
        _check_types(self)
        answers = (self.code, self.http_status, self.drop_connection, self.drop_before_send)
        if not (self.recipient_code or self.latency_ms or any(answers) or self.fee is not None):
            raise ValueError(
                "a fault needs an effect: code, recipient_code, http_status, latency_ms, drop_connection, "
                "drop_before_send or fee"
            )
        if self.fee is not None and self.fee < 1:
            raise ValueError("fee must be 1 or more")
        if sum(1 for effect in answers if effect) > 1:
            raise ValueError("code, http_status, drop_connection and drop_before_send exclude each other")
        if (self.process or self.body is not None) and self.http_status is None:
            raise ValueError("process and body go with http_status")
        if self.message is not None and not (self.code or self.recipient_code):
            raise ValueError("message goes with code or recipient_code")
        if self.http_status is not None and not 200 <= self.http_status <= 599:
            raise ValueError("http_status must be between 200 and 599")
        if self.latency_ms < 0 or self.after < 0 or (self.count is not None and self.count < 1):
            raise ValueError("latency_ms and after must be >= 0, count >= 1 (or None)")

    @classmethod
    def from_json(cls, document: object) -> Fault:
        """Build a fault from the JSON of ``POST /_sandbox/faults``; raises ValueError on bad input."""
        if not isinstance(document, dict):
            raise ValueError("a fault must be a JSON object")
        names = {f.name for f in dataclasses.fields(cls)} - {"id"}
        unknown = set(document) - names
        if unknown:
            raise ValueError(f"unknown fault options: {', '.join(sorted(unknown))}")
        return cls(**document)

    def to_json(self) -> dict[str, Any]:
        document = dataclasses.asdict(self)
        document["phone_numbers"] = sorted(self.phone_numbers)
        return document

    def error_body(self) -> str:
        if self.body is not None:
            return self.body
        status = HTTPStatus(self.http_status or 502)
        title = html.escape(f"{status.value} {status.phrase}")
        return (
            f"<html><head><title>{title}</title></head><body><center><h1>{title}</h1></center>"
            "<hr><center>sandbox-proxy</center></body></html>"
        )


_TYPES: Mapping[str, tuple[type, ...]] = {
    "code": (str, type(None)),
    "message": (str, type(None)),
    "recipient_code": (str, type(None)),
    "http_status": (int, type(None)),
    "body": (str, type(None)),
    "process": (bool,),
    "latency_ms": (int,),
    "drop_connection": (bool,),
    "drop_before_send": (bool,),
    "fee": (int, type(None)),
    "action": (str, type(None)),
    "after": (int,),
    "count": (int, type(None)),
}


def _check_types(fault: Fault) -> None:
    for name, types in _TYPES.items():
        value = getattr(fault, name)
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            raise ValueError(f"fault option {name} has the wrong type: {value!r}")
    numbers: object = fault.phone_numbers
    if not isinstance(numbers, list | tuple | set | frozenset) or not all(
        isinstance(n, str) for n in numbers
    ):
        raise ValueError("phone_numbers must be a list of strings")
    # Callers may pass any collection; keep a frozenset so that matching is a set operation.
    object.__setattr__(fault, "phone_numbers", frozenset(numbers))
    for name in ("code", "recipient_code", "action"):
        if getattr(fault, name) == "":
            raise ValueError(f"fault option {name} must not be empty")


@dataclass(frozen=True)
class FaultEffect:
    """What the faults that hit one request do to it, combined."""

    latency_ms: int = 0
    #: The fault that decides the answer (code, http_status or drop_connection), if any.
    answer: Fault | None = None
    #: Number -> (code, message) for SendStatusSet.
    recipient_codes: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    #: The fee of each sent message, instead of what its text costs.
    fee: int | None = None


class FaultBook:
    """The active faults, with how many matching requests each has seen; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._seen: dict[int, int] = {}
        self._next_id = 1

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            fault = dataclasses.replace(fault, id=self._next_id)
            self._next_id += 1
            self._faults.append(fault)
            self._seen[fault.id] = 0
            return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
            self._seen.clear()

    def faults(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def match(self, action: str, numbers: Sequence[str]) -> FaultEffect | None:
        """Count this request against the faults and return what the ones that hit it do (None: nothing)."""
        if not self._faults:
            return None
        with self._lock:
            hits = [fault for fault in list(self._faults) if self._hits(fault, action, numbers)]
        if not hits:
            return None
        answer = next(
            (f for f in hits if f.code or f.http_status or f.drop_connection or f.drop_before_send), None
        )
        recipient_codes: dict[str, tuple[str, str]] = {}
        for fault in hits:
            if fault.recipient_code:
                message = fault.message or f"{fault.recipient_code} (injected by the sandbox)"
                for number in _targets(fault, numbers):
                    recipient_codes.setdefault(number, (fault.recipient_code, message))
        fee = next((f.fee for f in hits if f.fee is not None), None)
        return FaultEffect(sum(f.latency_ms for f in hits), answer, recipient_codes, fee)

    def _hits(self, fault: Fault, action: str, numbers: Sequence[str]) -> bool:
        if fault.action is not None and fault.action != action:
            return False
        if fault.phone_numbers and fault.phone_numbers.isdisjoint(numbers):
            return False
        seen = self._seen[fault.id] = self._seen[fault.id] + 1
        if seen <= fault.after:
            return False
        if fault.count is not None and seen >= fault.after + fault.count:
            # Used up: forget it so that later requests skip it.
            self._faults.remove(fault)
            del self._seen[fault.id]
        return True


def _targets(fault: Fault, numbers: Iterable[str]) -> Iterable[str]:
    return numbers if not fault.phone_numbers else (n for n in numbers if n in fault.phone_numbers)
