"""TencentSmsNotifier against the sandbox: rendering from the callback context, never raising."""

from __future__ import annotations

import asyncio

import pytest

from airflow_provider_tencent_sms.notifications.sms import (
    TencentSmsNotifier,
    send_tencent_sms_notification,
    shorten,
)
from tests.helpers import use_connection


@pytest.fixture
def sandbox(tencent_sms_sandbox, monkeypatch):
    use_connection(monkeypatch, tencent_sms_sandbox)
    return tencent_sms_sandbox


class FakeTi:
    task_id = "load"


def context(**extra):
    return {"dag": None, "ti": FakeTi(), "run_id": "manual__1", "params": {}, **extra, "dag_id": "x"}


def test_renders_from_the_callback_context_and_sends_once_per_recipient(sandbox):
    notifier = send_tencent_sms_notification(
        phone_numbers="13800138000, +86 139 0013 9000; 13800138000",
        template_id="1002",
        template_params=["{{ ti.task_id }}", "{{ run_id }} failed: {{ exception }}"],
    )
    notifier(context(exception=ValueError("disk full")))
    texts = {m["phone_number"]: m["text"] for m in sandbox.messages}
    assert set(texts) == {"+8613800138000", "+8613900139000"}
    assert len(sandbox.messages) == 2
    assert all(t.endswith("[load] manual__1 failed: disk full") for t in texts.values())


def test_parameters_are_shortened_for_individual_accounts(sandbox):
    notifier = TencentSmsNotifier(
        phone_numbers=["+8613800138000"],
        template_id="1002",
        template_params=["{{ ti.task_id }}", "a very long failure description"],
        max_param_length=12,
    )
    notifier(context())
    (message,) = sandbox.messages
    assert message["template_params"] == ["load", "a very long…"]


@pytest.mark.parametrize(
    ("value", "limit", "expected"),
    [
        ("short", 12, "short"),
        ("exactly12chr", 12, "exactly12chr"),
        ("thirteen char", 12, "thirteen ch…"),
        ("abc", None, "abc"),
        ("abc", 1, "…"),
    ],
)
def test_shorten(value, limit, expected):
    assert shorten(value, limit) == expected


def logged(capfd) -> str:
    """Airflow's structlog loggers write to the process's output, not to the logging module."""
    out, err = capfd.readouterr()
    return out + err


def test_a_failed_alert_is_logged_not_raised(sandbox, capfd):
    notifier = TencentSmsNotifier(
        phone_numbers=["+8613800138000"], template_id="9999", template_params=["a", "b"]
    )
    notifier(context())  # must not raise: the task's own failure is what the user needs to see
    text = logged(capfd)
    assert "FailedOperation.TemplateIncorrectOrUnapproved" in text
    assert "RequestId" in text
    assert sandbox.messages == []


def test_unreachable_endpoint_and_bad_numbers_are_logged_not_raised(sandbox, monkeypatch, capfd):
    use_connection(monkeypatch, sandbox, host="http://127.0.0.1:9")
    TencentSmsNotifier(
        phone_numbers=["+8613800138000"], template_id="1002", template_params=["a", "b"], retry_delays=[0, 0]
    )(context())
    text = logged(capfd)
    assert "SMS alert not sent" in text
    # Never sent: safe to try again, a bounded number of times.
    assert text.count("trying again") == 2 and "attempt 3 of 3" in text
    TencentSmsNotifier(phone_numbers=["not a number"], template_id="1002", template_params=["a", "b"])(
        context()
    )
    assert "no valid phone numbers" in logged(capfd)


def test_async_notify_for_deadline_alerts(sandbox):
    notifier = TencentSmsNotifier(
        phone_numbers=["+8613800138000"],
        template_id="1002",
        template_params=["{{ dag_id }}", "deadline missed"],
        context={"dag_id": "nightly_etl"},
    )

    async def run() -> None:
        await notifier

    asyncio.run(run())
    (message,) = sandbox.messages
    assert message["text"].endswith("[nightly_etl] deadline missed")


def test_one_instance_serves_every_run_with_its_own_context(sandbox):
    # Airflow keeps one notifier per DAG object and calls it for each run.
    notifier = TencentSmsNotifier(
        phone_numbers=["+8613800138000"], template_id="1002", template_params=["etl", "run {{ run_id }}"]
    )
    notifier(context(run_id="first"))
    notifier(context(run_id="second"))
    assert [m["text"].rsplit("] ", 1)[1] for m in sandbox.messages] == ["run first", "run second"]


