"""Every code Tencent documents (its three lists and the SendSms reference) has a deliberate classification."""

from __future__ import annotations

from pathlib import Path

import pytest

from airflow_provider_tencent_sms.error_codes import ERROR_CODES, Disposition, classify
from airflow_provider_tencent_sms.exceptions import TencentSmsApiError

#: Tencent's published lists, written down as project data (its header says where each section comes from).
DOCUMENTED_CODES_FILE = Path(__file__).parent / "data" / "documented_error_codes.txt"


def _documented_codes() -> list[str]:
    lines = (line.strip() for line in DOCUMENTED_CODES_FILE.read_text().splitlines())
    return sorted({line for line in lines if line and not line.startswith("#")})


DOCUMENTED_CODES = _documented_codes()


def test_the_documented_codes_are_read():
    # 31 common codes + the two SMS lists + the SendSms reference's spellings: 131 distinct codes. A broken file
    # would make the walk below vacuous.
    assert len(DOCUMENTED_CODES) == 131
    assert all(" " not in code for code in DOCUMENTED_CODES)


@pytest.mark.parametrize("code", DOCUMENTED_CODES)
def test_every_documented_code_is_in_the_table(code):
    assert code in ERROR_CODES, f"{code} has no deliberate classification"


@pytest.mark.parametrize(
    ("code", "disposition"),
    [
        ("InternalError.Timeout", Disposition.TRANSIENT),
        ("RequestLimitExceeded", Disposition.TRANSIENT),
        ("RequestLimitExceeded.UinLimitExceeded", Disposition.TRANSIENT),
        ("AuthFailure.SignatureFailure", Disposition.TERMINAL),
        ("AuthFailure.SecretIdNotFound", Disposition.TERMINAL),
        ("FailedOperation.TemplateIncorrectOrUnapproved", Disposition.TERMINAL),
        ("FailedOperation.SignatureIncorrectOrUnapproved", Disposition.TERMINAL),
        ("FailedOperation.InsufficientBalanceInSmsPackage", Disposition.TERMINAL),
        ("UnauthorizedOperation.SmsSdkAppIdVerifyFail", Disposition.TERMINAL),
        ("FailedOperation.PhoneNumberInBlacklist", Disposition.RECIPIENT_TERMINAL),
        ("InvalidParameterValue.IncorrectPhoneNumber", Disposition.RECIPIENT_TERMINAL),
        ("LimitExceeded.PhoneNumberDailyLimit", Disposition.RECIPIENT_TERMINAL),
        ("LimitExceeded.PhoneNumberThirtySecondLimit", Disposition.RECIPIENT_TRANSIENT),
        ("FailedOperation.MarketingSendTimeConstraint", Disposition.OUTSIDE_SEND_WINDOW),
    ],
)
def test_known_codes(code, disposition):
    assert classify(code).disposition is disposition


def test_transient_codes_say_when_to_retry():
    for code, cls in ERROR_CODES.items():
        if cls.retryable:
            assert cls.retry_after > 0, code
        else:
            assert cls.retry_after == 0, code


def test_unknown_codes_fall_back_on_their_family_and_otherwise_are_terminal():
    assert classify("InternalError.SomethingNew").disposition is Disposition.TRANSIENT
    assert classify("RequestLimitExceeded.NewLimit").disposition is Disposition.TRANSIENT
    assert classify("FailedOperation.SomethingNew").disposition is Disposition.TERMINAL
    assert classify("NoDotsAtAll").disposition is Disposition.TERMINAL
    assert classify("").disposition is Disposition.TERMINAL


def test_api_error_is_retryable_only_for_transient_codes_with_a_known_outcome():
    assert TencentSmsApiError("InternalError.Timeout", "x").retryable
    assert not TencentSmsApiError("AuthFailure.SignatureFailure", "x").retryable
    assert not TencentSmsApiError("InternalError.Timeout", "x", outcome_unknown=True).retryable


def test_api_error_message_names_code_hint_and_request_id():
    err = TencentSmsApiError("AuthFailure.SignatureFailure", "signature mismatch", "req-1")
    assert str(err).startswith("AuthFailure.SignatureFailure: signature mismatch")
    assert "SecretKey" in str(err)
    assert "req-1" in str(err)


def test_api_error_survives_pickling():
    import pickle

    err = pickle.loads(pickle.dumps(TencentSmsApiError("InternalError.Timeout", "m", "r", http_status=502)))
    assert (err.code, err.message, err.request_id, err.http_status) == (
        "InternalError.Timeout",
        "m",
        "r",
        502,
    )
