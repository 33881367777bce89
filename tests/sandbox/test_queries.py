"""The read-only actions, through the official SDK's typed clients."""

from __future__ import annotations

import time
from datetime import datetime
from zoneinfo import ZoneInfo

import time_machine
from tencentcloud.sms.v20190711 import models as models_2019
from tencentcloud.sms.v20210111 import models as models_2021

from airflow_provider_tencent_sms.sandbox import Sandbox

from .client import (
    GLOBAL,
    MAINLAND,
    MAINLAND_2,
    call,
    common_client,
    sdk_2019,
    sdk_2021,
    sdk_error,
    send_params,
)

BEIJING = ZoneInfo("Asia/Shanghai")


def test_describe_phone_number_info(sandbox: Sandbox) -> None:
    request = models_2021.DescribePhoneNumberInfoRequest()
    request.PhoneNumberSet = [MAINLAND, "+85291234567", "13800138000"]
    infos = sdk_2021(sandbox).DescribePhoneNumberInfo(request).PhoneNumberInfoSet
    assert [(i.Code, i.NationCode, i.SubscriberNumber, i.IsoCode, i.IsoName) for i in infos] == [
        ("Ok", "86", "13800138000", "CN", "China"),
        ("Ok", "852", "91234567", "HK", "Hong Kong, China"),
        ("InvalidParameterValue.IncorrectPhoneNumber", "", "", "DEF", ""),
    ]
    assert infos[2].PhoneNumber == "13800138000"
    assert sandbox.messages == []
    client = common_client(sandbox)
    assert sdk_error(lambda: client.call_json("DescribePhoneNumberInfo", {"PhoneNumberSet": []})) == (
        "MissingParameter.EmptyPhoneNumberSet"
    )


def test_pull_send_status_returns_each_receipt_once(sandbox: Sandbox) -> None:
    call(common_client(sandbox), "SendSms", send_params([MAINLAND, MAINLAND_2], SessionContext="ctx"))
    client = sdk_2021(sandbox)
    request = models_2021.PullSmsSendStatusRequest()
    request.SmsSdkAppId = sandbox.sms_sdk_app_id
    request.Limit = 1
    (first,) = client.PullSmsSendStatus(request).PullSmsSendStatusSet
    assert (first.PhoneNumber, first.CountryCode, first.SubscriberNumber) == (MAINLAND, "86", "13800138000")
    assert (first.ReportStatus, first.SessionContext) == ("SUCCESS", "ctx")
    assert first.SerialNo == sandbox.messages[0]["serial_no"]
    request.Limit = 100
    assert [r.PhoneNumber for r in client.PullSmsSendStatus(request).PullSmsSendStatusSet] == [MAINLAND_2]
    assert client.PullSmsSendStatus(request).PullSmsSendStatusSet == []
    request.Limit = 101
    assert sdk_error(lambda: client.PullSmsSendStatus(request)) == "InvalidParameterValue.LimitVerifyFail"


def test_pull_send_status_2019_fields(sandbox: Sandbox) -> None:
    with time_machine.travel(datetime(2024, 5, 1, 9, 15, 0, tzinfo=BEIJING), tick=False):
        call(common_client(sandbox), "SendSms", send_params([MAINLAND]))
        request = models_2019.PullSmsSendStatusRequest()
        request.SmsSdkAppid = sandbox.sms_sdk_app_id
        request.Limit = 10
        (receipt,) = sdk_2019(sandbox).PullSmsSendStatus(request).PullSmsSendStatusSet
    assert receipt.UserReceiveTime == "2024-05-01 09:15:00"
    assert receipt.UserReceiveUnixTime == int(datetime(2024, 5, 1, 9, 15, tzinfo=BEIJING).timestamp())
    assert (receipt.NationCode, receipt.PurePhoneNumber, receipt.PhoneNumber) == (
        "86",
        MAINLAND,
        "13800138000",
    )


def test_pull_send_status_by_phone_number(sandbox: Sandbox) -> None:
    client = common_client(sandbox)
    begin = int(time.time()) - 60
    for numbers in ([MAINLAND], [MAINLAND_2], [MAINLAND]):
        call(client, "SendSms", send_params(numbers))
    request = models_2021.PullSmsSendStatusByPhoneNumberRequest()
    request.SmsSdkAppId = sandbox.sms_sdk_app_id
    request.PhoneNumber = MAINLAND
    request.BeginTime = begin
    request.Offset = 0
    request.Limit = 10
    receipts = sdk_2021(sandbox).PullSmsSendStatusByPhoneNumber(request).PullSmsSendStatusSet
    assert [r.SerialNo for r in receipts] == [
        m["serial_no"] for m in sandbox.messages if m["phone_number"] == MAINLAND
    ]
    request.Offset = 1
    assert len(sdk_2021(sandbox).PullSmsSendStatusByPhoneNumber(request).PullSmsSendStatusSet) == 1
    request.Offset, request.EndTime = 0, begin
    assert sdk_2021(sandbox).PullSmsSendStatusByPhoneNumber(request).PullSmsSendStatusSet == []


