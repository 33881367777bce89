"""The fee cap in the decision: once max_fee stopped a send nothing more is sent, receipts still are looked for."""

from __future__ import annotations

from datetime import timedelta

import pytest

from airflow_provider_tencent_sms.dispatch import DispatchResult
from airflow_provider_tencent_sms.exceptions import TencentSmsApiError
from airflow_provider_tencent_sms.ledger import Ledger, SendUnit, Watch
from airflow_provider_tencent_sms.next_step import (
    CheckDelivery,
    Delivery,
    Fail,
    Policy,
    Reconcile,
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


def decide(
    ledger: Ledger, result: DispatchResult | None = None, seconds: float = 0, batches: int = 2, **policy
) -> object:
    settings = Policy(**{"max_fee": CAP, **policy})
    return next_step(ledger, batches, batches * 200, settings, NOON + timedelta(seconds=seconds), result)


def is_the_cap(step: object) -> bool:
    return (
        isinstance(step, Fail)
        and not step.retry
        and step.message.startswith("Sending stopped at the fee cap")
    )


def test_a_send_stopped_at_the_cap_fails_for_good_saying_who_was_not_sent_and_what_to_do():
    step = decide(half_sent(), DispatchResult(stopped_at_budget=True, not_sent=200))
    assert step == Fail(
        "Sending stopped at the fee cap: the next request would have taken the fee to more than max_fee=500 "
        "(Tencent billed more than estimated). 200 recipients had their message (fee 200); 200 were not sent. "
        "Raise max_fee and clear the task to send to the ones not sent (recipients already sent to are "
        "skipped): with this max_fee nothing more is sent.",
        retry=False,
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


def test_unknown_outcomes_are_looked_up_before_the_cap_fails_the_task_and_never_resent():
    def ledger(checks: int = 0) -> Ledger:
        stopped = half_sent()
        stopped.start([SendUnit(1)])
        stopped.record_unknown(SendUnit(1), range(200))
        stopped.reconcile = Watch(T, checks)
        return stopped

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
