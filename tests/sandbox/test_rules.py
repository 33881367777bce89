"""Each SendSms rule answered with the code Tencent uses, driven through the official SDK."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

from airflow_provider_tencent_sms.sandbox import FrequencyLimits, Sandbox

from .client import GLOBAL, MAINLAND, MAINLAND_2, call, common_client, sdk_error, send_params

BEIJING = ZoneInfo("Asia/Shanghai")


def _error(sandbox: Sandbox, version: str = "2021-01-11", **params: Any) -> str:
    client = common_client(sandbox, version, region="ap-guangzhou" if version == "2021-01-11" else "")
    return sdk_error(lambda: client.call_json("SendSms", send_params(**params)))


def _codes(sandbox: Sandbox, **params: Any) -> list[str]:
    answer = call(common_client(sandbox), "SendSms", send_params(**params))
    return [status["Code"] for status in answer["SendStatusSet"]]


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"numbers": [f"+86138{i:08d}" for i in range(201)]}, "LimitExceeded.PhoneNumberCountLimit"),
        ({"numbers": [MAINLAND, GLOBAL]}, "UnsupportedOperation.ContainDomesticAndInternationalPhoneNumber"),
        ({"numbers": []}, "MissingParameter.EmptyPhoneNumberSet"),
        ({"template_id": "9999"}, "FailedOperation.TemplateIncorrectOrUnapproved"),
        (
            {"template_id": "1001", "params": ["12ab56", "5"]},
            "InvalidParameterValue.TemplateParameterFormatError",
        ),
        (
            {"template_id": "1001", "params": ["1234567", "5"]},
            "InvalidParameterValue.TemplateParameterFormatError",
        ),
        ({"params": ["a"]}, "FailedOperation.TemplateParamSetNotMatchApprovedTemplate"),
        ({"params": ["a", "b", "c"]}, "FailedOperation.TemplateParamSetNotMatchApprovedTemplate"),
        (
            {"params": ["a", "see https://example.org/x"]},
            "InvalidParameterValue.ProhibitedUseUrlInTemplateParameter",
        ),
        ({"params": ["a", "visit www.example"]}, "InvalidParameterValue.ProhibitedUseUrlInTemplateParameter"),
        (
            {"params": ["a", "go to airflow.apache.org"]},
            "InvalidParameterValue.ProhibitedUseUrlInTemplateParameter",
        ),
        ({"sign_name": "Unapproved"}, "FailedOperation.SignatureIncorrectOrUnapproved"),
        ({"sign_name": None}, "FailedOperation.SignatureIncorrectOrUnapproved"),
        ({"SmsSdkAppId": "1400999999"}, "InvalidParameterValue.SdkAppIdNotExist"),
    ],
)
def test_request_errors(sandbox: Sandbox, params: dict[str, Any], code: str) -> None:
    assert _error(sandbox, **params) == code
    assert sandbox.messages == []
    assert [r.outcome for r in sandbox.requests] == [code]


def test_version_numbers_and_decimals_are_not_urls(sandbox: Sandbox) -> None:
    assert _codes(sandbox, params=["v1.2", "3.5 kg at 10:30, e.g. a.b"]) == ["Ok"]


def test_unknown_app_id_2019_uses_the_seed_spelling(sandbox: Sandbox) -> None:
    params = {
        "PhoneNumberSet": [MAINLAND],
        "SmsSdkAppid": "1400999999",
        "TemplateID": "1002",
        "Sign": "Airflow",
        "TemplateParamSet": ["a", "b"],
    }
    client = common_client(sandbox, "2019-07-11", region="")
    assert sdk_error(lambda: client.call_json("SendSms", params)) == "InvalidParameterValue.SdkAppidNotExist"


def test_no_parameter_length_limit_by_default(sandbox: Sandbox) -> None:
    assert _codes(sandbox, params=["a" * 40, "b" * 300]) == ["Ok"]


def test_parameter_length_limit_of_individual_accounts(make_sandbox: Any) -> None:
    limited = make_sandbox(param_length_limit=12)
    assert _codes(limited, params=["a" * 12, "数" * 12]) == ["Ok"]
    assert _error(limited, params=["a", "b" * 13]) == "InvalidParameterValue.TemplateParameterLengthLimit"


@pytest.mark.parametrize(("hour", "minute"), [(8, 0), (12, 30), (21, 59)])
def test_marketing_inside_the_beijing_window(sandbox: Sandbox, hour: int, minute: int) -> None:
    with time_machine.travel(datetime(2024, 5, 1, hour, minute, tzinfo=BEIJING), tick=True):
        assert _codes(sandbox, template_id="1003", params=["Sale!"]) == ["Ok"]


@pytest.mark.parametrize(("hour", "minute"), [(7, 59), (22, 0), (23, 30), (0, 30)])
def test_marketing_outside_the_beijing_window(sandbox: Sandbox, hour: int, minute: int) -> None:
    with time_machine.travel(datetime(2024, 5, 1, hour, minute, tzinfo=BEIJING), tick=True):
        assert (
            _error(sandbox, template_id="1003", params=["Sale!"])
            == "FailedOperation.MarketingSendTimeConstraint"
        )
        # Other templates are not restricted.
        assert _codes(sandbox) == ["Ok"]


def test_marketing_window_follows_the_configured_zone(make_sandbox: Any) -> None:
    utc_sandbox = make_sandbox(timezone="UTC")
    with time_machine.travel(datetime(2024, 5, 1, 23, 0, tzinfo=BEIJING), tick=True):  # 15:00 UTC
        assert _codes(utc_sandbox, template_id="1003", params=["Sale!"]) == ["Ok"]


def test_frequency_limits_are_off_by_default(sandbox: Sandbox) -> None:
    assert [_codes(sandbox)[0] for _ in range(12)] == ["Ok"] * 12


def test_thirty_second_limit_is_per_number(make_sandbox: Any) -> None:
    limited = make_sandbox(frequency_limits=True)
    start = datetime(2024, 5, 1, 10, 0, tzinfo=BEIJING)
    with time_machine.travel(start, tick=False) as clock:
        assert _codes(limited, numbers=[MAINLAND]) == ["Ok"]
        assert _codes(limited, numbers=[MAINLAND, MAINLAND_2]) == [
            "LimitExceeded.PhoneNumberThirtySecondLimit",
            "Ok",
        ]
        clock.shift(31)
        assert _codes(limited, numbers=[MAINLAND]) == ["Ok"]
    assert len(limited.messages) == 3


def test_a_number_twice_in_one_request_is_sent_once_under_limits(make_sandbox: Any) -> None:
    limited = make_sandbox(frequency_limits=True)
    assert _codes(limited, numbers=[MAINLAND, MAINLAND]) == [
        "Ok",
        "LimitExceeded.PhoneNumberThirtySecondLimit",
    ]
    assert len(limited.messages) == 1
    # Without limits, each occurrence is sent.
    assert _codes(make_sandbox(), numbers=[MAINLAND, MAINLAND]) == ["Ok", "Ok"]


def test_hourly_daily_and_same_content_limits(make_sandbox: Any) -> None:
    limited = make_sandbox(frequency_limits=FrequencyLimits(thirty_seconds=None))
    start = datetime(2024, 5, 1, 8, 0, tzinfo=BEIJING)
    with time_machine.travel(start, tick=False) as clock:
        results = [_codes(limited, params=["a", str(i)])[0] for i in range(6)]
        assert results == ["Ok"] * 5 + ["LimitExceeded.PhoneNumberOneHourLimit"]
        clock.shift(timedelta(minutes=61))
        assert [_codes(limited, params=["b", str(i)])[0] for i in range(5)] == ["Ok"] * 5
        clock.shift(timedelta(minutes=61))
        assert _codes(limited, params=["c", "new"]) == ["LimitExceeded.PhoneNumberDailyLimit"]
        # A new Beijing day starts at 16:00 UTC.
        clock.move_to(datetime(2024, 5, 2, 0, 1, tzinfo=BEIJING))
        same = [_codes(limited, params=["d", "same"])[0] for _ in range(4)]
        assert same == ["Ok"] * 3 + ["LimitExceeded.PhoneNumberSameContentDailyLimit"]


def test_missing_region_for_2021(sandbox: Sandbox) -> None:
    client = common_client(sandbox, region="")
    assert sdk_error(lambda: client.call_json("SendSms", send_params())) == "MissingParameter"
    # 2019-07-11 needs none.
    params = {
        "PhoneNumberSet": [MAINLAND],
        "SmsSdkAppid": "1400000000",
        "TemplateID": "1002",
        "Sign": "Airflow",
    }
    params["TemplateParamSet"] = ["a", "b"]
    assert (
        call(common_client(sandbox, "2019-07-11", region=""), "SendSms", params)["SendStatusSet"][0]["Code"]
        == "Ok"
    )


def test_custom_templates(make_sandbox: Any) -> None:
    custom = make_sandbox(
        templates={
            "signatures": ["Ops"],
            "templates": {
                "7": {"type": "notification", "content": "{1} is {2}; {1} again", "scope": "global"},
                "8": {"type": "notification", "content": "Mainland only", "scope": "mainland"},
            },
        }
    )
    assert _codes(custom, numbers=[GLOBAL], template_id="7", params=["x", "y"], sign_name=None) == ["Ok"]
    assert custom.messages[0]["text"] == "x is y; x again"
    assert _error(custom, template_id="7", params=["x", "y"], sign_name="Ops") == (
        "UnsupportedOperation.GlobalTemplateToChineseMainlandPhone"
    )
    assert _error(custom, numbers=[GLOBAL], template_id="8", params=[]) == (
        "UnsupportedOperation.ChineseMainlandTemplateToGlobalPhone"
    )
    assert _error(custom, template_id="1002") == "FailedOperation.TemplateIncorrectOrUnapproved"
