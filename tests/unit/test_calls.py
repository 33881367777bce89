"""The call layer both HTTP clients share: SendSms parameters, answers and network failures."""

from __future__ import annotations

import json

import pycurl
import pytest

from airflow_provider_tencent_sms.calls import (
    curl_failure,
    encode,
    fee_if_all_sent,
    read_answer,
    send_sms_params,
    send_status_items,
)
from airflow_provider_tencent_sms.connection import ConnectionConfig
from airflow_provider_tencent_sms.exceptions import (
    OutcomeUnknownError,
    RequestNotSentError,
    TencentSmsApiError,
)

CONFIG = ConnectionConfig(secret_id="AKIDx", secret_key="k", sms_sdk_app_id="1400000000", sign_name="Sig")
NUMBERS = ["+8613800000000", "+8613800000001"]


def ok(number: str, fee: object = 1) -> dict[str, object]:
    return {"PhoneNumber": number, "Code": "Ok", "Message": "send success", "Fee": fee, "SerialNo": "s"}


def test_params_use_the_wire_names_of_each_api_version():
    assert send_sms_params(CONFIG, NUMBERS, 1002, [1, "b"]) == {
        "PhoneNumberSet": NUMBERS,
        "SmsSdkAppId": "1400000000",
        "TemplateId": "1002",
        "TemplateParamSet": ["1", "b"],
        "SignName": "Sig",
    }
    old = ConnectionConfig(secret_id="AKIDx", secret_key="k", sms_sdk_app_id="1", api_version="2019-07-11")
    assert set(send_sms_params(old, NUMBERS, "1", [], sign_name="S")) == {
        "PhoneNumberSet",
        "SmsSdkAppid",
        "TemplateID",
        "TemplateParamSet",
        "Sign",
    }


def test_body_is_compact_utf8_json():
    params = {"TemplateParamSet": ["验证码"], "PhoneNumberSet": NUMBERS}
    assert encode(params) == json.dumps(params, ensure_ascii=False, separators=(",", ":")).encode()


def answer(items: list[dict[str, object]], **response: object) -> bytes:
    return json.dumps({"Response": {"SendStatusSet": items, "RequestId": "r", **response}}).encode()


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (200, answer([ok(NUMBERS[0]), ok(NUMBERS[1], 2)]), 3),
        (200, answer([ok(NUMBERS[1]), ok(NUMBERS[0])]), 2),  # any order
        (200, answer([ok(NUMBERS[0])]), None),  # a number missing
        (200, answer([ok(NUMBERS[0]), ok(NUMBERS[0])]), None),  # one number twice, the other missing
        (200, answer([ok(NUMBERS[0]), ok(NUMBERS[1]), ok("+8613800000002")]), None),  # one too many
        (
            200,
            answer([ok(NUMBERS[0]), {**ok(NUMBERS[1]), "Code": "LimitExceeded.PhoneNumberDailyLimit"}]),
            None,
        ),
        (200, answer([ok(NUMBERS[0]), {"PhoneNumber": NUMBERS[1], "Code": "Ok"}]), None),  # no Fee
        (200, answer([ok(NUMBERS[0]), ok(NUMBERS[1], None)]), None),
        (200, answer([ok(NUMBERS[0]), ok(NUMBERS[1], 1.5)]), None),
        (200, answer([ok(NUMBERS[0]), ok(NUMBERS[1])], Error={"Code": "InternalError"}), None),
        (502, answer([ok(NUMBERS[0]), ok(NUMBERS[1])]), None),  # a gateway's status: not an answer to trust
        (200, b'{"Response":{"RequestId":"r"}}', None),
        (200, b"<html>bad gateway</html>", None),
    ],
)
def test_the_all_sent_fast_path_takes_only_clean_answers(status, body, expected):
    assert fee_if_all_sent(status, body, NUMBERS) == expected


def test_answers_map_to_typed_errors():
    with pytest.raises(TencentSmsApiError) as refused:
        read_answer(
            200, b'{"Response":{"Error":{"Code":"RequestLimitExceeded","Message":"slow"},"RequestId":"r"}}'
        )
    assert (refused.value.code, refused.value.retryable, refused.value.outcome_unknown) == (
        "RequestLimitExceeded",
        True,
        False,
    )
    with pytest.raises(TencentSmsApiError) as proxy:
        read_answer(502, b"<html>bad gateway</html>")
    assert proxy.value.code == "HttpError.502" and proxy.value.outcome_unknown
    with pytest.raises(TencentSmsApiError) as garbled:
        send_status_items(read_answer(200, b'{"Response":{"RequestId":"r"}}'))
    assert garbled.value.code == "InvalidResponse" and garbled.value.outcome_unknown


@pytest.mark.parametrize(
    ("errno", "written", "kind"),
    [
        (pycurl.E_COULDNT_CONNECT, 0, RequestNotSentError),
        (pycurl.E_COULDNT_RESOLVE_HOST, 0, RequestNotSentError),
        (pycurl.E_SSL_CONNECT_ERROR, 0, RequestNotSentError),
        (pycurl.E_PEER_FAILED_VERIFICATION, 0, RequestNotSentError),
        (pycurl.E_OPERATION_TIMEDOUT, 0, RequestNotSentError),  # connect timeout: nothing written
        (pycurl.E_OPERATION_TIMEDOUT, 4200, OutcomeUnknownError),  # written, no answer in time
        (pycurl.E_GOT_NOTHING, 4200, OutcomeUnknownError),
        (pycurl.E_RECV_ERROR, 4200, OutcomeUnknownError),  # connection reset after writing
        (pycurl.E_SEND_FAIL_REWIND, 4200, OutcomeUnknownError),  # libcurl wanted to send it again
    ],
)
def test_curl_failures_tell_not_sent_from_unknown(errno, written, kind):
    error = curl_failure(errno, "message", written, "SendSms")
    assert type(error) is kind
    assert error.retryable is (kind is RequestNotSentError)
