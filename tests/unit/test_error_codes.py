"""Every code in Tencent's lists (and the seed document) has a deliberate classification."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from airflow_provider_tencent_sms.error_codes import ERROR_CODES, Disposition, classify
from airflow_provider_tencent_sms.exceptions import TencentSmsApiError

SPECS = Path(__file__).resolve().parents[3] / "shared" / "specs"
SEED = SPECS / "000_79049fffe96e8457.txt"


def _spec_codes() -> list[str]:
    codes = set()
    for path in SPECS.glob("error-codes-*.txt"):
        codes.update(line.strip() for line in path.read_text().splitlines() if line.strip())
    # The seed's error section: one code at the start of each line, as Tencent spells it there.
    section = SEED.read_text().split("6. Error Code", 1)[1]
    codes.update(re.findall(r"^\s*([A-Z][A-Za-z]+\.[A-Za-z.]*)\s", section, flags=re.MULTILINE))
    return sorted(codes)


SPEC_CODES = _spec_codes()


def test_the_spec_files_are_read():
    # 30 common + the two SMS lists + the seed's spellings; a broken path would make the walk below vacuous.
    assert len(SPEC_CODES) > 120


@pytest.mark.parametrize("code", SPEC_CODES)
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
