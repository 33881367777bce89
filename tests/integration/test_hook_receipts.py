"""The hook's receipt methods over real HTTP against the sandbox: typed results, paging, rate limits."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest

from airflow_provider_tencent_sms.hooks.receipts import CallbackStatistics, Receipt
from airflow_provider_tencent_sms.hooks.sms import TencentSmsHook
from airflow_provider_tencent_sms.sandbox import Sandbox
from tests.helpers import use_connection

NUMBER, OTHER = "+8613800138000", "+8613900139000"


@pytest.fixture
def sandbox(tencent_sms_sandbox, monkeypatch):
    use_connection(monkeypatch, tencent_sms_sandbox)
    return tencent_sms_sandbox


def minutes_ago(minutes: float) -> datetime:
    return datetime.now(timezone.utc) - timedelta(minutes=minutes)


def test_pull_send_status_gives_typed_receipts_once(sandbox):
    sandbox.set_delivery(OTHER, description="UNDELIV")
    hook = TencentSmsHook()
    hook.send_sms([NUMBER, OTHER], "1002", ["a", "b"], session_context="tsms1:0123456789ab:0")
    receipts = hook.pull_send_status()
    assert [(r.phone_number, r.report_status, r.description, r.delivered) for r in receipts] == [
        (NUMBER, "SUCCESS", "DELIVRD", True),
        (OTHER, "FAIL", "UNDELIV", False),
    ]
    first = receipts[0]
    assert first.serial_no == sandbox.messages[0]["serial_no"]
    assert (first.country_code, first.subscriber_number) == ("86", "13800138000")
    assert first.session_context == "tsms1:0123456789ab:0"
    assert first.user_receive_time.tzinfo is not None
    assert abs((first.user_receive_time - datetime.now(timezone.utc)).total_seconds()) < 60
    assert NUMBER not in repr(first)
    assert hook.pull_send_status() == []
    with pytest.raises(ValueError, match="between 1 and 100"):
        hook.pull_send_status(limit=101)


def test_by_number_pages_until_exhausted_and_keeps_the_queue(sandbox):
    hook = TencentSmsHook()
    begin = minutes_ago(1)
    for _ in range(105):
        hook.send_sms([NUMBER], "1002", ["a", "b"])
    hook.send_sms([OTHER], "1002", ["a", "b"])
    receipts = hook.pull_send_status_by_phone_number(NUMBER, begin)
    assert len(receipts) == 105
    assert {r.serial_no for r in receipts} == {
        m["serial_no"] for m in sandbox.messages if m["phone_number"] == NUMBER
    }
    assert all(isinstance(r, Receipt) and r.phone_number == NUMBER for r in receipts)
    pages = [r for r in sandbox.requests if r.action == "PullSmsSendStatusByPhoneNumber"]
    assert len(pages) == 2
    assert hook.pull_send_status_by_phone_number(NUMBER, begin, begin) == []
    # Reading by number takes nothing off the queue.
    assert len(hook.pull_send_status(100)) == 100


def test_by_number_refuses_ranges_tencent_would_refuse(sandbox):
    hook = TencentSmsHook()
    with pytest.raises(ValueError, match="more than 7 days ago"):
        hook.pull_send_status_by_phone_number(
            NUMBER, datetime.now(timezone.utc) - timedelta(days=7, minutes=1)
        )
    with pytest.raises(ValueError, match="timezone-aware"):
        hook.pull_send_status_by_phone_number(NUMBER, datetime.now())
    with pytest.raises(ValueError, match="before begin"):
        hook.pull_send_status_by_phone_number(NUMBER, minutes_ago(1), minutes_ago(2))


def test_callback_status_statistics_of_the_send_hours(sandbox):
    sandbox.set_delivery(OTHER, description="MK:0005 BLACKLIST")
    hook = TencentSmsHook()
    hook.send_sms([NUMBER, OTHER], "1002", ["a", "b"])
    now = datetime.now(timezone.utc)
    stats = hook.callback_status_statistics(now - timedelta(hours=1), now)
    assert isinstance(stats, CallbackStatistics)
    assert (stats.request_success_count, stats.callback_count) == (2, 2)
    assert (stats.callback_success_count, stats.callback_fail_count, stats.black_list_count) == (1, 1, 1)
    assert len(stats.begin_hour) == 10 and stats.end_hour >= stats.begin_hour
    with pytest.raises(ValueError, match="32 days"):
        hook.callback_status_statistics(now - timedelta(days=33), now)


def test_each_action_keeps_to_its_own_documented_rate(monkeypatch):
    with Sandbox(action_rate_limits=True) as limited:
        use_connection(monkeypatch, limited)
        hook = TencentSmsHook()
        begin = minutes_ago(1)
        started = time.monotonic()
        for _ in range(25):
            hook.pull_send_status_by_phone_number(NUMBER, begin)
        # 20/s: 25 calls cannot all start within one second, so the sandbox never refuses one.
        assert time.monotonic() - started >= 1.1
        for _ in range(12):
            hook.callback_status_statistics(begin, begin)
        outcomes = {r.outcome for r in limited.requests}
    assert outcomes == {"Ok"}
