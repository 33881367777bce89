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
    TencentSmsNotifier(phone_numbers=["+8613800138000"], template_id="1002", template_params=["a", "b"])(
        context()
    )
    assert "SMS alert not sent" in logged(capfd)
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
