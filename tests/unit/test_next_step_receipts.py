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
    Wait,
    next_step,
)

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
    exhausted.record_unknown(units[0], [0, 1, 2])
    # Unknown again after the re-send: never a third message.
    assert isinstance(decide(exhausted, 41, resend_unresolved=True), Fail)


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
