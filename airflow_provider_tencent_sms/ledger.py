"""The send ledger: what a SendSmsOperator task has already sent, kept across tries and deferrals.

SendSms has no idempotency key, so "never a second message" rests on remembering, durably, which
batches of the (deterministic) batch plan were sent. The ledger records batch *indices* and positions
within batches, never phone numbers, so it stays small (a few KB for a million recipients) and holds no
personal data. Pure data and rules: storing it is the operator's job.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from .error_codes import Disposition, classify

LEDGER_VERSION = 1
MAX_DEFERRALS_KEPT = 20
MAX_MESSAGE_CHARS = 200
#: The carriers' description of a delivered message.
_DELIVERED = "DELIVRD"


class LedgerMismatchError(Exception):
    """The stored ledger belongs to a different batch plan (recipients or parameters changed)."""


@dataclass
class Failure:
    code: str
    message: str


@dataclass
class PendingRetry:
    """A recipient briefly rate-limited by Tencent, to be tried again alone."""

    code: str
    attempts: int
    not_before: float


@dataclass
class Watch:
    """A round of receipt checks: since when (a ``time.time()``), and how many checks were made."""

    origin: float
    checks: int = 0


@dataclass(frozen=True)
class SendUnit:
    """One request's worth of work: a whole batch, or some positions of it (retries, window)."""

    batch: int
    positions: tuple[int, ...] | None = None  # None: the whole batch


