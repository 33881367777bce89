"""The fee cap in the decision: once max_fee stops a send nothing more is sent, receipts still are looked for."""

from __future__ import annotations

from datetime import timedelta

import pytest

from airflow_provider_tencent_sms.cost import Prices
from airflow_provider_tencent_sms.dispatch import DispatchResult
from airflow_provider_tencent_sms.exceptions import TencentSmsApiError
from airflow_provider_tencent_sms.ledger import Ledger, SendUnit, Watch
from airflow_provider_tencent_sms.next_step import (
    CheckDelivery,
    Delivery,
    Fail,
    Finish,
    Policy,
    Reconcile,
    Resend,
    Send,
    Wait,
    next_step,
)
from tests.unit.test_next_step import NOON, WINDOW, sent_everything, with_outcome

CAP = 500
T = NOON.timestamp()
RECONCILE = {"reconcile": True, "reconcile_after": 10.0, "reconcile_timeout": 35.0}


def capped(ledger: Ledger, at: int = CAP) -> Ledger:
    ledger.capped_at = at
    return ledger


def half_sent() -> Ledger:
    """Batch 0 of 2 sent (200 recipients, fee 200), then the cap stopped batch 1."""
    return capped(sent_everything(1))


def prices(batches: int) -> Prices:
    """Batches of 200 numbers, each message estimated at 1 SMS."""
    return Prices([200] * batches, [1] * batches)


def decide(
    ledger: Ledger,
    result: DispatchResult | None = None,
    seconds: float = 0,
    batches: int = 2,
    priced: bool = True,
    **policy,
) -> object:
    settings = Policy(**{"max_fee": CAP, **policy})
    at = NOON + timedelta(seconds=seconds)
    return next_step(
        ledger, batches, batches * 200, settings, at, result, prices=prices(batches) if priced else None
    )


def with_unknowns(ledger: Ledger, batch: int = 1, checks: int = 0) -> Ledger:
    """``batch`` sent, no answer: its 200 recipients' outcome is unknown, looked for in receipts."""
    ledger.start([SendUnit(batch)])
    ledger.record_unknown(SendUnit(batch), range(200))
    ledger.reconcile = Watch(T, checks)
    return ledger


def is_the_cap(step: object) -> bool:
    return (
        isinstance(step, Fail)
        and not step.retry
        and step.message.startswith("Sending stopped at the fee cap")
    )


def test_a_send_stopped_at_the_cap_fails_for_good_saying_who_was_not_sent_and_what_to_do():
    stopped = half_sent()
    stopped.fee, stopped.fee_scale = 400, 2.0
    step = decide(stopped, DispatchResult(stopped_at_budget=True, not_sent=200))
    assert step == Fail(
        "Sending stopped at the fee cap: the next request would have taken the fee to more than max_fee=500 "
        "(Tencent billed up to 2 times the estimate). 200 recipients had their message (fee 400); 200 were "
        "not sent. Raise max_fee and clear the task to send to the ones not sent (recipients already sent to "
        "are skipped): with this max_fee nothing more is sent.",
        retry=False,
    )


def test_the_cap_message_says_why_it_was_reached():
    # Billed as estimated: the unknown outcomes, counted as spent, filled the cap (no "billed more" claim).
    step = decide(with_unknowns(half_sent(), checks=3), seconds=40, **RECONCILE)
    assert is_the_cap(step) and step.message.startswith(
        "Sending stopped at the fee cap: the next request would have taken the fee to more than max_fee=500 "
        "(200 is counted for the 200 recipients whose requests went unanswered). "
    )
    assert "billed" not in step.message.split(". ")[0]
    # A request billed more than the reservations had room for: the fee is over the cap, and it says so.
    over = half_sent()
    over.fee, over.fee_scale = 600, 3.0
    step = decide(over, DispatchResult(stopped_at_budget=True))
    assert is_the_cap(step) and step.message.startswith(
        "Sending stopped at the fee cap: the fee reached 600, more than max_fee=500: Tencent billed up to 3 "
        "times the estimate, more than the requests in flight had reserved. 200 recipients had their message "
        "(fee 600)"
    )


