"""Faults, added in Python or over HTTP, observed over real HTTP through the official SDK."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

from airflow_provider_tencent_sms.sandbox import Sandbox

from .client import MAINLAND, MAINLAND_2, Raw, call, common_client, sdk_error, send_params


def _send(sandbox: Sandbox, numbers: list[str] | None = None) -> dict[str, Any]:
    return call(common_client(sandbox), "SendSms", send_params(numbers))


def _send_error(sandbox: Sandbox, numbers: list[str] | None = None) -> str:
    client = common_client(sandbox)
    return sdk_error(lambda: client.call_json("SendSms", send_params(numbers)))


def test_code_fails_the_whole_request(sandbox: Sandbox) -> None:
    sandbox.add_fault(code="InternalError.Timeout", message="upstream timed out")
    client = common_client(sandbox)
    with pytest.raises(TencentCloudSDKException) as raised:
        client.call_json("SendSms", send_params())
    assert (raised.value.get_code(), raised.value.get_message()) == (
        "InternalError.Timeout",
        "upstream timed out",
    )
    assert sandbox.messages == []


def test_recipient_code_hits_only_the_listed_numbers(sandbox: Sandbox) -> None:
    sandbox.add_fault(recipient_code="FailedOperation.PhoneNumberInBlacklist", phone_numbers=[MAINLAND_2])
    statuses = _send(sandbox, [MAINLAND, MAINLAND_2])["SendStatusSet"]
    assert [(s["PhoneNumber"], s["Code"]) for s in statuses] == [
        (MAINLAND, "Ok"),
        (MAINLAND_2, "FailedOperation.PhoneNumberInBlacklist"),
    ]
    assert statuses[1]["SerialNo"] == ""
    assert [m["phone_number"] for m in sandbox.messages] == [MAINLAND]


def test_fee_bills_each_message_differently(sandbox: Sandbox) -> None:
    sandbox.add_fault(fee=3, count=1)
    statuses = _send(sandbox, [MAINLAND, MAINLAND_2])["SendStatusSet"]
    assert [s["Fee"] for s in statuses] == [3, 3]
    assert [m["fee"] for m in sandbox.messages] == [3, 3]
    assert _send(sandbox)["SendStatusSet"][0]["Fee"] == 1  # the text's own cost again


def test_http_status_answers_like_a_proxy(sandbox: Sandbox) -> None:
    sandbox.add_fault(http_status=502, count=1)
    assert _send_error(sandbox) == "ServerNetworkError"
    sandbox.add_fault(http_status=504, body="<html><body>Gateway Timeout</body></html>", process=True)
    raw = _raw_send(sandbox)
    assert raw.status_code == 504
    assert raw.headers["Content-Type"].startswith("text/html")
    assert raw.text == "<html><body>Gateway Timeout</body></html>"
    # process=True: the request was handled before the proxy error, like a gateway timing out late.
    assert len(sandbox.messages) == 1


def _raw_send(sandbox: Sandbox) -> requests.Response:
    return Raw(sandbox).post(json.dumps(send_params()))


def test_default_proxy_page(sandbox: Sandbox) -> None:
    sandbox.add_fault(http_status=502)
    response = _raw_send(sandbox)
    assert response.status_code == 502
    assert "<h1>502 Bad Gateway</h1>" in response.text
    assert sandbox.messages == []
    assert sandbox.requests[-1].outcome == "HTTP 502"


def test_latency_delays_the_answer(sandbox: Sandbox) -> None:
    sandbox.add_fault(latency_ms=300, count=1)
    started = time.monotonic()
    assert _send(sandbox)["SendStatusSet"][0]["Code"] == "Ok"
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    _send(sandbox)
    assert time.monotonic() - started < 0.3


def test_drop_connection_processes_then_closes_without_answer(sandbox: Sandbox) -> None:
    sandbox.add_fault(drop_connection=True)
    assert _send_error(sandbox) == "ClientNetworkError"
    # The outcome is unknown to the client, but the message was accepted.
    assert [m["phone_number"] for m in sandbox.messages] == [MAINLAND]
    assert sandbox.requests[-1].outcome == "ConnectionDropped"
    with pytest.raises(requests.ConnectionError):
        _raw_send(sandbox)
    assert len(sandbox.messages) == 2


def test_drop_before_send_closes_without_processing(sandbox: Sandbox) -> None:
    sandbox.add_fault(drop_before_send=True, count=1)
    assert _send_error(sandbox) == "ClientNetworkError"
    assert sandbox.messages == []
    assert sandbox.requests[-1].outcome == "ConnectionDropped"
    _send(sandbox)
    assert len(sandbox.messages) == 1


def test_after_and_count_select_the_second_of_three(sandbox: Sandbox) -> None:
    sandbox.add_fault(code="InternalError.OtherError", after=1, count=1)
    outcomes = []
    for _ in range(3):
        try:
            outcomes.append(_send(sandbox)["SendStatusSet"][0]["Code"])
        except TencentCloudSDKException as exc:
            outcomes.append(exc.get_code())
    assert outcomes == ["Ok", "InternalError.OtherError", "Ok"]
    assert sandbox.faults == []  # used up


def test_phone_numbers_select_requests(sandbox: Sandbox) -> None:
    sandbox.add_fault(code="LimitExceeded.DeliveryFrequencyLimit", phone_numbers=[MAINLAND_2])
    assert _send(sandbox, [MAINLAND])["SendStatusSet"][0]["Code"] == "Ok"
    assert _send_error(sandbox, [MAINLAND, MAINLAND_2]) == "LimitExceeded.DeliveryFrequencyLimit"


def test_action_selects_requests(sandbox: Sandbox) -> None:
    sandbox.add_fault(code="InternalError", action="DescribePhoneNumberInfo")
    assert _send(sandbox)["SendStatusSet"][0]["Code"] == "Ok"
    client = common_client(sandbox)
    assert sdk_error(lambda: client.call_json("DescribePhoneNumberInfo", {"PhoneNumberSet": [MAINLAND]})) == (
        "InternalError"
    )
    sandbox.clear_faults()
    sandbox.add_fault(code="RequestLimitExceeded", action=None)
    assert (
        sdk_error(lambda: client.call_json("DescribeSmsSignList", {"International": 0}))
        == "RequestLimitExceeded"
    )


def test_faults_over_http(sandbox: Sandbox) -> None:
    url = sandbox.url + "/_sandbox/faults"
    created = requests.post(url, json={"recipient_code": "FailedOperation.PhoneNumberInBlacklist"}, timeout=5)
    assert created.status_code == 201
    assert created.json()["id"] >= 1
    assert [f["recipient_code"] for f in requests.get(url, timeout=5).json()] == [
        "FailedOperation.PhoneNumberInBlacklist"
    ]
    assert _send(sandbox)["SendStatusSet"][0]["Code"] == "FailedOperation.PhoneNumberInBlacklist"
    assert requests.delete(url, timeout=5).status_code == 200
    assert sandbox.faults == []
    assert _send(sandbox)["SendStatusSet"][0]["Code"] == "Ok"


@pytest.mark.parametrize(
    "document",
    [
        [],
        {},
        {"code": "X", "drop_connection": True},
        {"drop_connection": True, "drop_before_send": True},
        {"code": 5},
        {"http_status": 99},
        {"latency_ms": -1},
        {"code": "X", "count": 0},
        {"code": "X", "phone_numbers": "+8613800138000"},
        {"code": "X", "colour": "red"},
        {"body": "<p>", "code": "X"},
        {"fee": 0},
        {"fee": "2"},
    ],
)
def test_invalid_faults_are_refused(sandbox: Sandbox, document: object) -> None:
    response = requests.post(sandbox.url + "/_sandbox/faults", json=document, timeout=5)
    assert response.status_code == 400
    assert "invalid fault" in response.json()["error"]
    with pytest.raises(ValueError):
        Sandbox().add_fault(phone_numbers="+8613800138000", code="X")


def test_global_latency_does_not_serialise_requests(make_sandbox: Any) -> None:
    slow = make_sandbox(latency_ms=400)
    started = time.monotonic()
    with ThreadPoolExecutor(4) as pool:
        codes = list(pool.map(lambda _: _send(slow)["SendStatusSet"][0]["Code"], range(4)))
    elapsed = time.monotonic() - started
    assert codes == ["Ok"] * 4
    assert 0.4 <= elapsed < 1.2
