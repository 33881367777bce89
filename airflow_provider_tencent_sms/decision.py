"""What a SendSmsOperator does after a round of sending: fail, wait, look for receipts, re-send, or finish.

One pure function over the ledger and the round's outcome, so that every path (marketing window, rate-limited
recipients, unknown outcomes, delivery reports) is decided in one place and tested without Airflow or HTTP.
The operator carries the step out (raises, defers, queries, sends) and asks again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from .ledger import Ledger
from .reconciliation import next_check
from .send_window import DEFAULT_TIMEZONE, DEFAULT_WINDOW, SendWindow

#: After this many deferrals in a row for Tencent's marketing-hours refusal, the refusals are not about the
#: time of day (a few are expected: clock skew just after 08:00 retries every minute for up to 10 minutes).
MAX_WINDOW_REFUSALS = 12
REFUSED_AS_OUTSIDE = "as outside its marketing hours"
#: Tencent's own marketing hours, which its refusals refer to whatever window the task is configured with.
TENCENT_WINDOW = SendWindow.parse(DEFAULT_WINDOW, DEFAULT_TIMEZONE)
#: A refusal for being outside the window this soon after our clock says it opened is clock skew.
_SKEW_GRACE = timedelta(minutes=10)
_SKEW_RETRY = timedelta(seconds=60)


@dataclass(frozen=True)
class Policy:
    """The operator's settings that the decision depends on (seconds)."""

    reconcile: bool = True
    reconcile_after: float = 120.0
    reconcile_timeout: float = 3600.0
    resend_unresolved: bool = False
    wait_for_delivery: float | None = None


@dataclass(frozen=True)
class Round:
    """How the last round of sending ended (the rest is in the ledger)."""

    now: datetime
    window: SendWindow | None = None
    #: A code no retry can fix (the request was refused as a whole).
    terminal_error: str | None = None
    #: A transient error left recipients unsent: Airflow's retry sends them.
    transient_error: str | None = None
    not_sent: int = 0
    stopped_at_deadline: bool = False
    #: Recipients of the plan not yet handled (never sent).
    pending: int = 0


@dataclass(frozen=True)
class Fail:
    message: str
    #: True: a retry by Airflow can fix it (AirflowException); False: it cannot (AirflowFailException).
    retryable: bool = False


@dataclass(frozen=True)
class Wait:
    moment: datetime
    window: SendWindow | None
    reason: str


@dataclass(frozen=True)
class Reconcile:
    """Look up the receipts of the recipients whose outcome is unknown, now."""


@dataclass(frozen=True)
class Resend:
    """The unknown recipients' last check is over: send them once more."""


@dataclass(frozen=True)
class CheckDelivery:
    """Look up the receipts of the checked recipients that have none yet, now."""


@dataclass(frozen=True)
class Finish:
    """Nothing more to do or wait for; the operator reports (and fails if some did not get the message)."""


Step = Fail | Wait | Reconcile | Resend | CheckDelivery | Finish


def next_step(ledger: Ledger, last: Round, policy: Policy, delivery_complete: bool = False) -> Step:
    """What to do next.

    :param delivery_complete: every recipient whose delivery is checked has a receipt already.
    """
    now = last.now
    if last.terminal_error is not None:
        return Fail(
            f"Tencent Cloud refused the request: {last.terminal_error}. {ledger.sent} recipients had "
            f"their message; the other {last.pending} were not sent. No retry can fix this: correct "
            "the cause and clear the task (recipients already sent to are skipped)."
        )
    if last.stopped_at_deadline and last.window is not None:
        return Wait(
            last.window.next_opening(last.window.closing(now)),
            last.window,
            "the marketing window closes soon",
        )
    if ledger.has_window_waiters:
        refusals = 0
        for _, reason in reversed(ledger.deferrals):
            if not reason.endswith(REFUSED_AS_OUTSIDE):
                break
            refusals += 1
        if refusals >= MAX_WINDOW_REFUSALS:
            return Fail(
                f"Tencent refused {ledger.waiting_count} recipients as outside its marketing hours "
                f"{refusals + 1} times in a row, also inside 08:00-22:00 Beijing time: waiting longer will "
                "not help. Check the template's type and the account in the SMS console; "
                f"{ledger.sent} recipients already had their message and will not get another."
            )
        return Wait(
            tencent_resume_time(now),
            TENCENT_WINDOW,
            f"Tencent refused {ledger.waiting_count} recipients {REFUSED_AS_OUTSIDE}",
        )
    if last.transient_error is not None:
        return Fail(
            f"{last.not_sent} recipients were not sent because of a transient error "
            f"({last.transient_error}); {ledger.sent} already had their message and will not be "
            "sent again when Airflow retries this task.",
            retryable=True,
        )
    if ledger.has_retries:
        moment = datetime.fromtimestamp(ledger.next_retry_time() or now.timestamp(), timezone.utc)
        return Wait(moment, last.window, f"{ledger.waiting_count} recipients are briefly rate-limited")
    return _receipt_step(ledger, now, policy, delivery_complete)


def _receipt_step(ledger: Ledger, now: datetime, policy: Policy, delivery_complete: bool) -> Step:
    """Sending is over: look for receipts (unknown outcomes first), wait for them, re-send, or finish."""
    due: list[tuple[float, Step, str]] = []
    watch = ledger.reconcile
    if ledger.unknown_count and policy.reconcile and not ledger.resent and watch is not None:
        moment = next_check(watch.origin, watch.checks, policy.reconcile_after, policy.reconcile_timeout)
        if moment is None:
            if policy.resend_unresolved:
                return Resend()
        else:
            reason = f"{ledger.unknown_count} recipients' outcome is unknown; looking for their receipts"
            due.append((moment, Reconcile(), reason))
    delivery = ledger.delivery
    if delivery is not None and policy.wait_for_delivery and not delivery_complete:
        first = min(policy.reconcile_after, policy.wait_for_delivery)
        moment = next_check(delivery.origin, delivery.checks, first, policy.wait_for_delivery)
        if moment is not None:
            due.append((moment, CheckDelivery(), "waiting for delivery receipts"))
    if not due:
        return Finish()
    moment, step, reason = min(due, key=lambda item: item[0])
    if moment <= now.timestamp():
        return step
    return Wait(datetime.fromtimestamp(moment, timezone.utc), None, reason)


def tencent_resume_time(now: datetime) -> datetime:
    """When to try again after Tencent refused a send as outside its marketing hours."""
    if not TENCENT_WINDOW.is_open(now):
        return TENCENT_WINDOW.next_opening(now)
    if now - TENCENT_WINDOW.opening(now) < _SKEW_GRACE:
        # Our clock says open but Tencent's does not yet: try again shortly rather than tomorrow.
        return now + _SKEW_RETRY
    # Refused near the end of the day (or for good reason): tomorrow, not in a tight loop.
    return TENCENT_WINDOW.next_opening(TENCENT_WINDOW.closing(now))