#: Sends that, without the cap, would go on by a retry or a wait: (ledger, batches, round, policy).
WOULD_GO_ON = {
    "transient error": (
        lambda: sent_everything(1),
        2,
        DispatchResult(transient_error=TencentSmsApiError("InternalError", "x"), not_sent=200),
        {"retries": 2},
    ),
    "window closing": (
        lambda: sent_everything(1),
        2,
        DispatchResult(stopped_at_deadline=True),
        {"window": WINDOW},
    ),
    "killed": (lambda: sent_everything(1), 2, DispatchResult(interrupted=True, not_sent=200), {"retries": 2}),
    "rate-limited recipient": (
        lambda: with_outcome("LimitExceeded.PhoneNumberThirtySecondLimit"),
        1,
        DispatchResult(),
        {},
    ),
    "refused as outside Tencent's hours": (
        lambda: with_outcome("FailedOperation.MarketingSendTimeConstraint"),
        1,
        DispatchResult(),
        {},
    ),
}


@pytest.mark.parametrize("case", WOULD_GO_ON)
def test_the_cap_outranks_what_a_retry_or_a_wait_would_mend(case):
    make, batches, result, policy = WOULD_GO_ON[case]
    uncapped = decide(make(), result, batches=batches, **policy)
    assert isinstance(uncapped, Wait) or (isinstance(uncapped, Fail) and uncapped.retry)
    assert is_the_cap(decide(capped(make()), result, batches=batches, **policy))


def test_a_rate_limited_recipient_left_out_by_the_cap_is_counted_as_not_sent():
    step = decide(capped(with_outcome("LimitExceeded.PhoneNumberThirtySecondLimit")), batches=1)
    assert (
        isinstance(step, Fail)
        and "199 recipients had their message (fee 199); 1 was not sent." in step.message
    )


def test_a_request_refused_for_good_in_the_same_round_outranks_the_cap_and_mentions_it():
    error = TencentSmsApiError("FailedOperation.InsufficientBalanceInSmsPackage", "no balance")
    step = decide(half_sent(), DispatchResult(terminal_error=error, stopped_at_budget=True, not_sent=200))
    assert isinstance(step, Fail) and not step.retry
    assert step.message.startswith("The request was refused: ") and "no balance" in step.message
    assert step.message.endswith(
        "max_fee=500 was reached as well: raise it too, or the cleared task sends nothing more."
    )


def test_a_task_killed_at_the_cap_fails_at_once_without_waiting_for_receipts():
    killed = DispatchResult(interrupted=True, stopped_at_budget=True)
    assert isinstance(decide(with_unknowns(half_sent()), DispatchResult(), **RECONCILE), Wait)
    assert is_the_cap(decide(with_unknowns(half_sent()), killed, **RECONCILE))


def test_unknown_outcomes_are_looked_up_before_the_cap_fails_the_task_and_never_resent():
    def ledger(checks: int = 0) -> Ledger:
        return with_unknowns(half_sent(), checks=checks)

    step = decide(ledger(), DispatchResult(stopped_at_budget=True), **RECONCILE)
    assert isinstance(step, Wait) and step.moment == NOON + timedelta(seconds=10)
    assert decide(ledger(), seconds=10, **RECONCILE) == Reconcile()
    # The lookups are over: resend_unresolved would send them again, which the cap has no room for.
    step = decide(ledger(checks=3), seconds=40, resend_unresolved=True, **RECONCILE)
    assert (
        is_the_cap(step)
        and "200 recipients had their message (fee 200); 200 have an unknown outcome." in step.message
    )


def test_a_delivery_check_already_started_is_still_waited_for():
    ledger = half_sent()
    ledger.delivery = Watch(T)
    settings = Policy(max_fee=CAP, wait_for_delivery=60.0, reconcile_after=10.0)
    waiting = Delivery(complete=False, delivered_rate=None)
    at = NOON + timedelta(seconds=10)
    assert next_step(ledger, 2, 400, settings, at, DispatchResult(), waiting) == CheckDelivery()
    done = Delivery(complete=True, delivered_rate=1.0)
    assert is_the_cap(next_step(ledger, 2, 400, settings, at, DispatchResult(), done))


def test_accepting_partial_failure_does_not_accept_a_send_cut_short_by_the_cap():
    assert is_the_cap(decide(half_sent(), DispatchResult(), allow_partial_failure=True))


@pytest.mark.parametrize(
    ("max_fee", "stopped"), [(CAP, True), (CAP - 1, True), (CAP + 1, False), (None, False)]
)
def test_a_later_try_sends_again_only_with_a_higher_cap(max_fee, stopped):
    # A resumed deferral or a cleared task starts with no round: the stop is read from the ledger.
    step = decide(half_sent(), None, max_fee=max_fee)
    assert is_the_cap(step) if stopped else step == Send([SendUnit(1)])


# -- what is left to send does not fit ---------------------------------------------------------------


