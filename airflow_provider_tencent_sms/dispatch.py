"""Sending many SendSms requests from one thread, under a rate cap, recording each outcome in the ledger.

One event loop (libcurl's multi interface, :mod:`.engine`) keeps as many requests in flight as the rate and
the measured latency call for. The ledger is written ahead of the requests in slices of about a quarter
of a second's worth: each slice is marked as possibly on the wire and stored before any of its requests
leaves, so a crash can never lose the fact that a request may have been sent, while storing costs one
write per slice rather than one per request. Slices are stored from another thread (:mod:`.ledger_writer`)
while the previous one is being sent, so the loop never waits on the store unless the store is slower
than a slice. When the loop is stopped (``on_kill``, a timeout) it waits briefly for answers in flight,
gives back the units that never started and stores the ledger: the next try sends those, and treats the
requests still unanswered as outcome unknown.
"""

from __future__ import annotations

import contextlib
import heapq
import logging
import math
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from .batching import Batch
from .calls import (
    api_headers,
    curl_failure,
    encode,
    fee_if_all_sent,
    read_answer,
    send_sms_params,
    send_status_items,
)
from .cost import FeeBudget, Room
from .engine import CurlEngine, Reply, usable_connections
from .error_codes import Disposition
from .exceptions import OutcomeUnknownError, TencentSmsApiError, TencentSmsError, is_transient_not_sent
from .hooks.sms import TencentSmsHook
from .ledger import Ledger, SendUnit
from .ledger_writer import LedgerWriter
from .pacing import DEFAULT_MAX_CONCURRENCY, InFlightLimit, Pacer
from .phone import mask
from .session_context import compose
from .wording import plural

log = logging.getLogger(__name__)

#: Above this many requests, progress is logged every few seconds instead of once per request.
PER_REQUEST_LOG_LIMIT = 10
PROGRESS_INTERVAL = 5.0
CHECKPOINT_INTERVAL = 2.0
#: How much sending one write-ahead slice covers, in seconds at the current rate.
SLICE_SECONDS = 0.25
MAX_BACKOFF = 30.0
#: Refusals for Tencent's rate limit re-queue a request (it was not processed); after this many in a row
#: for one request the account is taken as saturated and the request is left to an Airflow retry.
MAX_RATE_LIMITED_ATTEMPTS = 20
#: When stopped, answers already on their way are awaited this long before giving up on them.
STOP_GRACE = 2.0
#: The loop's longest sleep, so that a stop request is seen quickly.
MAX_POLL = 0.05
#: The snapshot number of a slice not yet submitted: higher than any stored, so it never becomes ready.
UNSUBMITTED = sys.maxsize


@dataclass(frozen=True)
class SendSettings:
    """What every request of one operator run shares."""

    template_id: str
    sign_name: str | None = None
    sms_sdk_app_id: str | None = None
    session_context: str | None = None
    extend_code: str | None = None
    sender_id: str | None = None
    #: The most requests in flight; fewer are used when the rate and latency need fewer.
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY
    max_requests_per_second: float = 1000.0
    #: Attempts per request for transient whole-request errors before leaving it to an Airflow retry.
    request_attempts: int = 3
    #: Attempts per recipient for recipient-level transient codes (e.g. the 30-second limit).
    recipient_attempts: int = 3
    #: Recipient-level waits longer than this are failures, not retries.
    max_recipient_wait: float = 300.0
    #: Overrides the wait the error code calls for before retrying rate-limited recipients.
    recipient_retry_delay: float | None = None
    #: The task instance's tag: each request's SessionContext names it and the batch (session_context.py).
    task_instance: str | None = None

    def context_for(self, batch: int) -> str | None:
        """The SessionContext of a request of ``batch``: our tag, then the user's own context."""
        if self.task_instance is None:
            return self.session_context
        return compose(self.task_instance, batch, self.session_context)


@dataclass
class DispatchResult:
    """How a round of sending ended, beyond what the ledger already records."""

    terminal_error: TencentSmsApiError | None = None
    transient_error: TencentSmsError | None = None
    not_sent: int = 0
    stopped_at_deadline: bool = False
    #: A request was not started because its estimated fee would have passed ``max_fee``.
    stopped_at_budget: bool = False
    #: Stopped from outside (``stop()``, i.e. ``on_kill``) before every unit was sent.
    interrupted: bool = False
    peak_in_flight: int = 0


