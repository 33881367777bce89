"""Sending many SendSms requests concurrently, under a rate cap, recording each outcome in the ledger.

Worker threads only do HTTP; every ledger change happens on the calling thread, which also writes the
ledger ahead of each group of requests, so a crash can never lose the fact that a request may have left.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from queue import Empty, SimpleQueue
from typing import Any

from .batching import Batch
from .cost import FeeBudget
from .error_codes import Disposition
from .exceptions import OutcomeUnknownError, RequestNotSentError, TencentSmsApiError, TencentSmsError
from .hooks.sms import SendStatus, TencentSmsHook
from .ledger import Ledger, SendUnit
from .phone import mask
from .rate_limit import RateLimiter
from .wording import plural

log = logging.getLogger(__name__)

#: Above this many requests, progress is logged every few seconds instead of once per request.
PER_REQUEST_LOG_LIMIT = 10
PROGRESS_INTERVAL = 5.0
CHECKPOINT_INTERVAL = 2.0
MAX_BACKOFF = 30.0


@dataclass(frozen=True)
class SendSettings:
    """What every request of one operator run shares."""

    template_id: str
    sign_name: str | None = None
    sms_sdk_app_id: str | None = None
    session_context: str | None = None
    extend_code: str | None = None
    sender_id: str | None = None
    max_concurrency: int = 16
    max_requests_per_second: float = 1000.0
    #: Attempts per request for transient whole-request errors before leaving it to an Airflow retry.
    request_attempts: int = 3
    #: Attempts per recipient for recipient-level transient codes (e.g. the 30-second limit).
    recipient_attempts: int = 3
    #: Recipient-level waits longer than this are failures, not retries.
    max_recipient_wait: float = 300.0
    #: Overrides the wait the error code calls for before retrying rate-limited recipients.
    recipient_retry_delay: float | None = None


@dataclass
class _Answer:
    statuses: list[SendStatus] | None = None
    error: TencentSmsError | None = None
    #: Not sent: the round was stopped (a terminal error) or reached its deadline first.
    skipped: bool = False


@dataclass
class DispatchResult:
    """How a round of sending ended, beyond what the ledger already records."""

    terminal_error: TencentSmsApiError | None = None
    transient_error: TencentSmsError | None = None
    not_sent: int = 0
    stopped_at_deadline: bool = False
    #: A request was not started because its estimated fee would have passed ``max_fee``.
    stopped_at_budget: bool = False


def backoff(error: TencentSmsError, attempt: int) -> float:
    """Seconds to wait before attempt ``attempt + 2`` of a request that was certainly not sent: the
    error code's own delay (1 s for a network failure), doubled each attempt, at most ``MAX_BACKOFF``."""
    delay = error.error_class.retry_after if isinstance(error, TencentSmsApiError) else 1.0
    return float(min(delay * 2**attempt, MAX_BACKOFF))


def _billed(answer: _Answer) -> int | None:
    """What Tencent billed for an answered request: its reported fees; None when the outcome is unknown."""
    if answer.statuses is not None:
        return sum(status.fee for status in answer.statuses)
    if isinstance(answer.error, OutcomeUnknownError) or (
        answer.error is not None and answer.error.outcome_unknown
    ):
        return None
    return 0


def _drain(completed: SimpleQueue[Future[_Answer]], timeout: float) -> list[Future[_Answer]]:
    """Wait up to ``timeout`` for one finished future, then take every other one already there."""
    try:
        done = [completed.get(timeout=timeout)]
    except Empty:
        return []
    while True:
        try:
            done.append(completed.get_nowait())
        except Empty:
            return done