def test_a_send_estimated_over_the_cap_sends_nothing():
    step = decide(Ledger(plan="p"), max_fee=399)
    assert step == Fail(
        "The send is estimated at 400 billed SMS, more than max_fee=399. Nothing was sent: raise max_fee, or "
        "send to fewer recipients or shorter texts (see the dry run's estimate).",
        retry=False,
    )
    assert decide(Ledger(plan="p"), max_fee=400) == Send([SendUnit(0), SendUnit(1)])


def test_the_rest_at_the_rate_tencent_billed_is_checked_after_every_round():
    # Batch 0 sent at twice the estimate; one recipient rate-limited: at that rate it would pass the cap.
    ledger = with_outcome("LimitExceeded.PhoneNumberThirtySecondLimit")
    ledger.fee, ledger.fee_scale = 398, 2.0
    assert isinstance(decide(ledger, DispatchResult(), batches=1, max_fee=400), Wait)
    step = decide(ledger, DispatchResult(), batches=1, max_fee=399)
    assert step == Fail(
        "Sending stopped at the fee cap: the 1 recipient not yet sent would cost an estimated 2 (Tencent billed "
        "up to 2 times the estimate), and with the 398 spent so far that is more than max_fee=399. 199 "
        "recipients had their message (fee 398); 1 was not sent. Raise max_fee and clear the task to send to "
        "the ones not sent (recipients already sent to are skipped): with this max_fee nothing more is sent.",
        retry=False,
    )
    # The same on a resumed deferral (no round yet), which used to say "Nothing was sent".
    assert decide(ledger, None, batches=1, max_fee=399) == step


def test_unpriced_requests_count_at_the_rate_billed():
    # 200 billed 400 (twice the estimate) and 200 unknown: 400 + 400 spent; 200 more at twice would be 1200.
    ledger = with_unknowns(sent_everything(1))
    ledger.fee, ledger.fee_scale = 400, 2.0
    assert decide(ledger, batches=3, max_fee=1200, **RECONCILE) == Send([SendUnit(2)])
    step = decide(ledger, batches=3, max_fee=1199, **RECONCILE)
    # Receipts are looked for first: they cost nothing and tell who had the message.
    assert isinstance(step, Wait) and step.moment == NOON + timedelta(seconds=10)
    ledger.reconcile = Watch(T, 3)  # the lookups are over
    step = decide(ledger, batches=3, seconds=40, max_fee=1199, **RECONCILE)
    assert isinstance(step, Fail) and "would cost an estimated 400 (" in step.message
    assert "with the 800 spent so far that is more than max_fee=1199" in step.message


def test_a_fee_over_the_cap_does_not_stop_a_task_with_nothing_left_to_send():
    # Looking up receipts, or finishing, costs nothing.
    ledger = sent_everything(2)
    ledger.fee = 900
    assert decide(ledger, None, max_fee=500) == Send([])
    assert decide(ledger, DispatchResult(), max_fee=500) == Finish()
    assert decide(with_unknowns(sent_everything(1)), DispatchResult(), max_fee=100, **RECONCILE) == Wait(
        NOON + timedelta(seconds=10),
        None,
        "200 recipients' outcome is unknown; looking for their receipts",
    )


def test_without_an_estimate_max_fee_sends_nothing_more():
    step = decide(Ledger(plan="p"), priced=False)
    assert step == Fail(
        "max_fee needs the template's content to estimate the fee, and the template preflight could not read "
        "it (see its notice in the log, or preflight=False). Nothing was sent. Turn the preflight on, or remove "
        "max_fee to send without a cap.",
        retry=False,
    )
    step = decide(sent_everything(1), priced=False)
    assert (
        isinstance(step, Fail)
        and (
            "Nothing more was sent: 200 recipients had their message (fee 200); recipients already sent to are "
            "skipped when the task runs again."
        )
        in step.message
    )
    # Nothing left to send: receipts are still looked for, and the task finishes.
    assert decide(sent_everything(2), DispatchResult(), priced=False) == Finish()
    # The unresolved recipients are not sent again without an estimate either.
    unresolved = with_unknowns(sent_everything(1), checks=3)
    over = DispatchResult()
    uncapped = decide(unresolved, over, seconds=40, resend_unresolved=True, max_fee=None, **RECONCILE)
    assert uncapped == Resend()
    step = decide(unresolved, over, seconds=40, priced=False, resend_unresolved=True, **RECONCILE)
    assert isinstance(step, Fail) and step.message.startswith("max_fee needs the template's content")
