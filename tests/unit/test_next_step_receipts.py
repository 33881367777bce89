"""The decision once sending is over: reconcile unknown outcomes, re-send them, wait for delivery receipts."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from airflow_provider_tencent_sms.dispatch import DispatchResult
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
from airflow_provider_tencent_sms.send_window import SendWindow

NOW = datetime(2026, 5, 1, 2, 0, tzinfo=timezone.utc)
T = NOW.timestamp()
RECONCILE = {"reconcile": True, "reconcile_after": 10.0, "reconcile_timeout": 35.0}


def with_unknown(origin: float | None = T, checks: int = 0) -> Ledger:
    """One batch of three: all three outcomes unknown."""
    ledger = Ledger(plan="p")
    ledger.start([SendUnit(0)])
    ledger.record_unknown(SendUnit(0), [0, 1, 2])
    if origin is not None:
        ledger.reconcile = Watch(origin, checks)
    return ledger


def sent_all(count: int = 3) -> Ledger:
    ledger = Ledger(plan="p")
    ledger.record_sent(SendUnit(0), count, count)
    return ledger


def decide(ledger: Ledger, seconds: float = 0, delivery: Delivery | None = None, **policy) -> object:
    now = NOW + timedelta(seconds=seconds)
    return next_step(ledger, 1, 3, Policy(**{**RECONCILE, **policy}), now, DispatchResult(), delivery)


def test_unknown_outcomes_wait_for_the_first_lookup_then_reconcile():
    step = decide(with_unknown())
    assert isinstance(step, Wait) and step.moment == NOW + timedelta(seconds=10)
    assert "3 recipients' outcome is unknown" in step.reason
    assert decide(with_unknown(), 10) == Reconcile()
    # After the first lookup the next comes 10 s later, 20 s after the origin.
    step = decide(with_unknown(checks=1), 11)
    assert isinstance(step, Wait) and step.moment == NOW + timedelta(seconds=20)


def test_after_the_last_lookup_unknown_recipients_fail_the_task_or_are_resent_once():
    exhausted = with_unknown(checks=3)  # lookups at 10, 20 and 35 s
    step = decide(exhausted, 40)
    assert isinstance(step, Fail) and not step.retry
    assert "no delivery receipt of this task came for them by reconcile_timeout" in step.message
    assert decide(exhausted, 40, allow_partial_failure=True) == Finish(partial=True)
    assert decide(exhausted, 40, resend_unresolved=True) == Resend()
    units = exhausted.resend_unknown()
    exhausted.start(units)
    exhausted.record_sent(units[0], 3, 3)
    assert decide(exhausted, 41, resend_unresolved=True) == Finish()
    exhausted = with_unknown(checks=3)
    units = exhausted.resend_unknown()
    exhausted.start(units)
    exhausted.record_unknown(units[0], [0, 1, 2])
    # Unknown again after the re-send: never a third message.
    assert isinstance(decide(exhausted, 41, resend_unresolved=True), Fail)


# 10:00-18:00 in Shanghai, which is 02:00-10:00 UTC: NOW (02:00 UTC) is its opening.
WINDOW = SendWindow.parse(("10:00", "18:00"), "Asia/Shanghai")
OPENING = NOW
CLOSING = NOW + timedelta(hours=8)


def test_a_marketing_resend_waits_for_the_window_and_ends_with_it():
    exhausted = with_unknown(checks=3)
    # The lookups were over at night: the re-send waits for the morning, like the rest of the campaign.
    night = CLOSING + timedelta(hours=4) - NOW
    step = decide(exhausted, night.total_seconds(), resend_unresolved=True, window=WINDOW)
    assert step == Wait(OPENING + timedelta(days=1), WINDOW, "the marketing window is closed")
    margin = timedelta(minutes=1)
    step = decide(exhausted, 40, resend_unresolved=True, window=WINDOW, window_margin=margin)
    assert step == Resend(CLOSING - margin)
    # The fee cap stops the send whether the window is open or not.
    exhausted.capped_at = 3
    step = decide(exhausted, night.total_seconds(), resend_unresolved=True, window=WINDOW, max_fee=3)
    assert isinstance(step, Fail) and "max_fee=3" in step.message


def resend_not_sent() -> Ledger:
    """The unknown recipients' re-send was started and given back unsent (see Ledger.release)."""
    ledger = with_unknown(checks=3)
    (unit,) = ledger.resend_unknown()
    ledger.start([unit])
    ledger.release(unit)
    return ledger


