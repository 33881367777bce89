"""resend_unresolved against the sandbox: a re-send that is not sent is sent by a later try, exactly once,
and a marketing re-send goes out inside the send window."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import time_machine
from airflow.sdk.exceptions import AirflowException, AirflowFailException, TaskDeferred

from airflow_provider_tencent_sms.operators.sms import SendSmsOperator
from airflow_provider_tencent_sms.task_state import InMemoryTaskState
from tests.operator.test_campaign_safety import sendsms_requests, task_log
from tests.operator.test_marketing_window import BEIJING, campaign, numbers, once_each
from tests.operator.test_operator_execute import send

NUMBERS = numbers(2)
LEDGER_KEY = "tencent_sms_ledger"


@pytest.fixture
def sandbox(tencent_sms_sandbox, monkeypatch):
    from tests.helpers import use_connection

    use_connection(monkeypatch, tencent_sms_sandbox)
    return tencent_sms_sandbox


def resending(**kwargs: Any) -> SendSmsOperator:
    return send(
        phone_numbers=NUMBERS,
        resend_unresolved=True,
        reconcile_after=timedelta(seconds=1),
        reconcile_timeout=timedelta(seconds=2),
        **kwargs,
    )


def drive(op: SendSmsOperator, context: dict[str, Any]) -> dict[str, Any]:
    """Run the task to its end, resuming after each deferral once its moment has come."""
    call = op.execute
    while True:
        try:
            return call(context)
        except TaskDeferred as deferred:
            time.sleep(max(0.0, (deferred.trigger.moment - datetime.now(timezone.utc)).total_seconds()))
            call = op.resume


# Each way a started re-send ends unsent: the fault hits the re-send (the second request) only.
NOT_SENT = {
    "transient error": ({"code": "InternalError.Timeout"}, {"request_attempts": 1}, AirflowException),
    "rate limit every time": ({"code": "RequestLimitExceeded", "count": 20}, {}, AirflowException),
    "refused for good": ({"code": "FailedOperation.TemplateIncorrectOrUnapproved"}, {}, AirflowFailException),
    "fee cap": ({}, {"max_fee": 2}, AirflowFailException),
}


@pytest.mark.parametrize("how", NOT_SENT)
def test_a_resend_that_was_not_sent_is_sent_by_the_next_try_exactly_once(sandbox, capsys, how):
    fault, options, error = NOT_SENT[how]
    # Lost before Tencent processed it: no message, so no receipt ever comes and the two are re-sent.
    sandbox.add_fault(drop_before_send=True, count=1)
    if fault:
        sandbox.add_fault(after=1, **{"count": 1, **fault})
    store = InMemoryTaskState()
    context = {"task_state_store": store}
    with pytest.raises(error) as raised:
        drive(resending(retries=1, **options), context)
    assert sandbox.messages == []
    # Still unknown (listed as such), and still to be sent once more.
    stored = store.values[LEDGER_KEY]
    assert (stored["unknown"], stored["resend"], stored["resent"]) == ({"0": [0, 1]}, {"0": [0, 1]}, True)
    if how == "fee cap":
        assert "2 have an unknown outcome" in str(raised.value)
    sandbox.clear_faults()
    capsys.readouterr()
    summary = drive(resending(retries=1, max_fee=10 if "max_fee" in options else None), context)
    assert (summary["sent"], summary["unknown"], summary["resent_unresolved"]) == (2, 0, True)
    assert len(once_each(sandbox)) == 2
    # The re-send went out in one request, and the try counts it without a negative "unknown".
    resend = [r for r in sandbox.requests if r.action == "SendSms"][-1]
    assert resend.phone_numbers == tuple(NUMBERS)
    assert (
        "This try: 2 sent, 0 failed, 0 outcome unknown, fee 2, 1 request; earlier tries had handled 2 "
        "(0 sent, 0 failed, 2 outcome unknown)." in task_log(capsys)
    )
    # Nothing after that: a later run of the task finds everyone settled.
    requests = sendsms_requests(sandbox)
    assert drive(resending(retries=1), context)["sent"] == 2
    assert sendsms_requests(sandbox) == requests


def test_a_resend_answered_without_an_outcome_is_never_sent_a_third_time(sandbox):
    sandbox.add_fault(drop_before_send=True, count=2)
    store = InMemoryTaskState()
    with pytest.raises(AirflowFailException, match="did not get the message"):
        drive(resending(retries=1), {"task_state_store": store})
    assert (sendsms_requests(sandbox), store.values[LEDGER_KEY]["unknown"]) == (2, {"0": [0, 1]})
    assert "resend" not in store.values[LEDGER_KEY]


def marketing_resend(start: datetime, context: dict[str, Any]) -> tuple[dict[str, Any], list[datetime]]:
    """A 10:00-18:00 campaign whose first request is lost at ``start``: driven with the clock travelled to
    each deferral's moment; its result and the moments."""
    op = campaign(
        2,
        send_window=("10:00", "18:00"),
        resend_unresolved=True,
        reconcile_after=timedelta(minutes=1),
        reconcile_timeout=timedelta(minutes=2),
    )
    moments = []
    call, moment = op.execute, start
    while True:
        with time_machine.travel(moment, tick=False):
            try:
                return call(context), moments
            except TaskDeferred as deferred:
                moment = deferred.trigger.moment
                moments.append(moment)
                call = op.resume


@pytest.mark.parametrize(
    ("start", "reason"),
    [
        # The lookups end at 18:01, the window closed.
        (datetime(2026, 11, 25, 17, 59, tzinfo=BEIJING), "the marketing window is closed"),
        # They end at 17:59:45, inside the 30-second margin before the window's end: the re-send is
        # started and given back.
        (datetime(2026, 11, 25, 17, 57, 45, tzinfo=BEIJING), "the marketing window closes soon"),
    ],
)
def test_a_marketing_resend_waits_for_the_window_to_open(sandbox, start, reason):
    sandbox.add_fault(drop_before_send=True, count=1)
    store = InMemoryTaskState()
    summary, moments = marketing_resend(start, {"task_state_store": store})
    opening = datetime(2026, 11, 26, 10, 0, tzinfo=BEIJING)
    assert moments == [start + timedelta(minutes=1), start + timedelta(minutes=2), opening]
    assert summary["deferrals"][-1]["reason"] == reason
    assert (summary["sent"], summary["unknown"], summary["resent_unresolved"]) == (2, 0, True)
    assert len(once_each(sandbox)) == 2
    sent_at = opening.astimezone(timezone.utc).isoformat(timespec="milliseconds")
    assert [m["received_at"] for m in sandbox.messages] == [sent_at] * 2