@dataclass
class Ledger:
    plan: str
    #: Batches whose request was answered (positions that need more work are in the maps below).
    done: set[int] = field(default_factory=set)
    #: Batches possibly on the wire; a crash leaves them here, and they become "unknown" on reload.
    inflight: set[int] = field(default_factory=set)
    #: The same for retries and window re-sends, which send some positions of an answered batch.
    inflight_positions: dict[int, list[int]] = field(default_factory=dict)
    #: Positions whose outcome is unknown (sent, no answer): never re-sent, except once (``resend``).
    unknown: dict[int, list[int]] = field(default_factory=dict)
    #: Unknown positions to be sent once more (``resend_unresolved``). They stay in ``unknown`` (they may
    #: have had the message) and leave both only when a re-send of them is answered: a re-send that is not
    #: sent (refused before processing, never started) leaves them here, to be sent by a later round.
    resend: dict[int, list[int]] = field(default_factory=dict)
    #: Recipients that will not get the message: batch → position → error code.
    failed: dict[int, dict[int, str]] = field(default_factory=dict)
    retry: dict[int, dict[int, PendingRetry]] = field(default_factory=dict)
    #: Positions refused as outside the marketing window: sent again when it opens.
    window: dict[int, list[int]] = field(default_factory=dict)
    sent: int = 0
    fee: int = 0
    requests: int = 0
    #: Requests Tencent refused for the account's API rate (sent again later: they were not processed).
    rate_limited: int = 0
    #: Tencent's message for each error code seen, once per code so failures cost a few bytes each.
    messages: dict[str, str] = field(default_factory=dict)
    #: (UTC ISO moment, reason) of each wait, newest last: shown in the task's result.
    deferrals: list[tuple[str, str]] = field(default_factory=list)
    #: When the first request left (``time.time()``): receipts are looked for from then on.
    first_send: float | None = None
    #: What receipts said, batch → position → ``.`` (delivered, ``DELIVRD``), else ``+`` (delivered) or ``-``
    #: (not) and the description.
    receipts: dict[int, dict[int, str]] = field(default_factory=dict)
    #: Looking for receipts of unknown outcomes; ``resent``: the unresolved ones were sent once more.
    reconcile: Watch | None = None
    #: Unknown recipients a receipt settled as sent.
    reconciled: int = 0
    resent: bool = False
    #: Waiting for receipts of the recipients in ``checked`` (all of them, or a sample), after sending.
    delivery: Watch | None = None
    checked: dict[int, list[int]] = field(default_factory=dict)
    #: The ``max_fee`` at which the fee cap stopped sending: no try with a cap this low sends again.
    capped_at: int | None = None
    #: The template's text as this try's preflight read it: resuming after a deferral estimates fees from it.
    template_content: str | None = None
    #: The highest ratio of Tencent's reported fee to the estimate seen in an answer, ``None`` before the first
    #: answer that billed anyone: the fee cap reserves at it (cost.py), across tries and deferrals.
    fee_scale: float | None = None
    #: A position for each request of it whose outcome was unknown, kept after a receipt settles it or it is
    #: sent again: Tencent never reported what that request cost, so the fee cap counts it at its estimate.
    #: A recipient re-sent (``resend``) whose re-send is unanswered too is here twice: billed twice, maybe.
    unpriced: dict[int, list[int]] = field(default_factory=dict)

    # -- persistence -----------------------------------------------------------------------------------

    @classmethod
    def load(cls, raw: Any, plan: str) -> Ledger:
        """Rebuild a ledger from its stored form; a fresh one if nothing was stored.

        Batches that were in flight when the previous process died are moved to "unknown": they may
        have been sent, so they are never sent again.
        """
        if not raw:
            return cls(plan=plan)
        if not isinstance(raw, dict) or raw.get("v") != LEDGER_VERSION:
            raise LedgerMismatchError(f"stored ledger has an unknown format: {str(raw)[:80]!r}")
        if raw.get("plan") != plan:
            if raw.get("done") or raw.get("inflight") or raw.get("inflight_positions"):
                raise LedgerMismatchError("the stored ledger was written for a different batch plan")
            # Nothing was ever sent under the old plan (e.g. it failed on a wrong template, since fixed).
            return cls(plan=plan)
        ledger = cls(
            plan=plan,
            done=set(decode_ranges(raw.get("done", ""))),
            inflight=set(decode_ranges(raw.get("inflight", ""))),
            inflight_positions={int(b): list(p) for b, p in raw.get("inflight_positions", {}).items()},
            unknown={int(b): list(p) for b, p in raw.get("unknown", {}).items()},
            resend={int(b): list(p) for b, p in raw.get("resend", {}).items()},
            failed={
                int(b): {int(p): c for p, c in items.items()} for b, items in raw.get("failed", {}).items()
            },
            retry={
                int(b): {int(p): PendingRetry(c, a, t) for p, (c, a, t) in items.items()}
                for b, items in raw.get("retry", {}).items()
            },
            messages=dict(raw.get("messages", {})),
            window={int(b): list(p) for b, p in raw.get("window", {}).items()},
            sent=int(raw.get("sent", 0)),
            fee=int(raw.get("fee", 0)),
            requests=int(raw.get("requests", 0)),
            rate_limited=int(raw.get("rate_limited", 0)),
            deferrals=[(str(u), str(r)) for u, r in raw.get("deferrals", [])],
            first_send=raw.get("first_send"),
            receipts={
                int(b): {int(p): str(r) for p, r in items.items()}
                for b, items in raw.get("receipts", {}).items()
            },
            reconcile=_watch(raw.get("reconcile")),
            reconciled=int(raw.get("reconciled", 0)),
            resent=bool(raw.get("resent", False)),
            delivery=_watch(raw.get("delivery")),
            checked={int(b): list(p) for b, p in raw.get("checked", {}).items()},
            capped_at=None if raw.get("capped_at") is None else int(raw["capped_at"]),
            template_content=raw.get("template_content"),
            fee_scale=None if raw.get("fee_scale") is None else float(raw["fee_scale"]),
        )
        # Ledgers written before ``unpriced`` existed: their unknown outcomes are the ones known to be unpriced.
        unpriced = raw["unpriced"] if "unpriced" in raw else raw.get("unknown", {})
        ledger.unpriced = {int(b): list(p) for b, p in unpriced.items()}
        return ledger

    def recover(self, batch_sizes: Sequence[int]) -> int:
        """Turn batches left in flight by a crashed process into unknown outcomes; return how many."""
        lost = sorted(self.inflight - self.done)
        for index in lost:
            self._file_unknown(index, range(batch_sizes[index]))
            self.done.add(index)
        self.inflight.clear()
        stranded = list(self.inflight_positions.items())
        for index, positions in stranded:
            self._settle(SendUnit(index, tuple(positions)))
            self._file_unknown(index, positions)
        return sum(batch_sizes[i] for i in lost) + sum(len(p) for _, p in stranded)

    def dump(self) -> dict[str, Any]:
        """The ledger as plain JSON data, sharing nothing with it: it may be stored from another thread
        while the ledger changes."""
        document: dict[str, Any] = {
            "v": LEDGER_VERSION,
            "plan": self.plan,
            "done": encode_ranges(self.done),
            "inflight": encode_ranges(self.inflight),
            "inflight_positions": {str(b): list(p) for b, p in self.inflight_positions.items() if p},
            "unknown": {str(b): list(p) for b, p in self.unknown.items() if p},
            "failed": {
                str(b): {str(p): c for p, c in items.items()} for b, items in self.failed.items() if items
            },
            "retry": {
                str(b): {str(p): [r.code, r.attempts, r.not_before] for p, r in items.items()}
                for b, items in self.retry.items()
                if items
            },
            "messages": dict(self.messages),
            "window": {str(b): list(p) for b, p in self.window.items() if p},
            "sent": self.sent,
            "fee": self.fee,
            "requests": self.requests,
            "rate_limited": self.rate_limited,
            "deferrals": [list(d) for d in self.deferrals],
        }
        # Receipt state exists only for tasks that look for receipts (and the template's text only for tasks
        # that read it): the common ledger stays as small.
        optional: dict[str, Any] = {
            "first_send": self.first_send,
            "receipts": {
                str(b): {str(p): r for p, r in items.items()} for b, items in self.receipts.items() if items
            },
            "reconcile": None if self.reconcile is None else [self.reconcile.origin, self.reconcile.checks],
            "reconciled": self.reconciled,
            "resent": self.resent,
            "resend": {str(b): list(p) for b, p in self.resend.items() if p},
            "delivery": None if self.delivery is None else [self.delivery.origin, self.delivery.checks],
            "checked": {str(b): list(p) for b, p in self.checked.items() if p},
            "template_content": self.template_content,
            "fee_scale": self.fee_scale,
            "unpriced": {str(b): list(p) for b, p in self.unpriced.items() if p},
        }
        document.update((key, value) for key, value in optional.items() if value)
        if self.capped_at is not None:  # not with the falsy ones above: max_fee=0 is a cap too
            document["capped_at"] = self.capped_at
        return document

    # -- what is left to do ----------------------------------------------------------------------------

    def new_batches(self, count: int) -> list[SendUnit]:
        """Batches never sent, in plan order."""
        return [SendUnit(i) for i in range(count) if i not in self.done and i not in self.inflight]

    def due_retries(self, now: float, max_positions: int) -> list[SendUnit]:
        """Rate-limited recipients whose wait is over, one unit per batch (they share its parameters)."""
        units: list[SendUnit] = []
        for batch, items in sorted(self.retry.items()):
            due = tuple(sorted(p for p, r in items.items() if r.not_before <= now))
            units.extend(
                SendUnit(batch, due[i : i + max_positions]) for i in range(0, len(due), max_positions)
            )
        return units

    def next_retry_time(self) -> float | None:
        times = [r.not_before for items in self.retry.values() for r in items.values()]
        return min(times) if times else None

    def window_units(self) -> list[SendUnit]:
        return [SendUnit(batch, tuple(p)) for batch, p in sorted(self.window.items()) if p]

    def resend_units(self) -> list[SendUnit]:
        """Unknown recipients still to be sent once more: their re-send was not sent (see ``resend``)."""
        return [SendUnit(batch, tuple(p)) for batch, p in sorted(self.resend.items()) if p]

    @property
    def has_retries(self) -> bool:
        return any(self.retry.values())

    @property
    def has_window_waiters(self) -> bool:
        return any(self.window.values())

    @property
    def has_resends(self) -> bool:
        return any(self.resend.values())

    # -- recording outcomes ----------------------------------------------------------------------------

    def start(self, units: Iterable[SendUnit]) -> None:
        """Note units as possibly on the wire, before they are sent (write-ahead)."""
        for unit in units:
            if unit.positions is None:
                self.inflight.add(unit.batch)
            else:
                self.inflight_positions.setdefault(unit.batch, []).extend(unit.positions)

    def _unstart(self, unit: SendUnit) -> bool:
        """Forget that a unit may be on the wire; whether it was marked so."""
        if unit.positions is None:
            marked = unit.batch in self.inflight
            self.inflight.discard(unit.batch)
            return marked
        if unit.batch not in self.inflight_positions:
            return False
        positions = set(unit.positions)
        before = self.inflight_positions[unit.batch]
        left = [p for p in before if p not in positions]
        if left:
            self.inflight_positions[unit.batch] = left
        else:
            del self.inflight_positions[unit.batch]
        return len(left) < len(before)

    def _settle(self, unit: SendUnit) -> None:
        """A unit's request was answered: its positions leave every waiting list before re-filing."""
        self._unstart(unit)
        self.done.add(unit.batch)
        if unit.positions is None:
            return
        positions = set(unit.positions)
        if unit.batch in self.retry:
            for p in positions:
                self.retry[unit.batch].pop(p, None)
        if unit.batch in self.window:
            self.window[unit.batch] = [p for p in self.window[unit.batch] if p not in positions]
        if unit.batch in self.resend:
            # A re-send was answered: its outcome replaces "unknown" (or files them as unknown again).
            resent = positions.intersection(self.resend[unit.batch])
            if resent:
                self.resend[unit.batch] = [p for p in self.resend[unit.batch] if p not in resent]
                self.unknown[unit.batch] = [p for p in self.unknown[unit.batch] if p not in resent]

    def record_sent(self, unit: SendUnit, count: int, fee: int) -> None:
        """Record an answered request in which every recipient got the message."""
        self._settle(unit)
        self.requests += 1
        self.sent += count
        self.fee += fee

    def record_statuses(
        self,
        unit: SendUnit,
        positions: Sequence[int],
        outcomes: Sequence[tuple[str, str, int] | None],
        *,
        now: float,
        max_attempts: int,
        max_wait: float,
        retry_delay: float | None = None,
    ) -> None:
        """Record one answered request.

        :param positions: the batch positions that were in the request, in request order.
        :param outcomes: per position, ``(code, message, fee)`` or ``None`` when the answer did not
            mention that number (its outcome is then unknown).
        """
        previous = {p: r.attempts for p, r in self.retry.get(unit.batch, {}).items()}
        self._settle(unit)
        self.requests += 1
        for position, outcome in zip(positions, outcomes, strict=True):
            if outcome is None:
                self._file_unknown(unit.batch, (position,))
                continue
            code, message, fee = outcome
            self.fee += fee
            if code == "Ok":
                self.sent += 1
                continue
            attempts = previous.get(position, 0)
            self._file_failure(
                unit.batch, position, code, message, attempts, now, max_attempts, max_wait, retry_delay
            )

    def _file_failure(
        self,
        batch: int,
        position: int,
        code: str,
        message: str,
        attempts: int,
        now: float,
        max_attempts: int,
        max_wait: float,
        retry_delay: float | None,
    ) -> None:
        self.messages.setdefault(code, message[:MAX_MESSAGE_CHARS])
        error = classify(code)
        if error.disposition is Disposition.OUTSIDE_SEND_WINDOW:
            self.window.setdefault(batch, []).append(position)
        elif (
            error.disposition in (Disposition.RECIPIENT_TRANSIENT, Disposition.TRANSIENT)
            and attempts + 1 < max_attempts
            and error.retry_after <= max_wait
        ):
            delay = error.retry_after if retry_delay is None else retry_delay
            self.retry.setdefault(batch, {})[position] = PendingRetry(code, attempts + 1, now + delay)
        else:
            self.failed.setdefault(batch, {})[position] = code

    def record_request_error(
        self, unit: SendUnit, positions: Sequence[int], code: str, message: str, **limits: Any
    ) -> None:
        """A whole request was refused with a code that concerns its recipients (or the send window)."""
        self.record_statuses(unit, positions, [(code, message, 0)] * len(positions), **limits)

    def record_unknown(self, unit: SendUnit, positions: Sequence[int]) -> None:
        """The request was sent but no answer came: those recipients are never sent to again."""
        self._settle(unit)
        self.requests += 1
        self._file_unknown(unit.batch, positions)

    def _file_unknown(self, batch: int, positions: Iterable[int]) -> None:
        """Positions whose request may have been sent and billed, with no answer saying so."""
        positions = list(positions)
        self.unknown.setdefault(batch, []).extend(positions)
        self.unpriced.setdefault(batch, []).extend(positions)

    def release(self, unit: SendUnit) -> bool:
        """A unit was certainly not sent (refused before processing, or never started): forget it; return
        whether it was marked possibly sent (a second release of the same unit changes nothing).

        Its recipients stay where they were: never sent (new), waiting (``retry``, ``window``), or unknown
        and to be sent once more (``resend``).
        """
        return self._unstart(unit)

    def note_first_send(self, now: float) -> None:
        if self.first_send is None:
            self.first_send = now

    # -- receipts --------------------------------------------------------------------------------------

    def record_receipt(self, batch: int, position: int, delivered: bool, description: str) -> None:
        """What a receipt said about a recipient who was sent to."""
        # By far the most common receipt, DELIVRD, takes one character.
        common = delivered and description == _DELIVERED
        value = "." if common else ("+" if delivered else "-") + description
        self.receipts.setdefault(batch, {})[position] = value

    def settle_unknown(self, batch: int, position: int, delivered: bool, description: str) -> None:
        """A receipt proved that an unknown recipient's request was processed: they were sent to."""
        self.unknown[batch].remove(position)
        self.sent += 1
        self.reconciled += 1
        self.record_receipt(batch, position, delivered, description)

    def receipt(self, batch: int, position: int) -> tuple[bool, str] | None:
        """``(delivered, description)`` from the recipient's receipt, or None without one."""
        value = self.receipts.get(batch, {}).get(position)
        if value is None:
            return None
        return (True, _DELIVERED) if value == "." else (value[0] == "+", value[1:])

    def resend_unknown(self) -> list[SendUnit]:
        """Mark the unresolved unknown recipients to be sent once more (never a second time); their units."""
        self.resend = {batch: list(p) for batch, p in self.unknown.items() if p}
        self.resent = True
        return self.resend_units()

    def sent_positions(self, batch_sizes: Sequence[int]) -> Iterator[tuple[int, int]]:
        """Every recipient who got the message, in plan order."""
        for batch in sorted(self.done):
            if batch in self.inflight:
                continue
            out = set(self.unknown.get(batch, ()))
            out.update(self.failed.get(batch, {}))
            out.update(self.retry.get(batch, {}))
            out.update(self.window.get(batch, ()))
            out.update(self.inflight_positions.get(batch, ()))
            for position in range(batch_sizes[batch]):
                if position not in out:
                    yield batch, position

    def note_deferral(self, until: str, reason: str) -> None:
        self.deferrals = [*self.deferrals, (until, reason)][-MAX_DEFERRALS_KEPT:]

    # -- summaries -------------------------------------------------------------------------------------

    def failures(self) -> Iterator[tuple[int, int, Failure]]:
        for batch, items in sorted(self.failed.items()):
            for position, code in sorted(items.items()):
                yield batch, position, Failure(code, self.messages.get(code, ""))

    def unknown_positions(self) -> Iterator[tuple[int, int]]:
        for batch, positions in sorted(self.unknown.items()):
            for position in positions:
                yield batch, position

    @property
    def failed_count(self) -> int:
        return sum(len(items) for items in self.failed.values())

    @property
    def unknown_count(self) -> int:
        return sum(len(p) for p in self.unknown.values())

    @property
    def unpriced_count(self) -> int:
        return sum(len(p) for p in self.unpriced.values())

    @property
    def resend_count(self) -> int:
        return sum(len(p) for p in self.resend.values())

    @property
    def waiting_count(self) -> int:
        return sum(len(i) for i in self.retry.values()) + sum(len(p) for p in self.window.values())


def _watch(raw: Any) -> Watch | None:
    return None if not raw else Watch(float(raw[0]), int(raw[1]))


def encode_ranges(values: Iterable[int]) -> str:
    """``{0, 1, 2, 5, 7, 8}`` → ``"0-2,5,7-8"``: batch sets stay tiny however large the send."""
    ordered = sorted(values)
    parts = []
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        parts.append(str(ordered[i]) if i == j else f"{ordered[i]}-{ordered[j]}")
        i = j + 1
    return ",".join(parts)


def decode_ranges(text: str) -> Iterator[int]:
    for part in filter(None, text.split(",")):
        start, _, end = part.partition("-")
        yield from range(int(start), int(end or start) + 1)