class Dispatcher:
    """
    Runs one round of requests.

    :param hook: the hook whose session the worker threads share.
    :param batches: the batch plan; units refer to it by index.
    :param ledger: where outcomes are recorded.
    :param settings: request parameters and limits.
    :param checkpoint: stores the ledger durably; called before requests start and every few seconds.
    :param deadline: a ``time.time()`` after which no new request starts (the marketing window's end).
    :param budget: with ``max_fee``: each request reserves its estimated fee (``message_fees`` per batch
        times its numbers) before it starts, and is settled with the fee Tencent reports.
    :param message_fees: per batch, the estimated fee of one message (see :func:`~.cost.message_fees`).
    """

    def __init__(
        self,
        hook: TencentSmsHook,
        batches: Sequence[Batch],
        ledger: Ledger,
        settings: SendSettings,
        checkpoint: Callable[[], None],
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
        self.checkpoint = checkpoint
        self.deadline = deadline
        self.clock = clock
        self.budget = budget
        self.message_fees = message_fees
        self.limiter = RateLimiter(settings.max_requests_per_second)
        self._stop = threading.Event()

    def _positions(self, unit: SendUnit) -> Sequence[int]:
        return unit.positions if unit.positions is not None else range(len(self.batches[unit.batch].numbers))

    def _past_deadline(self) -> bool:
        return self.deadline is not None and self.clock() >= self.deadline

    def _send(self, unit: SendUnit) -> _Answer:
        """Worker thread: one request, with in-place retries for errors that prove nothing was sent."""
        batch = self.batches[unit.batch]
        numbers = [batch.numbers[p] for p in self._positions(unit)]
        s = self.settings
        for attempt in range(s.request_attempts):
            if self._stop.is_set() or self._past_deadline():
                return _Answer(skipped=True)
            self.limiter.acquire()
            try:
                statuses = self.hook.send_sms(
                    numbers,
                    s.template_id,
                    batch.template_params,
                    sign_name=s.sign_name,
                    sms_sdk_app_id=s.sms_sdk_app_id,
                    session_context=s.session_context,
                    extend_code=s.extend_code,
                    sender_id=s.sender_id,
                )
                return _Answer(statuses=statuses)
            except (TencentSmsApiError, RequestNotSentError) as exc:
                transient = exc.retryable and (
                    not isinstance(exc, TencentSmsApiError) or exc.disposition is Disposition.TRANSIENT
                )
                if not transient or attempt + 1 >= s.request_attempts:
                    return _Answer(error=exc)
                wait = backoff(exc, attempt)
                log.warning(
                    "Request for %s not sent (%s); trying again in %s s (attempt %d of %d)",
                    plural(len(numbers), "recipient"),
                    exc,
                    f"{wait:g}",
                    attempt + 2,
                    s.request_attempts,
                )
                self._stop.wait(wait)
            except OutcomeUnknownError as exc:
                return _Answer(error=exc)
            except Exception as exc:
                # Inputs are checked before any request starts, so an unexpected failure here most likely
                # came while or after the request was on the wire: treat it as sent, never re-send it.
                log.exception("Unexpected error while sending %d recipients", len(numbers))
                return _Answer(error=OutcomeUnknownError(f"unexpected {type(exc).__name__}: {exc}"))
        raise AssertionError("unreachable: the loop returns on its last attempt")

    def _take(self, queue: deque[SendUnit], count: int, result: DispatchResult) -> list[SendUnit]:
        """Up to ``count`` units off the queue; with a budget, only while it affords them, then none."""
        if self.budget is None:
            return [queue.popleft() for _ in range(count)]
        chunk: list[SendUnit] = []
        while len(chunk) < count:
            unit = queue[0]
            if not self.budget.reserve(unit, self.message_fees[unit.batch] * len(self._positions(unit))):
                result.stopped_at_budget = True
                queue.clear()
                break
            chunk.append(queue.popleft())
        return chunk

    def run(self, units: Sequence[SendUnit]) -> DispatchResult:
        result = DispatchResult()
        if not units:
            return result
        total = len(units)
        verbose = total <= PER_REQUEST_LOG_LIMIT
        queue = deque(units)
        running: dict[Future[_Answer], SendUnit] = {}
        # Finished futures arrive here: cheaper than concurrent.futures.wait(), which installs a waiter on
        # every running future each time it is called.
        completed: SimpleQueue[Future[_Answer]] = SimpleQueue()
        window = max(1, self.settings.max_concurrency * 2)
        started = last_progress = last_checkpoint = time.monotonic()
        finished = 0
        with ThreadPoolExecutor(self.settings.max_concurrency, thread_name_prefix="tencent-sms") as pool:
            try:
                while queue or running:
                    if queue and len(running) < window and not self._stop.is_set():
                        if self._past_deadline():
                            result.stopped_at_deadline = True
                            queue.clear()
                        else:
                            chunk = self._take(queue, min(window - len(running), len(queue)), result)
                            # Write-ahead: the ledger must know these may leave before any of them does.
                            self.ledger.start(chunk)
                            self.checkpoint()
                            last_checkpoint = time.monotonic()
                            for unit in chunk:
                                future = pool.submit(self._send, unit)
                                running[future] = unit
                                future.add_done_callback(completed.put)
                    if not running:
                        break
                    for future in _drain(completed, timeout=1.0):
                        unit = running.pop(future)
                        answer = future.result()
                        self._record(unit, answer, result, verbose, finished + 1, total)
                        if self.budget is not None:
                            self.budget.settle(unit, _billed(answer))
                        finished += 1
                    now = time.monotonic()
                    if not verbose and now - last_progress >= PROGRESS_INTERVAL:
                        self._log_progress(finished, total, now - started)
                        last_progress = now
                    if now - last_checkpoint >= CHECKPOINT_INTERVAL:
                        self.checkpoint()
                        last_checkpoint = now
            finally:
                # An exception here (e.g. the task being killed) must not leave threads sending.
                self._stop.set()
                for future, unit in running.items():
                    if future.cancel():
                        self.ledger.release(unit)
                for unit in queue:
                    self.ledger.release(unit)
        if not verbose:
            self._log_progress(finished, total, time.monotonic() - started)
        return result

    def _record(
        self, unit: SendUnit, answer: _Answer, result: DispatchResult, verbose: bool, index: int, total: int
    ) -> None:
        positions = list(self._positions(unit))
        s = self.settings
        limits: dict[str, Any] = {
            "now": self.clock(),
            "max_attempts": s.recipient_attempts,
            "max_wait": s.max_recipient_wait,
            "retry_delay": s.recipient_retry_delay,
        }
        if answer.skipped:
            self.ledger.release(unit)
            result.not_sent += len(positions)
            if self._past_deadline():
                result.stopped_at_deadline = True
        elif answer.statuses is not None:
            self._record_statuses(unit, positions, answer.statuses, limits)
            if verbose:
                first = self.batches[unit.batch].numbers[positions[0]]
                log.info("Request %d/%d: %d recipients (first %s)", index, total, len(positions), mask(first))
        elif isinstance(answer.error, OutcomeUnknownError) or (
            answer.error is not None and answer.error.outcome_unknown
        ):
            self.ledger.record_unknown(unit, positions)
            log.error(
                "Request %d/%d for %d recipients: outcome unknown (%s); they will not be sent to again",
                index,
                total,
                len(positions),
                answer.error,
            )
        elif isinstance(answer.error, TencentSmsApiError):
            self._record_refusal(unit, positions, answer.error, result, limits)
        else:
            self.ledger.release(unit)
            result.transient_error = answer.error
            result.not_sent += len(positions)

    def _record_statuses(
        self,
        unit: SendUnit,
        positions: list[int],
        statuses: list[SendStatus],
        limits: dict[str, Any],
    ) -> None:
        batch = self.batches[unit.batch]
        numbers = [batch.numbers[p] for p in positions]
        # The common case, kept cheap for bulk sends: every number answered, every one sent.
        if (
            len(statuses) == len(numbers)
            and all(status.code == "Ok" for status in statuses)
            and {status.phone_number for status in statuses} == set(numbers)
        ):
            self.ledger.record_sent(unit, len(numbers), sum(status.fee for status in statuses))
            return
        by_number = {status.phone_number: status for status in statuses}
        outcomes: list[tuple[str, str, int] | None] = []
        for number in numbers:
            status = by_number.get(number)
            outcomes.append(None if status is None else (status.code, status.message, status.fee))
        self.ledger.record_statuses(unit, positions, outcomes, **limits)

    def _record_refusal(
        self,
        unit: SendUnit,
        positions: list[int],
        error: TencentSmsApiError,
        result: DispatchResult,
        limits: dict[str, Any],
    ) -> None:
        if error.disposition is Disposition.TERMINAL:
            self.ledger.release(unit)
            result.not_sent += len(positions)
            if result.terminal_error is None:
                result.terminal_error = error
            self._stop.set()
        elif error.disposition is Disposition.TRANSIENT:
            self.ledger.release(unit)
            result.not_sent += len(positions)
            result.transient_error = error
        else:
            self.ledger.record_request_error(unit, positions, error.code, error.message, **limits)

    def _log_progress(self, finished: int, total: int, elapsed: float) -> None:
        rate = finished / elapsed if elapsed > 0 else 0.0
        eta = (total - finished) / rate if rate > 0 else float("inf")
        log.info(
            "Progress: %d/%d requests, %d recipients sent so far, %.0f requests/s, ETA %.0f s",
            finished,
            total,
            self.ledger.sent,
            rate,
            eta,
        )
