"""TC3-HMAC-SHA256 verification: the official SDK's signatures pass, wrong ones get Tencent's codes."""

from __future__ import annotations

import json
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import time_machine
from tencentcloud.sms.v20210111 import models

from airflow_provider_tencent_sms.sandbox import Sandbox

from .client import MAINLAND, Raw, call, common_client, error_code, sdk_2021, sdk_error, send_params

BODY = json.dumps(send_params())
BEIJING = ZoneInfo("Asia/Shanghai")


def _send_request(sandbox: Sandbox) -> models.SendSmsRequest:
    request = models.SendSmsRequest()
    request.PhoneNumberSet = [MAINLAND]
    request.SmsSdkAppId = sandbox.sms_sdk_app_id
    request.TemplateId = "1002"
    request.SignName = "Airflow"
    request.TemplateParamSet = ["a", "b"]
    return request


def test_wrong_secret_key_is_a_signature_failure(sandbox: Sandbox) -> None:
    client = sdk_2021(sandbox, secret_key=sandbox.secret_key[:-1] + "x")
    assert sdk_error(lambda: client.SendSms(_send_request(sandbox))) == "AuthFailure.SignatureFailure"
    assert sandbox.messages == []
    assert [r.outcome for r in sandbox.requests] == ["AuthFailure.SignatureFailure"]


def test_unknown_secret_id(raw: Raw) -> None:
    assert error_code(raw.post(BODY, secret_id="AKIDsomeoneelse")) == "AuthFailure.SecretIdNotFound"


def test_missing_and_malformed_authorization(raw: Raw) -> None:
    assert error_code(raw.post(BODY, headers={"Authorization": None})) == "AuthFailure.InvalidAuthorization"
    for malformed in (
        "Bearer abc",
        "TC3-HMAC-SHA256 Credential=x",
        "TC3-HMAC-SHA256 Credential=a/b, SignedHeaders=content-type;host, Signature=00",
        "TC3-HMAC-SHA256 Credential=AKID/2024-01-01/sms/tc3_request, SignedHeaders=host, Signature=00",
        "TC3-HMAC-SHA256 garbage",
    ):
        response = raw.post(BODY, headers={"Authorization": malformed})
        assert error_code(response) == "AuthFailure.InvalidAuthorization", malformed


def test_timestamp_more_than_five_minutes_off_expires(raw: Raw) -> None:
    now = int(time.time())
    assert error_code(raw.post(BODY, timestamp=now - 301)) == "AuthFailure.SignatureExpire"
    assert error_code(raw.post(BODY, timestamp=now + 400)) == "AuthFailure.SignatureExpire"
    answer = raw.post(BODY, timestamp=now - 250).json()["Response"]
    assert answer["SendStatusSet"][0]["Code"] == "Ok"


def test_missing_timestamp(raw: Raw) -> None:
    assert error_code(raw.post(BODY, headers={"X-TC-Timestamp": None})) == "MissingParameter"


def test_body_changed_after_signing_fails(raw: Raw) -> None:
    tampered = BODY.replace("1002", "1001").encode()
    assert error_code(raw.post(BODY, sent_body=tampered)) == "AuthFailure.SignatureFailure"


def test_content_type_changed_after_signing_fails(raw: Raw) -> None:
    response = raw.post(BODY, headers={"Content-Type": "application/json; charset=utf-8"})
    assert error_code(response) == "AuthFailure.SignatureFailure"


def test_content_type_is_verified_as_received(raw: Raw) -> None:
    response = raw.post(BODY, content_type="application/json; charset=utf-8")
    assert response.json()["Response"]["SendStatusSet"][0]["Code"] == "Ok"


def test_extra_signed_headers_are_verified(raw: Raw) -> None:
    signed = {"X-TC-Action": "SendSms"}
    assert "SendStatusSet" in raw.post(BODY, signed_extra=signed).json()["Response"]
    tampered = raw.post(BODY, signed_extra=signed, headers={"X-TC-Action": "DescribeSmsSignList"})
    assert error_code(tampered) == "AuthFailure.SignatureFailure"


def test_signature_at_half_past_midnight_beijing_time(sandbox: Sandbox) -> None:
    # 00:30 in Beijing is 16:30 UTC the day before: the credential scope must carry the UTC date.
    with time_machine.travel(datetime(2024, 5, 1, 0, 30, tzinfo=BEIJING), tick=True):
        assert call(common_client(sandbox), "SendSms", send_params())["SendStatusSet"][0]["Code"] == "Ok"
        raw = Raw(sandbox)
        assert "SendStatusSet" in raw.post(BODY, date="2024-04-30").json()["Response"]
        assert error_code(raw.post(BODY, date="2024-05-01")) == "AuthFailure.SignatureFailure"


def test_signature_for_another_service_fails(raw: Raw) -> None:
    good = raw.post(BODY).request.headers["Authorization"]
    assert isinstance(good, str)
    other = good.replace("/sms/", "/cvm/")
    assert error_code(raw.post(BODY, headers={"Authorization": other})) == "AuthFailure.SignatureFailure"