def test_a_resend_that_was_not_sent_is_sent_by_the_next_round_within_the_window():
    ledger = resend_not_sent()
    unit = SendUnit(0, (0, 1, 2))
    resend = {**RECONCILE, "resend_unresolved": True}
    assert next_step(ledger, 1, 3, Policy(**resend), NOW) == Send([unit])
    step = next_step(ledger, 1, 3, Policy(window=WINDOW, **resend), NOW - timedelta(hours=1))
    assert step == Wait(OPENING, WINDOW, "the marketing window is closed")
    step = next_step(ledger, 1, 3, Policy(window=WINDOW, **resend), NOW)
    assert step == Send([unit], CLOSING - timedelta(seconds=30))
    # resend_unresolved turned off since: they stay unknown, and the task fails saying so.
    assert next_step(ledger, 1, 3, Policy(**RECONCILE), NOW) == Send([])
    step = next_step(ledger, 1, 3, Policy(retries=1, **RECONCILE), NOW, DispatchResult())
    assert isinstance(step, Fail) and not step.retry and "the outcome is unknown" in step.message


def test_a_round_that_did_not_send_the_resend_asks_for_a_retry_that_will():
    ledger = resend_not_sent()
    policy = Policy(retries=1, resend_unresolved=True, **RECONCILE)
    # Killed (or given back for any reason no other rule names): the three count as not yet sent.
    step = next_step(ledger, 1, 3, policy, NOW, DispatchResult(interrupted=True, not_sent=3))
    assert isinstance(step, Fail) and step.retry and "with 3 recipients not yet sent" in step.message
    step = next_step(ledger, 1, 3, policy, NOW, DispatchResult())
    assert isinstance(step, Fail) and step.retry and step.message.startswith("3 recipients are still unsent")


def test_without_reconciliation_unknown_recipients_fail_at_once():
    step = decide(with_unknown(origin=None), reconcile=False)
    assert isinstance(step, Fail) and "on_unknown_outcome='reconcile'" in step.message


def test_delivery_is_checked_until_every_receipt_is_in_or_the_wait_is_over():
    ledger = sent_all()
    ledger.delivery = Watch(T)
    waiting = Delivery(complete=False, delivered_rate=None)
    policy = {"reconcile_after": 10.0, "wait_for_delivery": 30.0}
    step = decide(ledger, 0, waiting, **policy)
    assert isinstance(step, Wait) and step.moment == NOW + timedelta(seconds=10)
    assert decide(ledger, 10, waiting, **policy) == CheckDelivery()
    assert decide(ledger, 10, Delivery(True, 1.0), **policy) == Finish()
    ledger.delivery = Watch(T, 3)  # lookups at 10, 20 and 30 s: the wait is over
    assert decide(ledger, 31, Delivery(False, 0.5), **policy) == Finish()


def test_min_delivery_rate_fails_once_the_wait_is_over():
    ledger = sent_all()
    ledger.delivery = Watch(T, 3)
    policy = {"wait_for_delivery": 30.0, "min_delivery_rate": 0.9}
    step = decide(ledger, 31, Delivery(True, 2 / 3), **policy)
    assert isinstance(step, Fail) and not step.retry and "66.7%" in step.message
    assert decide(ledger, 31, Delivery(True, 0.9), **policy) == Finish()


def test_the_earlier_of_two_lookups_comes_first():
    ledger = with_unknown(origin=T - 5)
    ledger.delivery = Watch(T)
    policy = {"reconcile_timeout": 60.0, "wait_for_delivery": 30.0}
    waiting = Delivery(False, None)
    step = decide(ledger, 0, waiting, **policy)
    assert isinstance(step, Wait) and step.moment == NOW + timedelta(seconds=5)
    assert decide(ledger, 10, waiting, **policy) == Reconcile()


def test_rate_limited_recipients_are_retried_before_receipts_are_looked_up():
    ledger = with_unknown()
    ledger.record_statuses(
        SendUnit(1),
        [0],
        [("LimitExceeded.PhoneNumberThirtySecondLimit", "30 s", 0)],
        now=T,
        max_attempts=3,
        max_wait=300,
    )
    step = next_step(ledger, 2, 4, Policy(**RECONCILE), NOW, DispatchResult())
    assert isinstance(step, Wait) and "rate-limited" in step.reason