def sends(sandbox) -> int:
    return sum(1 for r in sandbox.requests if r.action == "SendSms")


def test_a_parameter_that_rendered_none_is_logged_and_the_alert_still_sent(sandbox, capfd):
    template = "orders={{ orders }}"
    TencentSmsNotifier(
        phone_numbers=["+8613800138000"], template_id="1002", template_params=["{{ ti.task_id }}", template]
    )(context(orders=None))  # what ti.xcom_pull(task_ids="typo") returns
    (message,) = sandbox.messages
    assert message["template_params"] == ["load", "orders=None"]
    text = logged(capfd)
    assert "template_params[1]" in text and repr(template) in text and "gave None" in text
    assert "template_params[0]" not in text


def test_a_parameter_that_fails_to_render_does_not_lose_the_alert(sandbox, capfd):
    template = "{{ no_such_variable.attribute }}"
    TencentSmsNotifier(
        phone_numbers=["+8613800138000"], template_id="1002", template_params=["{{ ti.task_id }}", template]
    )(context())
    (message,) = sandbox.messages
    assert message["template_params"] == ["load", "?"]
    text = logged(capfd)
    assert "template_params[1]" in text and repr(template) in text and "failed to render" in text


def test_urls_in_an_exception_are_neutralised_so_tencent_accepts_the_alert(sandbox):
    notifier = TencentSmsNotifier(
        phone_numbers=["+8613800138000"],
        template_id="1002",
        template_params=["{{ ti.task_id }}", "{{ exception }}"],
    )
    notifier(context(exception=ConnectionError("GET https://api.example.com/v1 failed")))
    (message,) = sandbox.messages
    assert message["template_params"] == ["load", "GET api[.]example[.]com/v1 failed"]


def test_urls_can_be_left_as_rendered(sandbox, capfd):
    TencentSmsNotifier(
        phone_numbers=["+8613800138000"],
        template_id="1002",
        template_params=["x", "{{ exception }}"],
        neutralise_urls=False,
    )(context(exception=ConnectionError("GET https://api.example.com/v1 failed")))
    assert sandbox.messages == []
    assert "ProhibitedUseUrlInTemplateParameter" in logged(capfd)


def alert(**kwargs) -> TencentSmsNotifier:
    options = {
        "phone_numbers": ["+8613800138000"],
        "template_id": "1002",
        "template_params": ["etl", "failed"],
    }
    return TencentSmsNotifier(**{**options, **kwargs})


@pytest.mark.parametrize("code", ["InternalError.Timeout", "RequestLimitExceeded"])
def test_a_transient_refusal_is_retried_and_one_alert_delivered(sandbox, capfd, code):
    sandbox.add_fault(code=code, count=2)
    alert(retry_delays=[0.01, 0.01, 0.01])(context())
    assert len(sandbox.messages) == 1
    assert sends(sandbox) == 3
    assert logged(capfd).count("trying again") == 2


def test_retries_stop_after_the_last_delay(sandbox, capfd):
    sandbox.add_fault(code="InternalError.Timeout")
    alert(retry_delays=[0.01])(context())
    assert sandbox.messages == [] and sends(sandbox) == 2
    assert "SMS alert not sent" in logged(capfd)


@pytest.mark.parametrize(
    "fault",
    [{"drop_connection": True}, {"http_status": 502, "process": True}, {"http_status": 502}],
)
def test_an_outcome_unknown_error_is_never_retried(sandbox, capfd, fault):
    sandbox.add_fault(count=1, **fault)
    alert(retry_delays=[0.01, 0.01])(context())
    assert sends(sandbox) == 1  # a second request could be a second alert SMS
    assert "trying again" not in logged(capfd)


def test_a_terminal_refusal_is_not_retried(sandbox):
    alert(template_id="9999", retry_delays=[0.01])(context())
    assert sends(sandbox) == 1


def test_async_notify_retries_without_blocking_the_event_loop(sandbox):
    sandbox.add_fault(code="InternalError.Timeout", count=1)
    notifier = alert(retry_delays=[0.5], context={"dag_id": "nightly_etl"})
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    async def run() -> None:
        beat = asyncio.create_task(ticker())
        await notifier
        beat.cancel()

    asyncio.run(run())
    assert len(sandbox.messages) == 1 and sends(sandbox) == 2
    # A blocking sleep would have stopped the loop for the whole 0.5 s wait.
    assert ticks >= 20
