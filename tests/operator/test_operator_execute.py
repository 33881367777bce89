"""SendSmsOperator.execute against the sandbox, outside a DAG run: input checks and ledger edge cases."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from airflow.sdk.exceptions import AirflowFailException, TaskDeferred

from airflow_provider_tencent_sms.operators.sms import SendSmsOperator
from airflow_provider_tencent_sms.phone import mask
from airflow_provider_tencent_sms.task_state import InMemoryTaskState
from tests.helpers import use_connection
from tests.operator.test_marketing_window import numbers, once_each

BEIJING = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def sandbox(tencent_sms_sandbox, monkeypatch):
    use_connection(monkeypatch, tencent_sms_sandbox)
    return tencent_sms_sandbox


def send(**kwargs: Any) -> SendSmsOperator:
    options: dict[str, Any] = {"task_id": "send", "template_id": "1002", "template_params": ["a", "b"]}
    options.update(kwargs)
    return SendSmsOperator(**options)


def test_a_connection_without_app_id_fails_before_anything_is_sent(sandbox, monkeypatch):
    use_connection(monkeypatch, sandbox, sms_sdk_app_id="")
    store = InMemoryTaskState()
    with pytest.raises(AirflowFailException, match="sms_sdk_app_id"):
        send(phone_numbers=numbers(600)).execute({"task_state_store": store})
    assert sandbox.requests == []
    # Nothing was marked as possibly sent: fixing the connection sends to everyone.
    use_connection(monkeypatch, sandbox)
    assert send(phone_numbers=numbers(600)).execute({"task_state_store": store})["sent"] == 600


def test_a_malformed_connection_fails_clearly(sandbox, monkeypatch):
    use_connection(monkeypatch, sandbox, api_version="2017-03-12")
    with pytest.raises(AirflowFailException, match="api_version"):
        send(phone_numbers=numbers(1)).execute({"task_state_store": InMemoryTaskState()})


def test_fixing_a_terminal_error_and_running_again_sends_everyone_once(sandbox):
    store = InMemoryTaskState()
    with pytest.raises(AirflowFailException, match="TemplateIncorrectOrUnapproved"):
        send(phone_numbers=numbers(3), template_id="9999").execute({"task_state_store": store})
    assert send(phone_numbers=numbers(3)).execute({"task_state_store": store})["sent"] == 3
    assert len(once_each(sandbox)) == 3


def test_changing_recipients_after_some_were_sent_is_refused(sandbox):
    store = InMemoryTaskState()
    send(phone_numbers=numbers(3)).execute({"task_state_store": store})
    with pytest.raises(AirflowFailException, match="different list of recipients"):
        send(phone_numbers=numbers(4)).execute({"task_state_store": store})
    assert len(once_each(sandbox)) == 3


def test_running_again_after_success_sends_nothing(sandbox):
    store = InMemoryTaskState()
    send(phone_numbers=numbers(5)).execute({"task_state_store": store})
    summary = send(phone_numbers=numbers(5)).execute({"task_state_store": store})
    assert summary["sent"] == 5 and summary["requests"] == 1
    assert len(once_each(sandbox)) == 5


def test_requests_already_submitted_when_the_window_ends_are_deferred_not_dropped(sandbox):
    # 10 requests submitted at once to 8 workers; each takes 1.5 s; the cut-off is 21:59:59.
    sandbox.add_fault(latency_ms=1500)
    op = send(
        phone_numbers=numbers(2000),
        template_id="1003",
        template_params=["Sale"],
        sms_type="marketing",
        max_concurrency=8,
        send_window_margin=timedelta(seconds=1),
    )
    context = {"task_state_store": InMemoryTaskState()}
    with (
        time_machine.travel(datetime(2026, 11, 25, 21, 59, 58, tzinfo=BEIJING), tick=True),
        pytest.raises(TaskDeferred) as info,
    ):
        op.execute(context)
    assert info.value.trigger.moment == datetime(2026, 11, 26, 8, 0, tzinfo=BEIJING)
    assert 0 < len(once_each(sandbox)) < 2000
    sandbox.clear_faults()
    with time_machine.travel(datetime(2026, 11, 26, 8, 0, 1, tzinfo=BEIJING), tick=True):
        assert op.resume(context)["sent"] == 2000
    assert len(once_each(sandbox)) == 2000


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"phone_numbers": None}, "exactly one of phone_numbers"),
        ({"phone_numbers": ["+8613800138000"], "recipients": [{}]}, "exactly one of phone_numbers"),
        ({"phone_numbers": [], "template_params": ["a", "b"]}, "No recipients"),
        ({"phone_numbers": ["+8613800138000"], "template_id": ""}, "template_id"),
        ({"phone_numbers": ["+8613800138000"], "template_params": "not a list"}, "template_params"),
        ({"phone_numbers": {"a": 1}}, "phone"),
        (
            {
                "phone_numbers": ["+8613800138000"],
                "template_id": "1001",
                "sms_type": "verification",
                "template_params": ["12ab56", "5"],
            },
            "0-6 digits",
        ),
    ],
)
def test_bad_input_fails_before_sending_with_a_clear_message(sandbox, kwargs, message):
    with pytest.raises(AirflowFailException, match=message):
        send(**kwargs).execute({"task_state_store": InMemoryTaskState()})
    assert sandbox.requests == []


def test_invalid_numbers_are_named_masked(sandbox):
    with pytest.raises(AirflowFailException) as info:
        send(phone_numbers=["+8613800138000", "+861380013800099", "555"]).execute(
            {"task_state_store": InMemoryTaskState()}
        )
    text = str(info.value)
    assert "2 invalid phone numbers" in text
    assert "+861380013800099" not in text and "+86138****0099" in text


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sms_type": "promo"}, "sms_type must be one of"),
        ({"on_invalid_number": "ignore"}, "on_invalid_number must be"),
        ({"max_concurrency": 0}, "max_concurrency must be a positive integer"),
        ({"request_attempts": True}, "request_attempts must be a positive integer"),
        ({"recipient_retries": -1}, "recipient_retries must be 0 or more"),
        ({"max_requests_per_second": 0}, "max_requests_per_second must be a positive number"),
        ({"max_recipient_wait": 300}, "max_recipient_wait must be a datetime.timedelta"),
    ],
)
def test_settings_that_are_not_templated_fail_when_the_dag_is_parsed(kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        send(phone_numbers=["+8613800138000"], **kwargs)


def test_when_every_number_is_invalid_skip_says_so(sandbox):
    with pytest.raises(
        AirflowFailException, match=r"All 3 phone numbers given are invalid \(#0 \*\*\*\*, #1"
    ):
        send(phone_numbers=["555", "138-0013", "x"], on_invalid_number="skip").execute(
            {"task_state_store": InMemoryTaskState()}
        )
    assert sandbox.requests == []


def test_skipped_invalid_entries_are_listed_masked_with_their_positions(sandbox):
    summary = send(
        phone_numbers=["+8613800138000", "138-0013-800", "+8613900139000", "1"], on_invalid_number="skip"
    ).execute({"task_state_store": InMemoryTaskState()})
    assert summary["sent"] == 2 and summary["invalid"] == 2
    assert summary["invalid_entries"] == [
        {"position": 1, "entry": "13****3800"},
        {"position": 3, "entry": "****"},
    ]


def test_partial_failure_accepted_still_logs_the_failed_recipients_masked(sandbox, capsys):
    blocked = numbers(3)[1]
    sandbox.add_fault(recipient_code="FailedOperation.PhoneNumberInBlacklist", phone_numbers=[blocked])
    summary = send(phone_numbers=numbers(3), allow_partial_failure=True).execute(
        {"task_state_store": InMemoryTaskState()}
    )
    assert (summary["sent"], summary["failed"]) == (2, 1)
    log = capsys.readouterr().out
    assert f"Not delivered to {mask(blocked)}: FailedOperation.PhoneNumberInBlacklist" in log
    assert blocked not in log


def test_a_try_after_everything_was_sent_says_it_sent_nothing(sandbox, capsys):
    store = InMemoryTaskState()
    send(phone_numbers=numbers(3)).execute({"task_state_store": store})
    assert "This try: 3 sent, 0 failed, 0 outcome unknown, fee 3, 1 request." in capsys.readouterr().out
    send(phone_numbers=numbers(3)).execute({"task_state_store": store})
    log = capsys.readouterr().out
    assert "This try sent nothing; earlier tries had handled 3 (3 sent, 0 failed, 0 outcome unknown)." in log
    assert "1 requests" not in log


def test_without_retries_a_transient_failure_does_not_promise_a_retry(sandbox):
    sandbox.add_fault(code="InternalError.Timeout", count=5)
    with pytest.raises(Exception, match="this task has no retries: clear it") as info:
        send(phone_numbers=numbers(1), request_attempts=1, retries=0).execute(
            {"task_state_store": InMemoryTaskState()}
        )
    assert "when Airflow retries" not in str(info.value)
    assert "1 recipient was not sent" in str(info.value)


def test_the_hooks_connections_are_closed_when_the_task_ends(sandbox):
    op = send(phone_numbers=numbers(2))
    op.execute({"task_state_store": InMemoryTaskState()})
    assert "session" not in op.hook.__dict__


def test_in_place_retries_log_the_wait_they_really_take(sandbox, caplog):
    # The global sending-rate limit asks for 1 s; the second wait is twice the first. (The API's
    # RequestLimitExceeded slows the whole sender down instead: tests/integration/test_bulk_sender.py.)
    sandbox.add_fault(code="LimitExceeded.GlobalSmsSendingRateLimit", count=2)
    assert send(phone_numbers=numbers(1)).execute({"task_state_store": InMemoryTaskState()})["sent"] == 1
    log = caplog.text
    assert "trying again in 1 s (attempt 2 of 3)" in log
    assert "trying again in 2 s (attempt 3 of 3)" in log