def backoff(error: TencentSmsError, attempt: int) -> float:
    """Seconds to wait before attempt ``attempt + 2`` of a request that was certainly not sent: the
    error code's own delay (1 s for a network failure), doubled each attempt, at most ``MAX_BACKOFF``."""
    delay = error.error_class.retry_after if isinstance(error, TencentSmsApiError) else 1.0
    return float(min(delay * 2**attempt, MAX_BACKOFF))


@dataclass
class _Job:
    """A unit on its way: written ahead in the ledger, with the attempts it has had."""

    unit: SendUnit
    attempts: int = 0
    rate_limited: int = 0


class Dispatcher:
    """
    Runs one round of requests.

    :param hook: gives the connection, its transport settings and the signer.
    :param batches: the batch plan; units refer to it by index.
    :param ledger: where outcomes are recorded.
    :param settings: request parameters and limits.
    :param save: stores a ledger snapshot (:meth:`.Ledger.dump`) durably; called from a thread of its own for
        each slice of requests before any of them starts, and every few seconds; from the caller's thread
        when the round ends or is stopped.
    :param deadline: a ``time.time()`` after which no new request starts (the marketing window's end).
    :param budget: with ``max_fee``: each request reserves its estimated fee (``message_fees`` per batch
        times its numbers) before it starts, and is settled with the fee Tencent reports; the ratio billed
        to estimated is kept in the ledger (``fee_scale``), and a refusal at the cap too (``capped_at``).
    :param message_fees: per batch, the estimated fee of one message (see :func:`~.cost.message_fees`).
    """

    def __init__(
        self,
        hook: TencentSmsHook,
        batches: Sequence[Batch],
        ledger: Ledger,
        settings: SendSettings,
        save: Callable[[dict[str, Any]], None],
        *,
        deadline: float | None = None,
        clock: Callable[[], float] = time.time,
        budget: FeeBudget | None = None,
        message_fees: Sequence[int] = (),
    ) -> None:
        self.hook = hook
        self.batches = batches
        self.ledger = ledger
        self.settings = settings
        self.save = save
        self.deadline = deadline
        self.clock = clock
        self.budget = budget
        self.message_fees = message_fees
        self._stop = threading.Event()
        #: A terminal refusal: nothing more starts, answers in flight are still recorded.
        self._halted = False

    def stop(self) -> None:
        """Ask a running round to stop soon (safe from a signal handler or another thread)."""
        self._stop.set()

    def _positions(self, unit: SendUnit) -> Sequence[int]:
        return unit.positions if unit.positions is not None else range(len(self.batches[unit.batch].numbers))

    def _numbers(self, unit: SendUnit) -> list[str]:
        numbers = self.batches[unit.batch].numbers
        if unit.positions is None:
            return list(numbers)
        return [numbers[p] for p in unit.positions]

    def _past_deadline(self) -> bool:
        return self.deadline is not None and self.clock() >= self.deadline

    def _body(self, unit: SendUnit) -> bytes:
        s = self.settings
        return encode(
            send_sms_params(
                self.hook.config,
                self._numbers(unit),
                s.template_id,
                self.batches[unit.batch].template_params,
                sign_name=s.sign_name,
                sms_sdk_app_id=s.sms_sdk_app_id,
                session_context=s.context_for(unit.batch),
                extend_code=s.extend_code,
                sender_id=s.sender_id,
            )
        )

    def run(self, units: Sequence[SendUnit]) -> DispatchResult:
        result = DispatchResult()
        if not units:
            return result
        transport = self.hook.transport
        signer = self.hook.signer
        # libcurl would otherwise wait for a "100 Continue" before sending bodies over 1 KB.
        headers = [*_lines(api_headers(self.hook.config, "SendSms")), "Expect:"]
        ceiling = usable_connections(self.settings.max_concurrency)
        engine = CurlEngine(transport, ceiling)
        limit = InFlightLimit(ceiling)
        now = time.monotonic()
        pacer = Pacer(self.settings.max_requests_per_second, now)
        total = len(units)
        verbose = total <= PER_REQUEST_LOG_LIMIT
        pending = deque(_Job(unit) for unit in units)
        #: Written ahead, the snapshot that says so being stored: (jobs, snapshot number).
        staged: tuple[list[_Job], int] | None = None
        #: Written ahead and stored, not started; and written ahead, waiting to be tried again: (when, order,
        #: job).
        ready: deque[_Job] = deque()
        delayed: list[tuple[float, int, _Job]] = []
        order = 0
        finished = 0
        writer = LedgerWriter(self.save)
        started = last_progress = last_checkpoint = now
        try:
            while (pending or staged or ready or delayed or engine.in_flight) and not self._stop.is_set():
                now = time.monotonic()
                #: The fee cap waits for the answer that tells how Tencent bills (nothing to pace meanwhile).
                priced_wait = False
                while delayed and delayed[0][0] <= now:
                    ready.append(heapq.heappop(delayed)[2])
                if (pending or staged or ready or delayed) and (self._halted or self._past_deadline()):
                    result.stopped_at_deadline = result.stopped_at_deadline or not self._halted
                    result.not_sent += self._give_back(pending, staged, ready, delayed)
                    staged = None
                if staged is not None and writer.stored >= staged[1]:
                    ready.extend(staged[0])
                    staged = None
                size = max(1, math.ceil(pacer.rate * SLICE_SECONDS))
                if staged is None and pending and len(ready) <= size // 2:
                    # Write-ahead: the ledger must know these may leave before any of them does, so they
                    # start once the snapshot that says so is stored, while the slice before is sent.
                    chunk = [pending.popleft() for _ in range(min(size, len(pending)))]
                    # Staged before it is marked, so that whatever interrupts the marking or the
                    # submitting (a timeout, a failed earlier save) leaves it where the cleanup gives it back.
                    staged = (chunk, UNSUBMITTED)
                    self.ledger.start(job.unit for job in chunk)
                    staged = (chunk, writer.submit(self.ledger.dump()))
                    last_checkpoint = now
                pacer.recover(now)
                while ready and engine.in_flight < limit.current and pacer.take(now):
                    # The job stays in ``ready`` until it is handed to the engine: a timeout while its
                    # body is built or signed leaves it to be given back, not marked possibly sent.
                    job = ready[0]
                    room = self._reserve(job.unit)
                    if room is not Room.START:
                        if room is Room.FULL:
                            # Over max_fee: nothing more starts; what is in flight is still recorded.
                            result.stopped_at_budget = self._halted = True
                        priced_wait = room is Room.WAIT
                        break
                    body = self._body(job.unit)
                    request_headers = [*headers, *_lines(signer.headers(body, transport.host))]
                    ready.popleft()
                    engine.start(job, body, request_headers)
                limit.note(engine.in_flight)
                wait = MAX_POLL
                if ready and engine.in_flight < limit.current and not priced_wait:
                    wait = min(wait, pacer.wait(now))
                if delayed:
                    wait = min(wait, max(0.0, delayed[0][0] - now))
                if not engine.in_flight:
                    # No answer to wait for (the engine would return at once): wait for the record of the
                    # next requests to be stored, or for the next start or retry, waking on stop().
                    if staged is not None and not ready:
                        writer.wait(staged[1], wait)
                    else:
                        self._stop.wait(wait)
                for reply in engine.poll(wait):
                    limit.answered(reply.seconds, pacer.rate)
                    job = reply.token
                    with self._fee_settled(job.unit):
                        retry_in = self._settle(job, reply, result, pacer, verbose, finished + 1, total)
                    if retry_in is None:
                        finished += 1
                    elif retry_in == 0:
                        ready.append(job)
                    else:
                        order += 1
                        heapq.heappush(delayed, (time.monotonic() + retry_in, order, job))
                now = time.monotonic()
                if not verbose and now - last_progress >= PROGRESS_INTERVAL:
                    self._log_progress(finished, total, now - started, engine.in_flight)
                    last_progress = now
                if now - last_checkpoint >= CHECKPOINT_INTERVAL:
                    writer.submit(self.ledger.dump())
                    last_checkpoint = now
        finally:
            # Stopped (on_kill, a timeout, an unexpected error) or done: nothing more starts; answers on
            # their way get a short grace; what never started goes back to the ledger's to-do list.
            try:
                result.interrupted = self._stop.is_set() and bool(
                    pending or staged or ready or delayed or engine.in_flight
                )
                result.not_sent += self._give_back(pending, staged, ready, delayed)
                finished = self._wind_down(engine, result, pacer, verbose, finished, total)
            finally:
                # Whatever failed above, the final record is stored, and only once the writer can no
                # longer store an older one after it.
                writer.close()
                self.save(self.ledger.dump())
                result.peak_in_flight = limit.peak
        if not verbose:
            self._log_progress(finished, total, time.monotonic() - started, 0)
        return result

    def _wind_down(
        self,
        engine: CurlEngine,
        result: DispatchResult,
        pacer: Pacer,
        verbose: bool,
        finished: int,
        total: int,
    ) -> int:
        """Record the answers that arrive within the grace period, then abandon the rest (outcome unknown);
        return how many requests are finished."""
        grace = time.monotonic() + STOP_GRACE
        while engine.in_flight and time.monotonic() < grace:
            for reply in engine.poll(MAX_POLL):
                with self._fee_settled(reply.token.unit):
                    self._settle(reply.token, reply, result, pacer, verbose, finished + 1, total, final=True)
                finished += 1
        abandoned = engine.abandon()
        engine.close()
        if abandoned:
            log.error(
                "Stopped with %d requests unanswered: they stay marked as possibly sent and are never sent again",
                len(abandoned),
            )
        return finished

    def _reserve(self, unit: SendUnit) -> Room:
        if self.budget is None:
            return Room.START
        room = self.budget.reserve(unit, self.message_fees[unit.batch] * len(self._positions(unit)))
        if room is Room.FULL:
            # Recorded with the refusal, so that no timeout can lose it: next_step stops every later round
            # and try with a cap this low.
            self.ledger.capped_at = self.budget.max_fee
        return room

    @contextlib.contextmanager
    def _fee_settled(self, unit: SendUnit) -> Iterator[None]:
        """Settle a request's reservation with what the ledger recorded for its answer in the block: Tencent's
        reported fee for the recipients sent, and the estimate of those whose outcome is unknown; keep the
        ratio billed to estimated in the ledger."""
        ledger = self.ledger
        fee, sent, unpriced = ledger.fee, ledger.sent, ledger.unpriced_count
        yield
        if self.budget is None:
            return
        per_message = self.message_fees[unit.batch]
        self.budget.settle(
            unit,
            ledger.fee - fee,
            billed_estimate=per_message * (ledger.sent - sent),
            held=per_message * (ledger.unpriced_count - unpriced),
        )
        ledger.fee_scale = self.budget.scale

    def _give_back(
        self,
        pending: deque[_Job],
        staged: tuple[list[_Job], int] | None,
        ready: deque[_Job],
        delayed: list[tuple[float, int, _Job]],
    ) -> int:
        """Units written ahead but never started are certainly not sent: release them; return how many
        recipients that leaves unsent (a job is counted once, even if an interruption left it in two lists)."""
        jobs = [*(staged[0] if staged else ()), *ready, *(item[2] for item in delayed)]
        released = [job for job in jobs if self.ledger.release(job.unit)]
        count = sum(len(self._positions(job.unit)) for job in [*released, *pending])
        pending.clear()
        ready.clear()
        delayed.clear()
        return count

    def _settle(
        self,
        job: _Job,
        reply: Reply,
        result: DispatchResult,
        pacer: Pacer,
        verbose: bool,
        index: int,
        total: int,
        *,
        final: bool = False,
    ) -> float | None:
        """Record one reply; return None when settled, else seconds until the unit may be tried again."""
        unit = job.unit
        if reply.errno:
            return self._failed(
                job,
                curl_failure(reply.errno, reply.error, reply.bytes_written, "SendSms"),
                result,
                pacer,
                index,
                total,
                final,
            )
        numbers = self._numbers(unit)
        # The common case, kept cheap for bulk sends: every number answered, every one sent.
        fee = fee_if_all_sent(reply.status, reply.body, numbers)
        if fee is not None:
            self.ledger.record_sent(unit, len(numbers), fee)
        else:
            try:
                items = send_status_items(read_answer(reply.status, reply.body))
            except TencentSmsApiError as exc:
                return self._failed(job, exc, result, pacer, index, total, final)
            self._record_items(unit, self._positions(unit), numbers, items)
        if verbose:
            log.info("Request %d/%d: %d recipients (first %s)", index, total, len(numbers), mask(numbers[0]))
        return None

    def _failed(
        self,
        job: _Job,
        error: TencentSmsError,
        result: DispatchResult,
        pacer: Pacer,
        index: int,
        total: int,
        final: bool,
    ) -> float | None:
        unit = job.unit
        positions = list(self._positions(unit))
        if isinstance(error, OutcomeUnknownError) or error.outcome_unknown:
            self.ledger.record_unknown(unit, positions)
            log.error(
                "Request %d/%d for %d recipients: outcome unknown (%s); they will not be sent to again",
                index,
                total,
                len(positions),
                error,
            )
            return None
        if isinstance(error, TencentSmsApiError) and error.code.startswith("RequestLimitExceeded"):
            # The account's API rate, shared with other senders: slow down; the request was refused, so
            # sending it again later duplicates nothing.
            self.ledger.rate_limited += 1
            job.rate_limited += 1
            if pacer.refused(time.monotonic()):
                log.warning(
                    "Tencent's API rate limit (%s): slowing down to %.0f requests/s", error.code, pacer.rate
                )
            if not final and job.rate_limited < MAX_RATE_LIMITED_ATTEMPTS:
                return 0.0
        elif not final and is_transient_not_sent(error) and job.attempts + 1 < self.settings.request_attempts:
            wait = backoff(error, job.attempts)
            job.attempts += 1
            log.warning(
                "Request for %s not sent (%s); trying again in %s s (attempt %d of %d)",
                plural(len(positions), "recipient"),
                error,
                f"{wait:g}",
                job.attempts + 1,
                self.settings.request_attempts,
            )
            return wait
        if isinstance(error, TencentSmsApiError) and error.disposition is Disposition.TERMINAL:
            self.ledger.release(unit)
            result.not_sent += len(positions)
            if result.terminal_error is None:
                result.terminal_error = error
            self._halted = True
        elif isinstance(error, TencentSmsApiError) and error.disposition is not Disposition.TRANSIENT:
            self.ledger.record_request_error(unit, positions, error.code, error.message, **self._limits())
        else:
            self.ledger.release(unit)
            result.transient_error = error
            result.not_sent += len(positions)
        return None

    def _limits(self) -> dict[str, Any]:
        s = self.settings
        return {
            "now": self.clock(),
            "max_attempts": s.recipient_attempts,
            "max_wait": s.max_recipient_wait,
            "retry_delay": s.recipient_retry_delay,
        }

    def _record_items(
        self, unit: SendUnit, positions: Sequence[int], numbers: list[str], items: list[dict[str, Any]]
    ) -> None:
        by_number = {str(item.get("PhoneNumber", "")): item for item in items}
        outcomes: list[tuple[str, str, int] | None] = []
        for number in numbers:
            item = by_number.get(number)
            outcomes.append(
                None
                if item is None
                else (str(item.get("Code", "")), str(item.get("Message", "")), int(item.get("Fee") or 0))
            )
        self.ledger.record_statuses(unit, list(positions), outcomes, **self._limits())

    def _log_progress(self, finished: int, total: int, elapsed: float, in_flight: int) -> None:
        rate = finished / elapsed if elapsed > 0 else 0.0
        eta = (total - finished) / rate if rate > 0 else float("inf")
        log.info(
            "Progress: %d/%d requests, %d recipients sent so far, %.0f requests/s, %d in flight, ETA %.0f s",
            finished,
            total,
            self.ledger.sent,
            rate,
            in_flight,
            eta,
        )


def _lines(headers: dict[str, str]) -> list[str]:
    return [f"{name}: {value}" for name, value in headers.items()]
