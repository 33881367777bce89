"""What a send task does next, decided from its ledger alone: send, wait, look for receipts, finish or fail.

Every way a send can go on (the marketing window, Tencent's own marketing-hours refusals, briefly
rate-limited recipients, transient and terminal errors, the fee cap, unknown outcomes reconciled from
delivery receipts, delivery reports, partial failure) is decided here, in one pure function over plain
data that is tested without Airflow or HTTP. The operator only carries the answer out: it sends, defers,
queries, returns or raises.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from .cost import Prices, scaled
from .ledger import Ledger, SendUnit
from .reconciliation import next_check
from .send_window import DEFAULT_TIMEZONE, DEFAULT_WINDOW, SendWindow
from .wording import plural

if TYPE_CHECKING:
    from .dispatch import DispatchResult

#: A refusal for being outside the window this soon after our clock says it opened is clock skew.
SKEW_GRACE = timedelta(minutes=10)
SKEW_RETRY = timedelta(seconds=60)
#: After this many deferrals in a row for Tencent's marketing-hours refusal, the refusals are not about the
#: time of day (a few are expected: clock skew just after 08:00 retries every minute for up to 10 minutes).
MAX_WINDOW_REFUSALS = 12
REFUSED_AS_OUTSIDE = "as outside its marketing hours"
#: Tencent's own marketing hours, which its refusals refer to whatever window the task is configured with.
TENCENT_WINDOW = SendWindow.parse(DEFAULT_WINDOW, DEFAULT_TIMEZONE)
#: Recipients retried together after a short rate limit go out at most this many to a request.
RETRY_BATCH = 200


@dataclass(frozen=True)
class Send:
    """Send these units now; start none after ``deadline`` (the marketing window's end)."""

    units: list[SendUnit]
    deadline: datetime | None = None


@dataclass(frozen=True)
class Wait:
    """Defer until ``moment``; ``window`` (when set) is the one to describe the moment in."""

    moment: datetime
    window: SendWindow | None
    reason: str


@dataclass(frozen=True)
class Fail:
    """End the try as failed; ``retry`` when an Airflow retry can help (otherwise it fails for good)."""

    message: str
    retry: bool


@dataclass(frozen=True)
class Finish:
    """Everyone is settled; ``partial`` when some did not get the message and that is accepted."""

    partial: bool = False


@dataclass(frozen=True)
class Reconcile:
    """Look up, now, the receipts of the recipients whose outcome is unknown."""


@dataclass(frozen=True)
class Resend:
    """The last lookup for the unknown recipients is over: send them once more (``resend_unresolved``);
    start none after ``deadline`` (the marketing window's end)."""

    deadline: datetime | None = None


@dataclass(frozen=True)
class CheckDelivery:
    """Look up, now, the receipts of the checked recipients that have none yet."""


Step = Send | Wait | Fail | Finish | Reconcile | Resend | CheckDelivery


@dataclass(frozen=True)
class Policy:
    """The task's settings that the decision depends on (durations of receipt checks in seconds)."""

    window: SendWindow | None = None
    window_margin: timedelta = timedelta(seconds=30)
    retries: int = 0
    allow_partial_failure: bool = False
    #: Look up unknown outcomes in receipts (``on_unknown_outcome="reconcile"``).
    reconcile: bool = False
    reconcile_after: float = 120.0
    reconcile_timeout: float = 3600.0
    resend_unresolved: bool = False
    wait_for_delivery: float | None = None
    min_delivery_rate: float | None = None
    #: The fee cap in billed SMS (``max_fee``); a stop at it is recorded in the ledger (``capped_at``).
    max_fee: int | None = None


@dataclass(frozen=True)
class Delivery:
    """Where the delivery check stands: whether every checked recipient has a receipt, and the rate."""

    complete: bool
    delivered_rate: float | None


def next_step(
    ledger: Ledger,
    batch_count: int,
    recipients: int,
    policy: Policy,
    now: datetime,
    round_result: DispatchResult | None = None,
    delivery: Delivery | None = None,
    prices: Prices | None = None,
) -> Step:
    """Decide what the task does next.

    With ``max_fee``, the fee cap stops sending when it stopped a request (``ledger.capped_at``, in this try
    or an earlier one with a ``max_fee`` no higher), when what is left to send, at its estimate times the
    highest ratio Tencent billed so far, does not fit under the cap with what was spent (the fees Tencent
    reported, and unpriced requests at their estimate), or when there is no estimate (``prices`` is None)
    and something is left to send. Then nothing more is sent: not the rest of the plan, nor rate-limited recipients, nor those
    Tencent refused as outside its marketing hours, nor unresolved ones (``resend_unresolved``). What
    costs no fee goes on first: unknown outcomes are still looked up in delivery receipts, and a delivery
    check already started is still waited for, so that the failure that follows (no retry: a retry would
    stop at the same cap) tells exactly who got the message and who did not; ``allow_partial_failure``
    does not turn it into a success. Two outcomes of the same round outrank the cap: a request refused for
    good fails the task at once with that refusal (its cause must be fixed first; the message says the
    cap was reached too), and a task being killed fails at once with the cap's message, without waiting
    for receipts.

    :param ledger: what was sent, failed, is unknown or waits, across all tries.
    :param batch_count: how many batches the plan has.
    :param recipients: how many recipients the plan has.
    :param policy: the task's settings.
    :param now: the current time (aware).
    :param round_result: what the round of sending (or of receipt lookups) that just ran reported beyond
        the ledger; ``None`` before this try has sent anything.
    :param delivery: the delivery check, once the ledger's delivery watch has started.
    :param prices: the batches' sizes and estimated fees per message; None when the template's content is
        not known.
    """
    window = policy.window
    if policy.max_fee is not None:
        stop = _fee_stop(ledger, batch_count, recipients, policy, policy.max_fee, prices)
        if stop is not None:
            return _after_the_fee_cap(ledger, recipients, policy, stop, now, round_result, delivery)
    if round_result is None:
        return _before_sending(ledger, batch_count, policy, now)
    sent = ledger.sent
    # Unknown recipients whose re-send was not sent are still to be sent (once more), like the unsent.
    pending = unsent(ledger, recipients) + (ledger.resend_count if policy.resend_unresolved else 0)
    if round_result.terminal_error is not None:
        return Fail(refused_message(round_result.terminal_error, ledger, recipients), retry=False)
    if round_result.interrupted:
        return Fail(
            f"Sending was stopped (the task was killed or timed out) with {plural(pending, 'recipient')} not "
            f"yet sent; {plural(sent, 'recipient')} had their message and will not get another. "
            f"{how_the_rest_is_sent(policy.retries)}",
            retry=True,
        )
    if round_result.stopped_at_deadline and window is not None:
        return Wait(window.next_opening(window.closing(now)), window, "the marketing window closes soon")
    if ledger.has_window_waiters:
        return _after_tencent_refused_the_hour(ledger, now)
    if round_result.transient_error is not None:
        return Fail(
            f"{plural(round_result.not_sent, 'recipient was', 'recipients were')} not sent because of a "
            f"transient error ({round_result.transient_error}); {sent} already had their message and will not "
            f"get another. {how_the_rest_is_sent(policy.retries)}",
            retry=True,
        )
    if ledger.has_retries:
        moment = datetime.fromtimestamp(ledger.next_retry_time() or now.timestamp(), timezone.utc)
        return Wait(moment, window, f"{ledger.waiting_count} recipients are briefly rate-limited")
    if pending:
        # Every path above settles or defers all recipients; if one slipped through, say so and let
        # Airflow retry rather than report success with people left out. The ledger prevents repeats.
        return Fail(
            f"{plural(pending, 'recipient is', 'recipients are')} still unsent; "
            f"{how_the_rest_is_sent(policy.retries)}",
            retry=True,
        )
    receipts = _receipt_step(ledger, policy, now, delivery)
    if isinstance(receipts, Resend) and window is not None:
        return _resend_in_window(window, policy.window_margin, now)
    if receipts is not None:
        return receipts
    partial = bool(ledger.failed_count + ledger.unknown_count)
    if partial and not policy.allow_partial_failure:
        return Fail(failure_message(ledger, recipients, policy.reconcile), retry=False)
    if delivery is not None and policy.min_delivery_rate is not None:
        rate = delivery.delivered_rate or 0.0
        if rate < policy.min_delivery_rate:
            return Fail(
                f"{rate:.1%} of the checked recipients had a delivery receipt saying delivered within "
                f"wait_for_delivery, below min_delivery_rate {policy.min_delivery_rate:.1%} (see the result's "
                "'delivery'). Nobody is sent a second message.",
                retry=False,
            )
    return Finish(partial=partial)


def fee_capped(ledger: Ledger, max_fee: int) -> bool:
    """Whether the fee cap keeps this task from sending: it stopped a try at a ``max_fee`` this low or higher.

    Raising ``max_fee`` lifts it (the estimate checked before sending then says whether the rest fits).
    """
    return ledger.capped_at is not None and max_fee <= ledger.capped_at


def _fee_stop(
    ledger: Ledger, batch_count: int, recipients: int, policy: Policy, max_fee: int, prices: Prices | None
) -> str | None:
    """Why the fee cap keeps this task from sending anything more, or None when it does not."""
    if fee_capped(ledger, max_fee):
        return fee_cap_message(ledger, recipients, max_fee, prices)
    left = _left_to_send(ledger, policy, batch_count, float("inf"))
    if prices is None:
        resend = policy.resend_unresolved and ledger.unknown_count and not ledger.resent
        return _no_estimate_message(ledger) if left or resend else None
    estimate = scaled(prices.units(left), ledger.fee_scale)
    spent = prices.spent(ledger)
    if left and spent + estimate > max_fee:
        return over_the_cap_message(ledger, recipients, max_fee, estimate, spent)
    return None


def _after_the_fee_cap(
    ledger: Ledger,
    recipients: int,
    policy: Policy,
    message: str,
    now: datetime,
    round_result: DispatchResult | None,
    delivery: Delivery | None,
) -> Step:
    """Sending stopped at the fee cap: look for the receipts that cost nothing, then fail (see ``next_step``)."""
    stop = Fail(message, retry=False)
    if round_result is not None and round_result.terminal_error is not None:
        refused = refused_message(round_result.terminal_error, ledger, recipients)
        return Fail(
            f"{refused} max_fee={policy.max_fee} was reached as well: raise it too, or the cleared task "
            "sends nothing more.",
            retry=False,
        )
    if round_result is not None and round_result.interrupted:
        return stop
    step = _receipt_step(ledger, policy, now, delivery)
    # Sending the unresolved recipients once more would spend fees the cap has no room for.
    return stop if step is None or isinstance(step, Resend) else step


def _receipt_step(ledger: Ledger, policy: Policy, now: datetime, delivery: Delivery | None) -> Step | None:
    """Sending is over: look for receipts (or wait for the next lookup), re-send, or ``None``: nothing left."""
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
    wait = policy.wait_for_delivery
    if ledger.delivery is not None and wait and delivery is not None and not delivery.complete:
        first = min(policy.reconcile_after, wait)
        moment = next_check(ledger.delivery.origin, ledger.delivery.checks, first, wait)
        if moment is not None:
            due.append((moment, CheckDelivery(), "waiting for delivery receipts"))
    if not due:
        return None
    moment, step, reason = min(due, key=lambda item: item[0])
    if moment <= now.timestamp():
        return step
    return Wait(datetime.fromtimestamp(moment, timezone.utc), None, reason)


def _left_to_send(ledger: Ledger, policy: Policy, batch_count: int, due: float) -> list[SendUnit]:
    """The batches never sent, the rate-limited recipients due by ``due``, those Tencent refused as outside
    its marketing hours, and unknown recipients whose re-send an earlier round did not send (unless
    resend_unresolved was turned off since: they then stay unknown)."""
    units = ledger.new_batches(batch_count) + ledger.due_retries(due, RETRY_BATCH) + ledger.window_units()
    return units + ledger.resend_units() if policy.resend_unresolved else units


def _resend_in_window(window: SendWindow, margin: timedelta, now: datetime) -> Resend | Wait:
    """A marketing re-send goes out inside the window, like any other message of the campaign."""
    if not window.is_open(now):
        return Wait(window.next_opening(now), window, "the marketing window is closed")
    return Resend(window.closing(now) - margin)


def _before_sending(ledger: Ledger, batch_count: int, policy: Policy, now: datetime) -> Send | Wait:
    window = policy.window
    # Recipients Tencent refused as outside its marketing hours are due again once this runs (without a
    # window, the deferral that brought the task back waited for Tencent's opening).
    units = _left_to_send(ledger, policy, batch_count, now.timestamp())
    if window is None:
        return Send(units)
    if not window.is_open(now):
        if units or ledger.has_retries:
            return Wait(window.next_opening(now), window, "the marketing window is closed")
        return Send([])
    return Send(units, window.closing(now) - policy.window_margin)


def _after_tencent_refused_the_hour(ledger: Ledger, now: datetime) -> Wait | Fail:
    refusals = 0
    for _, reason in reversed(ledger.deferrals):
        if not reason.endswith(REFUSED_AS_OUTSIDE):
            break
        refusals += 1
    if refusals >= MAX_WINDOW_REFUSALS:
        return Fail(
            f"Tencent refused {ledger.waiting_count} recipients as outside its marketing hours "
            f"{refusals + 1} times in a row, also inside 08:00-22:00 Beijing time: waiting longer will not "
            "help. Check the template's type and the account in the SMS console; "
            f"{ledger.sent} recipients already had their message and will not get another.",
            retry=False,
        )
    return Wait(
        tencent_resume_time(now),
        TENCENT_WINDOW,
        f"Tencent refused {ledger.waiting_count} recipients {REFUSED_AS_OUTSIDE}",
    )


def tencent_resume_time(now: datetime) -> datetime:
    """When to try again after Tencent refused a send as outside its marketing hours."""
    if not TENCENT_WINDOW.is_open(now):
        return TENCENT_WINDOW.next_opening(now)
    if now - TENCENT_WINDOW.opening(now) < SKEW_GRACE:
        # Our clock says open but Tencent's does not yet: try again shortly rather than tomorrow.
        return now + SKEW_RETRY
    # Refused near the end of the day (or for good reason): tomorrow, not in a tight loop.
    return TENCENT_WINDOW.next_opening(TENCENT_WINDOW.closing(now))


def how_the_rest_is_sent(retries: int) -> str:
    """How unsent recipients get their message; only promise a retry that Airflow will make."""
    if retries:
        return "Airflow retries this task and sends only them (recipients already sent to are skipped)."
    return (
        "this task has no retries: clear it to send them (recipients already sent to are skipped), or set "
        "retries on the task."
    )


def unsent(ledger: Ledger, recipients: int) -> int:
    """Recipients with no outcome yet: not sent, or waiting to be sent again."""
    return recipients - ledger.sent - ledger.failed_count - ledger.unknown_count


def refused_message(error: Exception, ledger: Ledger, recipients: int) -> str:
    """Why the task fails for good on a request Tencent refused in a way no retry can change."""
    return (
        f"The request was refused: {error}. {plural(ledger.sent, 'recipient')} had their message; the other "
        f"{unsent(ledger, recipients)} were not sent. No retry can fix this: correct the cause and clear the task (recipients "
        "already sent to are skipped)."
    )


def nothing_sent(ledger: Ledger) -> bool:
    """Whether no request of this task may have gone out yet."""
    return not (ledger.requests or ledger.inflight or ledger.inflight_positions)


def sent_so_far(ledger: Ledger) -> str:
    """The words "Nothing was sent." when true; else who had the message, and that they are not sent it again."""
    if nothing_sent(ledger):
        return "Nothing was sent."
    unknown = f", {ledger.unknown_count} have an unknown outcome" if ledger.unknown_count else ""
    return (
        f"Nothing more was sent: {plural(ledger.sent, 'recipient')} had their message (fee {ledger.fee}){unknown}; "
        "recipients already sent to are skipped when the task runs again."
    )


def _no_estimate_message(ledger: Ledger) -> str:
    return (
        "max_fee needs the template's content to estimate the fee, and the template preflight could not "
        f"read it (see its notice in the log, or preflight=False). {sent_so_far(ledger)} Turn the preflight "
        "on, or remove max_fee to send without a cap."
    )


def _rate(ledger: Ledger) -> str:
    scale = ledger.fee_scale or 1.0
    return f"Tencent billed up to {scale:.3g} times the estimate" if scale > 1 else ""


def _not_all_sent(ledger: Ledger, recipients: int) -> str:
    """Who had the message and who did not, and how to go on, after the fee cap stopped the send."""
    rest = unsent(ledger, recipients)
    counts = (
        (rest, f"{rest} {'was' if rest == 1 else 'were'} not sent"),
        (ledger.failed_count, f"{ledger.failed_count} failed"),
        (ledger.unknown_count, f"{ledger.unknown_count} have an unknown outcome"),
    )
    others = [text for count, text in counts if count]
    listed = f"; {', '.join(others)}" if others else ""
    return (
        f"{plural(ledger.sent, 'recipient')} had their message (fee {ledger.fee}){listed}. Raise max_fee and "
        "clear the task to send to the ones not sent (recipients already sent to are skipped): with this "
        "max_fee nothing more is sent."
    )


def fee_cap_message(ledger: Ledger, recipients: int, max_fee: int, prices: Prices | None = None) -> str:
    """Why the task fails when the fee cap stopped a request: who had the message, who did not, how to go on."""
    spent = prices.spent(ledger) if prices is not None else ledger.fee
    if spent > max_fee:
        head = (
            f"the fee reached {spent}, more than max_fee={max_fee}: {_rate(ledger)}, more than the requests in "
            "flight had reserved"
        )
    else:
        reasons = [_rate(ledger)]
        held = spent - ledger.fee
        if held:
            reasons.append(
                f"{held} is counted for the {plural(ledger.unpriced_count, 'recipient')} whose requests went "
                "unanswered"
            )
        why = "; ".join(reason for reason in reasons if reason)
        head = f"the next request would have taken the fee to more than max_fee={max_fee}" + (
            f" ({why})" if why else ""
        )
    return f"Sending stopped at the fee cap: {head}. {_not_all_sent(ledger, recipients)}"


def over_the_cap_message(ledger: Ledger, recipients: int, max_fee: int, estimate: int, spent: int) -> str:
    """Why the task sends nothing more when what is left to send would not fit under ``max_fee``."""
    rate = _rate(ledger)
    at = f" ({rate})" if rate else ""
    if nothing_sent(ledger):
        return (
            f"The send is estimated at {estimate} billed SMS{at}, more than max_fee={max_fee}. Nothing was sent: "
            "raise max_fee, or send to fewer recipients or shorter texts (see the dry run's estimate)."
        )
    left = unsent(ledger, recipients)
    return (
        f"Sending stopped at the fee cap: the {plural(left, 'recipient')} not yet sent would cost an estimated "
        f"{estimate}{at}, and with the {spent} spent so far that is more than max_fee={max_fee}. "
        f"{_not_all_sent(ledger, recipients)}"
    )


def failure_message(ledger: Ledger, recipients: int, reconciled: bool = False) -> str:
    """Why a send that reached everyone it could still fails: who did not get the message, by code."""
    by_code = Counter(failure.code for _, _, failure in ledger.failures())
    if ledger.unknown_count:
        by_code["OutcomeUnknown"] = ledger.unknown_count
    counts = ", ".join(f"{code}: {count}" for code, count in sorted(by_code.items()))
    unknown = ""
    if ledger.unknown_count:
        looked = (
            "no delivery receipt of this task came for them by reconcile_timeout"
            if reconciled
            else "check delivery receipts (PullSmsSendStatusByPhoneNumber), or let the task do it with "
            "on_unknown_outcome='reconcile'"
        )
        unknown = (
            f" For {plural(ledger.unknown_count, 'recipient')} the outcome is unknown (sent, no answer): they "
            f"may have been delivered and are not re-sent; {looked}."
        )
    return (
        f"{ledger.failed_count + ledger.unknown_count} of {recipients} recipients did not get the message "
        f"({counts}); {ledger.sent} did.{unknown} Pass allow_partial_failure=True to accept partial success."
    )