def test_send_status_statistics_by_beijing_hour(sandbox: Sandbox) -> None:
    client = common_client(sandbox)
    with time_machine.travel(datetime(2024, 5, 1, 9, 30, tzinfo=BEIJING), tick=False):
        call(client, "SendSms", send_params([MAINLAND, MAINLAND_2, "bad"]))
        call(client, "SendSms", send_params([MAINLAND], params=["x", "y" * 100]))  # 2 parts
    with time_machine.travel(datetime(2024, 5, 1, 11, 0, tzinfo=BEIJING), tick=False):
        call(client, "SendSms", send_params([MAINLAND]))
        request = models_2021.SendStatusStatisticsRequest()
        request.SmsSdkAppId = sandbox.sms_sdk_app_id
        request.BeginTime, request.EndTime = "2024050109", "2024050110"
        request.Limit = request.Offset = 0
        stats = sdk_2021(sandbox).SendStatusStatistics(request).SendStatusStatistics
        assert (stats.FeeCount, stats.RequestCount, stats.RequestSuccessCount) == (4, 4, 3)
        request.EndTime = "2024050111"
        assert sdk_2021(sandbox).SendStatusStatistics(request).SendStatusStatistics.RequestCount == 5
        request.EndTime = "2024050108"
        assert sdk_error(lambda: sdk_2021(sandbox).SendStatusStatistics(request)) == (
            "InvalidParameterValue.EndTimeVerifyFail"
        )
        old = models_2019.SendStatusStatisticsRequest()
        old.SmsSdkAppid = sandbox.sms_sdk_app_id
        old.StartDateTime, old.EndDataTime = 2024050100, 2024050123
        old.Limit = old.Offset = 0
        assert sdk_2019(sandbox).SendStatusStatistics(old).SendStatusStatistics.RequestSuccessCount == 4


def test_template_list(sandbox: Sandbox) -> None:
    request = models_2021.DescribeSmsTemplateListRequest()
    request.International = 0
    templates = sdk_2021(sandbox).DescribeSmsTemplateList(request).DescribeTemplateStatusSet
    assert [(t.TemplateId, t.StatusCode, t.International) for t in templates] == [
        (1001, 0, 3),
        (1002, 0, 3),
        (1003, 0, 3),
    ]
    assert templates[0].TemplateContent == "Your verification code is {1}, valid for {2} minutes."
    request.TemplateIdSet = [1003, 4242]
    assert [
        t.TemplateId for t in sdk_2021(sandbox).DescribeSmsTemplateList(request).DescribeTemplateStatusSet
    ] == [1003]
    old = models_2019.DescribeSmsTemplateListRequest()
    old.International, old.TemplateIdSet = 1, [1002]
    (template,) = sdk_2019(sandbox).DescribeSmsTemplateList(old).DescribeTemplateStatusSet
    assert (template.TemplateId, template.International, template.TemplateName) == (1002, 1, "Notification")


def test_sign_list(sandbox: Sandbox) -> None:
    request = models_2021.DescribeSmsSignListRequest()
    request.International = 0
    (sign,) = sdk_2021(sandbox).DescribeSmsSignList(request).DescribeSignListStatusSet
    assert (sign.SignId, sign.SignName, sign.StatusCode) == (1, "Airflow", 0)
    old = models_2019.DescribeSmsSignListRequest()
    old.International, old.SignIdSet = 0, [1, 2]
    assert [s.SignName for s in sdk_2019(sandbox).DescribeSmsSignList(old).DescribeSignListStatusSet] == [
        "Airflow"
    ]
    request.International = 2
    assert sdk_error(lambda: sdk_2021(sandbox).DescribeSmsSignList(request)) == (
        "InvalidParameterValue.InvalidInternational"
    )


def test_global_numbers_in_receipts(sandbox: Sandbox) -> None:
    call(common_client(sandbox), "SendSms", send_params([GLOBAL], sign_name=None))
    answer = call(common_client(sandbox), "PullSmsSendStatus", {"Limit": 10, "SmsSdkAppId": "1400000000"})
    (receipt,) = answer["PullSmsSendStatusSet"]
    assert (receipt["CountryCode"], receipt["SubscriberNumber"]) == ("1", "4155550100")
