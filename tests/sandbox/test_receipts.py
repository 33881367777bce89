"""Delivery receipts that behave like Tencent's: lag, per-number outcomes, a queue read once, statistics."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
import time_machine
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.sms.v20210111 import models

from airflow_provider_tencent_sms.sandbox import Sandbox
from airflow_provider_tencent_sms.sandbox.action_limits import ActionLimits

from .client import MAINLAND, MAINLAND_2, call, common_client, sdk_2021, sdk_error, send_params

BEIJING = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 5, 1, 9, 15, 0, tzinfo=BEIJING)
THIRD = "+8613700137000"


def send(sandbox: Sandbox, numbers: list[str], **extra: Any) -> None:
    call(common_client(sandbox), "SendSms", send_params(numbers, **extra))


def pull(sandbox: Sandbox, limit: int = 100) -> list[Any]:
    request = models.PullSmsSendStatusRequest()
    request.SmsSdkAppId, request.Limit = sandbox.sms_sdk_app_id, limit
    return list(sdk_2021(sandbox).PullSmsSendStatus(request).PullSmsSendStatusSet)


def by_number(
    sandbox: Sandbox, number: str, begin: float, offset: int = 0, end: int | None = None
) -> list[Any]:
    request = models.PullSmsSendStatusByPhoneNumberRequest()
    request.SmsSdkAppId, request.PhoneNumber = sandbox.sms_sdk_app_id, number
    request.BeginTime, request.Offset, request.Limit, request.EndTime = int(begin), offset, 100, end
    return list(sdk_2021(sandbox).PullSmsSendStatusByPhoneNumber(request).PullSmsSendStatusSet)


def callback_statistics(sandbox: Sandbox, begin: str, end: str) -> Any:
    request = models.CallbackStatusStatisticsRequest()
    request.SmsSdkAppId, request.BeginTime, request.EndTime = sandbox.sms_sdk_app_id, begin, end
    request.Limit = request.Offset = 0
    return sdk_2021(sandbox).CallbackStatusStatistics(request).CallbackStatusStatistics


def test_receipts_appear_after_the_lag_with_the_context_as_sent(make_sandbox: Any) -> None:
    sandbox = make_sandbox(receipt_lag=30)
    with time_machine.travel(START, tick=False) as clock:
        send(sandbox, [MAINLAND, MAINLAND_2], SessionContext="tsms1:0123456789ab:7|order 42")
        assert pull(sandbox) == []
        assert by_number(sandbox, MAINLAND, START.timestamp() - 60) == []
        clock.shift(30)
        receipts = pull(sandbox)
    assert [(r.PhoneNumber, r.ReportStatus, r.Description) for r in receipts] == [
        (MAINLAND, "SUCCESS", "DELIVRD"),
        (MAINLAND_2, "SUCCESS", "DELIVRD"),
    ]
    assert {r.SessionContext for r in receipts} == {"tsms1:0123456789ab:7|order 42"}
    assert [r.SerialNo for r in receipts] == [m["serial_no"] for m in sandbox.messages]
    assert receipts[0].UserReceiveTime == int(START.timestamp()) + 30


def test_delivery_rules_fail_delay_or_withhold_chosen_numbers(make_sandbox: Any) -> None:
    sandbox = make_sandbox(receipt_lag=5)
    sandbox.set_delivery(MAINLAND_2, description="MN:0001 SHUTDOWN", delay=60)
    sandbox.set_delivery("+86137*", status=None)
    with time_machine.travel(START, tick=False) as clock:
        send(sandbox, [MAINLAND, MAINLAND_2, THIRD])
        clock.shift(5)
        assert [(r.PhoneNumber, r.ReportStatus) for r in pull(sandbox)] == [(MAINLAND, "SUCCESS")]
        clock.shift(55)
        (late,) = pull(sandbox)
        assert (late.PhoneNumber, late.ReportStatus, late.Description) == (
            MAINLAND_2,
            "FAIL",
            "MN:0001 SHUTDOWN",
        )
        clock.shift(3600)
        assert pull(sandbox) == []
        assert by_number(sandbox, THIRD, START.timestamp() - 60) == []
    # The number without a receipt was still sent to: only its receipt is missing.
    assert [m["phone_number"] for m in sandbox.messages] == [MAINLAND, MAINLAND_2, THIRD]


def test_rules_apply_to_messages_accepted_after_them(sandbox: Sandbox) -> None:
    send(sandbox, [MAINLAND])
    sandbox.set_delivery(MAINLAND)
    send(sandbox, [MAINLAND])
    assert [r.ReportStatus for r in pull(sandbox)] == ["SUCCESS", "FAIL"]
    sandbox.clear_deliveries()
    send(sandbox, [MAINLAND])
    assert [r.ReportStatus for r in pull(sandbox)] == ["SUCCESS"]


def test_the_queue_hands_each_receipt_out_once_in_pages(sandbox: Sandbox) -> None:
    numbers = [f"+86138{i:08d}" for i in range(150)]
    send(sandbox, numbers[:100])
    send(sandbox, numbers[100:])
    first, second = pull(sandbox), pull(sandbox)
    assert (len(first), len(second)) == (100, 50)
    assert [r.PhoneNumber for r in first + second] == numbers
    assert pull(sandbox) == []


def test_by_number_queries_keep_receipts_and_honour_the_time_range(sandbox: Sandbox) -> None:
    with time_machine.travel(START, tick=False) as clock:
        send(sandbox, [MAINLAND])
        clock.shift(3600)
        send(sandbox, [MAINLAND, MAINLAND_2])
        now = time.time()
        assert len(by_number(sandbox, MAINLAND, now - 7200)) == 2
        # Per-number queries consume nothing: asked again, the same; the queue still has all three.
        assert len(by_number(sandbox, MAINLAND, now - 7200)) == 2
        assert len(by_number(sandbox, MAINLAND, now - 7200, offset=1)) == 1
        assert len(by_number(sandbox, MAINLAND, now - 60)) == 1
        assert len(by_number(sandbox, MAINLAND, now - 7200, end=int(now) - 60)) == 1
        assert len(pull(sandbox)) == 3
        client = sdk_2021(sandbox)
        week_ago = models.PullSmsSendStatusByPhoneNumberRequest()
        week_ago.SmsSdkAppId, week_ago.PhoneNumber = sandbox.sms_sdk_app_id, MAINLAND
        week_ago.BeginTime, week_ago.Offset, week_ago.Limit = int(now) - 7 * 86400 - 1, 0, 100
        assert sdk_error(lambda: client.PullSmsSendStatusByPhoneNumber(week_ago)) == (
            "InvalidParameterValue.BeginTimeVerifyFail"
        )
        week_ago.BeginTime, week_ago.EndTime = int(now), int(now) - 1
        assert sdk_error(lambda: client.PullSmsSendStatusByPhoneNumber(week_ago)) == (
            "InvalidParameterValue.EndTimeVerifyFail"
        )


def test_callback_status_statistics_count_arrived_receipts_by_send_hour(make_sandbox: Any) -> None:
    sandbox = make_sandbox(receipt_lag=10)
    sandbox.set_delivery(MAINLAND_2, description="MK:0005 BLACKLIST")
    sandbox.set_delivery(THIRD, description="EMPTY NUMBER", delay=3600)
    with time_machine.travel(START, tick=False) as clock:
        send(sandbox, [MAINLAND, MAINLAND_2, THIRD])
        assert callback_statistics(sandbox, "2026050109", "2026050109").CallbackCount == 0
        clock.shift(10)
        stats = callback_statistics(sandbox, "2026050109", "2026050109")
        assert (stats.RequestSuccessCount, stats.CallbackCount) == (3, 2)
        assert (stats.CallbackSuccessCount, stats.CallbackFailCount, stats.BlackListCount) == (1, 1, 1)
        clock.shift(3600)
        stats = callback_statistics(sandbox, "2026050100", "2026050123")
        assert (stats.CallbackCount, stats.CallbackFailCount, stats.InvalidNumberCount) == (3, 2, 1)
        assert callback_statistics(sandbox, "2026050110", "2026050110").RequestSuccessCount == 0
        client = sdk_2021(sandbox)
        request = models.CallbackStatusStatisticsRequest()
        request.SmsSdkAppId, request.BeginTime, request.EndTime = (
            sandbox.sms_sdk_app_id,
            "2026040100",
            "2026050301",
        )
        request.Limit = request.Offset = 0
        assert (
            sdk_error(lambda: client.CallbackStatusStatistics(request))
            == "InvalidParameterValue.EndTimeVerifyFail"
        )


def test_delivery_rules_over_http(sandbox: Sandbox) -> None:
    url = sandbox.url + "/_sandbox/deliveries"
    created = requests.post(url, json={"pattern": MAINLAND, "description": "UNDELIV", "delay": 0}, timeout=5)
    assert created.status_code == 201
    assert created.json()["status"] == "FAIL"
    assert [r["pattern"] for r in requests.get(url, timeout=5).json()] == [MAINLAND]
    send(sandbox, [MAINLAND])
    assert [r.ReportStatus for r in pull(sandbox)] == ["FAIL"]
    assert requests.delete(url, timeout=5).status_code == 200
    assert sandbox.delivery_rules == []


@pytest.mark.parametrize(
    "document",
    [
        [],
        {},
        {"pattern": ""},
        {"pattern": MAINLAND, "status": "LOST"},
        {"pattern": MAINLAND, "delay": -1},
        {"pattern": MAINLAND, "colour": 1},
    ],
)
def test_invalid_delivery_rules_are_refused(sandbox: Sandbox, document: object) -> None:
    response = requests.post(sandbox.url + "/_sandbox/deliveries", json=document, timeout=5)
    assert response.status_code == 400
    assert "invalid delivery rule" in response.json()["error"]


def test_action_limits_count_arrivals_over_the_last_second() -> None:
    limits = ActionLimits()
    assert all(limits.admit("PullSmsSendStatusByPhoneNumber", 10.0 + i / 100) for i in range(20))
    assert not limits.admit("PullSmsSendStatusByPhoneNumber", 10.5)
    assert limits.admit("CallbackStatusStatistics", 10.5)
    assert limits.admit("PullSmsSendStatusByPhoneNumber", 11.0)
    assert limits.admit("AnUnlistedAction", 11.0)


def test_rate_limits_answer_request_limit_exceeded_when_enabled(make_sandbox: Any) -> None:
    sandbox = make_sandbox(action_rate_limits=True)
    outcomes = []
    for _ in range(12):
        try:
            callback_statistics(sandbox, "2026050100", "2026050100")
            outcomes.append("Ok")
        except TencentCloudSDKException as exc:
            outcomes.append(str(exc.get_code()))
    assert "RequestLimitExceeded" in outcomes
    assert outcomes[:10] == ["Ok"] * 10
