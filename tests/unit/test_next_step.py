"""The one decision of a send task: send, wait, finish or fail, from the ledger alone."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from airflow_provider_tencent_sms.dispatch import DispatchResult
from airflow_provider_tencent_sms.exceptions import TencentSmsApiError
from airflow_provider_tencent_sms.ledger import Ledger, SendUnit
from airflow_provider_tencent_sms.next_step import (
    MAX_WINDOW_REFUSALS,
    REFUSED_AS_OUTSIDE,
    Fail,
    Finish,
    Policy,
    Send,
    Wait,
    next_step,
)
from airflow_provider_tencent_sms.send_window import SendWindow

BEIJING = ZoneInfo("Asia/Shanghai")
WINDOW = SendWindow.parse(("08:00", "22:00"), "Asia/Shanghai")
NOON = datetime(2026, 11, 25, 12, 0, tzinfo=BEIJING)
NIGHT = datetime(2026, 11, 25, 23, 0, tzinfo=BEIJING)
LIMITS = {"now": NOON.timestamp(), "max_attempts": 3, "max_wait": 300.0}


def sent_everything(batches: int = 2, size: int = 200) -> Ledger:
    ledger = Ledger(plan="p")
    for b in range(batches):
        ledger.record_sent(SendUnit(b), size, size)
    return ledger


def with_outcome(code: str, positions: int = 1) -> Ledger:
    """Batch 0 (of 1) answered: position 0.. refused with ``code``, the rest of 200 sent."""
    ledger = Ledger(plan="p")
    outcomes = [(code, "m", 0)] * positions + [("Ok", "", 1)] * (200 - positions)
    ledger.record_statuses(SendUnit(0), range(200), outcomes, **LIMITS)
    return ledger


def after(ledger: Ledger, result: DispatchResult | None = None, recipients: int = 400, **policy) -> object:
    return next_step(ledger, 2, recipients, Policy(**policy), NOON, result or DispatchResult())


# -- before sending ----------------------------------------------------------------------------------


def test_a_fresh_send_sends_every_batch_with_no_deadline():
    step = next_step(Ledger(plan="p"), 3, 600, Policy(), NOON)
    assert step == Send([SendUnit(0), SendUnit(1), SendUnit(2)], None)


def test_a_closed_window_with_work_waits_for_its_opening():
    step = next_step(Ledger(plan="p"), 1, 200, Policy(window=WINDOW), NIGHT)
    assert isinstance(step, Wait)
    assert step.moment == datetime(2026, 11, 26, 8, 0, tzinfo=BEIJING)
    assert step.reason == "the marketing window is closed"


def test_a_closed_window_with_nothing_left_does_not_wait():
    assert next_step(sent_everything(1), 1, 200, Policy(window=WINDOW), NIGHT) == Send([])


def test_an_open_window_sends_until_its_end_less_the_margin():
    step = next_step(
        Ledger(plan="p"), 1, 200, Policy(window=WINDOW, window_margin=timedelta(seconds=30)), NOON
    )
    assert step == Send([SendUnit(0)], datetime(2026, 11, 25, 21, 59, 30, tzinfo=BEIJING))


def test_recipients_tencent_refused_as_outside_its_hours_go_again_when_the_task_comes_back():
    ledger = with_outcome("FailedOperation.MarketingSendTimeConstraint", positions=2)
    step = next_step(ledger, 1, 200, Policy(), NOON)
    assert step == Send([SendUnit(0, (0, 1))])


# -- after a round -----------------------------------------------------------------------------------


def test_everyone_sent_finishes():
    assert after(sent_everything()) == Finish()


def test_a_terminal_error_fails_for_good_saying_who_was_sent():
    error = TencentSmsApiError("FailedOperation.TemplateIncorrectOrUnapproved", "no template")
    step = after(sent_everything(1), DispatchResult(terminal_error=error, not_sent=200))
    assert isinstance(step, Fail) and not step.retry
    assert "200 recipients had their message; the other 200 were not sent" in step.message


@pytest.mark.parametrize(
    ("retries", "promise"), [(2, "Airflow retries this task"), (0, "no retries: clear it")]
)
def test_a_transient_error_asks_for_a_retry_and_promises_only_what_airflow_will_do(retries, promise):
    step = after(
        sent_everything(1),
        DispatchResult(transient_error=TencentSmsApiError("InternalError", "x"), not_sent=200),
        retries=retries,
    )
    assert isinstance(step, Fail) and step.retry
    assert promise in step.message and "200 recipients were not sent" in step.message


def test_the_window_closing_mid_send_waits_for_the_next_opening():
    step = after(sent_everything(1), DispatchResult(stopped_at_deadline=True), window=WINDOW)
    assert isinstance(step, Wait)
    assert step.moment == datetime(2026, 11, 26, 8, 0, tzinfo=BEIJING)


def test_briefly_rate_limited_recipients_wait_for_their_retry_time():
    ledger = with_outcome("LimitExceeded.PhoneNumberThirtySecondLimit")
    step = next_step(ledger, 1, 200, Policy(), NOON, DispatchResult())
    assert isinstance(step, Wait)
    assert step.moment == NOON + timedelta(seconds=30)


def test_tencents_marketing_hours_refusal_waits_then_gives_up():
    ledger = with_outcome("FailedOperation.MarketingSendTimeConstraint")
    night = datetime(2026, 11, 25, 23, 0, tzinfo=BEIJING)
    step = next_step(ledger, 1, 200, Policy(), night, DispatchResult())
    assert isinstance(step, Wait) and step.moment == datetime(2026, 11, 26, 8, 0, tzinfo=BEIJING)
    for _ in range(MAX_WINDOW_REFUSALS):
        ledger.note_deferral("t", f"Tencent refused 1 recipients {REFUSED_AS_OUTSIDE}")
    step = next_step(ledger, 1, 200, Policy(), night, DispatchResult())
    assert isinstance(step, Fail) and not step.retry and "waiting longer will not help" in step.message


def test_failed_recipients_fail_the_task_unless_partial_failure_is_accepted():
    ledger = with_outcome("FailedOperation.PhoneNumberInBlacklist", positions=2)
    step = next_step(ledger, 1, 200, Policy(), NOON, DispatchResult())
    assert isinstance(step, Fail) and not step.retry
    assert step.message.startswith(
        "2 of 200 recipients did not get the message (FailedOperation.PhoneNumberInBlacklist: 2); 198 did."
    )
    assert next_step(ledger, 1, 200, Policy(allow_partial_failure=True), NOON, DispatchResult()) == Finish(
        partial=True
    )


def test_unknown_outcomes_are_counted_and_explained():
    ledger = sent_everything(1)
    ledger.record_unknown(SendUnit(1), range(200))
    step = after(ledger)
    assert isinstance(step, Fail)
    assert "OutcomeUnknown: 200" in step.message and "200 recipients the outcome is unknown" in step.message


def test_recipients_left_without_an_outcome_ask_for_a_retry():
    step = after(sent_everything(1))
    assert isinstance(step, Fail) and step.retry
    assert step.message.startswith("200 recipients are still unsent")


def test_a_wait_is_always_in_utc_or_aware():
    step = next_step(
        with_outcome("LimitExceeded.PhoneNumberThirtySecondLimit"), 1, 200, Policy(), NOON, DispatchResult()
    )
    assert isinstance(step, Wait) and step.moment.tzinfo is not None
    assert step.moment.astimezone(timezone.utc) == (NOON + timedelta(seconds=30)).astimezone(timezone.utc)


def test_a_send_stopped_by_on_kill_asks_for_a_retry_of_the_rest():
    step = after(sent_everything(1), DispatchResult(interrupted=True, not_sent=200), retries=1)
    assert isinstance(step, Fail) and step.retry
    assert "stopped" in step.message and "200 recipients not yet sent" in step.message
