"""The one decision after each round of sending: fail, wait, reconcile, re-send, check delivery, finish."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from airflow_provider_tencent_sms.decision import (
    CheckDelivery,
    Fail,
    Finish,
    Policy,
    Reconcile,
    Resend,
    Round,
    Wait,
    next_step,
)
from airflow_provider_tencent_sms.ledger import Ledger, SendUnit, Watch

NOW = datetime(2026, 5, 1, 2, 0, tzinfo=timezone.utc)
T = NOW.timestamp()
POLICY = Policy(reconcile_after=10, reconcile_timeout=35)


def ledger_with_unknown(origin: float | None = T, checks: int = 0) -> Ledger:
    ledger = Ledger(plan="p")
    ledger.start([SendUnit(0)])
    ledger.record_unknown(SendUnit(0), [0, 1, 2])
    if origin is not None:
        ledger.reconcile = Watch(origin, checks)
    return ledger


def test_nothing_left_finishes():
    assert next_step(Ledger(plan="p"), Round(NOW), POLICY) == Finish()


def test_terminal_and_transient_errors_fail_the_first_for_good():
    terminal = next_step(Ledger(plan="p"), Round(NOW, terminal_error="AuthFailure", pending=5), POLICY)
    assert isinstance(terminal, Fail) and not terminal.retryable and "5 were not sent" in terminal.message
    transient = next_step(Ledger(plan="p"), Round(NOW, transient_error="timeout", not_sent=3), POLICY)
    assert isinstance(transient, Fail) and transient.retryable


def test_unknown_outcomes_wait_for_the_first_check_then_reconcile():
    step = next_step(ledger_with_unknown(), Round(NOW), POLICY)
    assert isinstance(step, Wait) and step.moment == NOW + timedelta(seconds=10)
    assert "3 recipients' outcome is unknown" in step.reason
    assert next_step(ledger_with_unknown(), Round(NOW + timedelta(seconds=10)), POLICY) == Reconcile()
    # After the first check the next one is 10 s later (20 s after the origin).
    step = next_step(ledger_with_unknown(checks=1), Round(NOW + timedelta(seconds=11)), POLICY)
    assert isinstance(step, Wait) and step.moment == NOW + timedelta(seconds=20)


def test_after_the_last_check_unknown_recipients_are_reported_or_resent_once():
    exhausted = ledger_with_unknown(checks=3)  # checks at 10, 20, 35 s
    assert next_step(exhausted, Round(NOW + timedelta(seconds=40)), POLICY) == Finish()
    resend = Policy(reconcile_after=10, reconcile_timeout=35, resend_unresolved=True)
    assert next_step(exhausted, Round(NOW + timedelta(seconds=40)), resend) == Resend()
    exhausted.resend_unknown()
    exhausted.start([SendUnit(0, (0, 1, 2))])
    exhausted.record_unknown(SendUnit(0, (0, 1, 2)), [0, 1, 2])
    assert next_step(exhausted, Round(NOW + timedelta(seconds=41)), resend) == Finish()


def test_on_unknown_outcome_fail_never_looks_for_receipts():
    assert next_step(ledger_with_unknown(), Round(NOW), Policy(reconcile=False)) == Finish()


def test_rate_limited_recipients_are_retried_before_receipts_are_looked_for():
    ledger = ledger_with_unknown()
    ledger.start([SendUnit(1)])
    ledger.record_statuses(
        SendUnit(1),
        [0],
        [("LimitExceeded.PhoneNumberThirtySecondLimit", "30 s", 0)],
        now=T,
        max_attempts=3,
        max_wait=300,
    )
    step = next_step(ledger, Round(NOW), POLICY)
    assert isinstance(step, Wait) and "rate-limited" in step.reason


def test_delivery_checks_until_every_receipt_is_in_or_the_wait_is_over():
    ledger = Ledger(plan="p", delivery=Watch(T))
    policy = Policy(reconcile_after=10, wait_for_delivery=30)
    step = next_step(ledger, Round(NOW), policy)
    assert isinstance(step, Wait) and step.moment == NOW + timedelta(seconds=10)
    assert next_step(ledger, Round(NOW + timedelta(seconds=10)), policy) == CheckDelivery()
    assert next_step(ledger, Round(NOW + timedelta(seconds=10)), policy, delivery_complete=True) == Finish()
    ledger.delivery = Watch(T, 3)  # 10, 20, 30 s: the wait is over
    assert next_step(ledger, Round(NOW + timedelta(seconds=31)), policy) == Finish()


def test_the_earlier_of_two_checks_comes_first():
    ledger = ledger_with_unknown(origin=T - 5)
    ledger.delivery = Watch(T)
    policy = Policy(reconcile_after=10, reconcile_timeout=60, wait_for_delivery=30)
    step = next_step(ledger, Round(NOW), policy)
    assert isinstance(step, Wait) and step.moment == NOW + timedelta(seconds=5)
    assert next_step(ledger, Round(NOW + timedelta(seconds=10)), policy) == Reconcile()
