"""SendSms through the official SDK, both API versions, and what the inbox records."""

from __future__ import annotations

from datetime import datetime

import requests
from tencentcloud.sms.v20190711 import models as models_2019
from tencentcloud.sms.v20210111 import models as models_2021

from airflow_provider_tencent_sms.sandbox import Sandbox

from .client import (
    GLOBAL,
    MAINLAND,
    MAINLAND_2,
    call,
    common_client,
    messages,
    sdk_2019,
    sdk_2021,
    sdk_error,
    send_params,
)


def test_send_2021_is_accepted_and_lands_in_the_inbox(sandbox: Sandbox) -> None:
    request = models_2021.SendSmsRequest()
    request.PhoneNumberSet = [MAINLAND, MAINLAND_2]
    request.SmsSdkAppId = sandbox.sms_sdk_app_id
    request.TemplateId = "1001"
    request.SignName = "Airflow"
    request.TemplateParamSet = ["123456", "5"]
    request.SessionContext = "order-42"

    response = sdk_2021(sandbox).SendSms(request)

    statuses = response.SendStatusSet
    assert [s.PhoneNumber for s in statuses] == [MAINLAND, MAINLAND_2]
    assert {(s.Code, s.Message, s.Fee, s.IsoCode, s.SessionContext) for s in statuses} == {
        ("Ok", "send success", 1, "CN", "order-42")
    }
    assert len({s.SerialNo for s in statuses}) == 2
    inbox = messages(sandbox)
    assert [m["phone_number"] for m in inbox] == [MAINLAND, MAINLAND_2]
    first = inbox[0]
    assert first["text"] == "【Airflow】Your verification code is 123456, valid for 5 minutes."
    assert first["template_id"] == "1001"
    assert first["template_params"] == ["123456", "5"]
    assert first["sign_name"] == "Airflow"
    assert first["serial_no"] == statuses[0].SerialNo
    assert first["fee"] == 1
    assert first["session_context"] == "order-42"
    assert first["request_id"] == response.RequestId
    assert first["api_version"] == "2021-01-11"
    assert datetime.fromisoformat(str(first["received_at"])).utcoffset().total_seconds() == 0  # type: ignore[union-attr]
    assert sandbox.messages == inbox


def test_send_2019_uses_its_own_parameter_names(sandbox: Sandbox) -> None:
    request = models_2019.SendSmsRequest()
    request.PhoneNumberSet = [MAINLAND]
    request.SmsSdkAppid = sandbox.sms_sdk_app_id
    request.TemplateID = "1002"
    request.Sign = "Airflow"
    request.TemplateParamSet = ["ETL", "nightly load finished"]

    response = sdk_2019(sandbox).SendSms(request)

    assert response.SendStatusSet[0].Code == "Ok"
    (message,) = messages(sandbox)
    assert message["text"] == "【Airflow】[ETL] nightly load finished"
    assert message["api_version"] == "2019-07-11"


def test_2021_names_are_unknown_to_2019(sandbox: Sandbox) -> None:
    client = common_client(sandbox, "2019-07-11", region="")
    assert sdk_error(lambda: client.call_json("SendSms", send_params())) == "UnknownParameter"


def test_utf8_template_parameters_round_trip(sandbox: Sandbox) -> None:
    answer = call(
        common_client(sandbox), "SendSms", send_params(params=["数据仓库", "任务失败：重试 3 次 ✅"])
    )
    assert answer["SendStatusSet"][0]["Code"] == "Ok"
    (message,) = messages(sandbox)
    assert message["text"] == "【Airflow】[数据仓库] 任务失败：重试 3 次 ✅"
    assert message["template_params"] == ["数据仓库", "任务失败：重试 3 次 ✅"]


def test_fee_counts_parts_of_the_signed_text(sandbox: Sandbox) -> None:
    client = common_client(sandbox)
    # "【Airflow】[x] " is 13 characters: 57 more make exactly 70, one part.
    assert call(client, "SendSms", send_params(params=["x", "a" * 57]))["SendStatusSet"][0]["Fee"] == 1
    # 71 characters: two parts of 67.
    assert call(client, "SendSms", send_params(params=["x", "a" * 58]))["SendStatusSet"][0]["Fee"] == 2
    # 135 characters: three parts.
    assert call(client, "SendSms", send_params(params=["x", "a" * 122]))["SendStatusSet"][0]["Fee"] == 3


def test_global_fee_counts_gsm7_or_ucs2(sandbox: Sandbox) -> None:
    client = common_client(sandbox)

    def fee(text: str, sign_name: str | None) -> int:
        answer = call(client, "SendSms", send_params([GLOBAL], params=["x", text], sign_name=sign_name))
        return int(answer["SendStatusSet"][0]["Fee"])

    # "[x] " is 6 septets ([ and ] are in the extension table): with 150 more, 156 fit one GSM-7 SMS.
    assert fee("a" * 150, None) == 1
    assert fee("a" * 155, None) == 2
    # 【 and 】 are not GSM-7: the signed text is UCS-2, "【Airflow】[x] " + 58 = 71 units, two SMS.
    assert fee("a" * 57, "Airflow") == 1
    assert fee("a" * 58, "Airflow") == 2


def test_global_numbers_need_no_signature_and_get_their_iso_code(sandbox: Sandbox) -> None:
    answer = call(common_client(sandbox), "SendSms", send_params([GLOBAL, "+85291234567"], sign_name=None))
    assert [(s["Code"], s["IsoCode"]) for s in answer["SendStatusSet"]] == [("Ok", "US"), ("Ok", "HK")]
    assert [m["text"] for m in messages(sandbox)] == ["[Airflow] a notification"] * 2


def test_invalid_numbers_fail_one_by_one(sandbox: Sandbox) -> None:
    numbers = [MAINLAND, "13800138000", "+86123", "+8613800138000 ", "not a number"]
    answer = call(common_client(sandbox), "SendSms", send_params(numbers))
    codes = [s["Code"] for s in answer["SendStatusSet"]]
    assert codes == ["Ok"] + ["InvalidParameterValue.IncorrectPhoneNumber"] * 4
    failed = answer["SendStatusSet"][1]
    assert (failed["SerialNo"], failed["Fee"], failed["PhoneNumber"]) == ("", 0, "13800138000")
    assert [m["phone_number"] for m in messages(sandbox)] == [MAINLAND]


def test_serial_numbers_are_unique_across_requests(sandbox: Sandbox) -> None:
    client = common_client(sandbox)
    numbers = [f"+86138{i:08d}" for i in range(200)]
    serials = [
        s["SerialNo"]
        for _ in range(3)
        for s in call(client, "SendSms", send_params(numbers))["SendStatusSet"]
    ]
    assert len(set(serials)) == 600


def test_concurrent_sends_are_all_recorded(sandbox: Sandbox) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def send(index: int) -> str:
        answer = call(common_client(sandbox), "SendSms", send_params([f"+86138{index:08d}"]))
        return str(answer["SendStatusSet"][0]["Code"])

    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(send, range(40))) == {"Ok"}
    assert len(sandbox.messages) == 40
    assert len({m["serial_no"] for m in sandbox.messages}) == 40


def test_inbox_can_be_cleared_over_http(sandbox: Sandbox) -> None:
    call(common_client(sandbox), "SendSms", send_params())
    assert requests.delete(sandbox.url + "/_sandbox/messages", timeout=5).status_code == 200
    assert messages(sandbox) == []
    assert sandbox.requests == []
