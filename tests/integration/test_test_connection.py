"""test_connection checks, read-only, the credentials, the SdkAppId and the default signature."""

from __future__ import annotations

import pytest

from airflow_provider_tencent_sms.hooks.sms import TencentSmsHook
from airflow_provider_tencent_sms.sandbox import Sandbox
from tests.helpers import use_connection

REGISTRY = {
    "signatures": ["Airflow", "Data Platform"],
    "unapproved_signatures": {"Pending Co": "in-review", "Spam Inc": "rejected"},
    "templates": {"1002": {"type": "notification", "content": "[{1}] {2}"}},
}


@pytest.fixture
def sandbox(monkeypatch):
    with Sandbox(templates=REGISTRY) as sandbox:
        use_connection(monkeypatch, sandbox)
        yield sandbox


def sends(sandbox) -> list[str]:
    return [r.action for r in sandbox.requests if r.action == "SendSms"]


@pytest.mark.parametrize("sign_name", ["Airflow", "Data Platform"])
def test_right_app_id_and_approved_signature_pass(sandbox, monkeypatch, sign_name):
    use_connection(monkeypatch, sandbox, sign_name=sign_name)
    ok, message = TencentSmsHook().test_connection()
    assert ok, message
    assert sandbox.sms_sdk_app_id in message and repr(sign_name) in message
    assert sends(sandbox) == [] and sandbox.messages == []


def test_wrong_app_id_fails_naming_sdk_app_id(sandbox, monkeypatch):
    use_connection(monkeypatch, sandbox, sms_sdk_app_id="1400999999")
    ok, message = TencentSmsHook().test_connection()
    assert not ok
    assert "SdkAppId" in message and "1400999999" in message
    assert "InvalidParameterValue.SdkAppIdNotExist" in message
    assert sends(sandbox) == []


@pytest.mark.parametrize(
    ("sign_name", "says"),
    [
        ("Unknown Ltd", "not one of the account's signatures"),
        ("Pending Co", "in review"),
        ("Spam Inc", "rejected"),
    ],
)
def test_unknown_or_unapproved_signature_fails_naming_it(sandbox, monkeypatch, sign_name, says):
    use_connection(monkeypatch, sandbox, sign_name=sign_name)
    ok, message = TencentSmsHook().test_connection()
    assert not ok
    assert f"signature {sign_name!r}" in message and says in message
    assert "SdkAppId" in message  # the app id was checked and is fine
    assert sends(sandbox) == []


def test_both_wrong_are_both_reported(sandbox, monkeypatch):
    use_connection(monkeypatch, sandbox, sms_sdk_app_id="1400999999", sign_name="Unknown Ltd")
    ok, message = TencentSmsHook().test_connection()
    assert not ok and "1400999999" in message and "'Unknown Ltd'" in message


def test_without_app_id_and_signature_only_the_credentials_are_checked(sandbox, monkeypatch):
    use_connection(monkeypatch, sandbox, sms_sdk_app_id="", sign_name="")
    ok, message = TencentSmsHook().test_connection()
    assert ok, message
    assert [r.action for r in sandbox.requests] == ["DescribePhoneNumberInfo"]


def test_signatures_beyond_the_first_page_are_found(monkeypatch):
    names = [f"Brand {i:03d}" for i in range(250)]
    with Sandbox(templates={"signatures": names, "templates": {}}) as sandbox:
        use_connection(monkeypatch, sandbox, sign_name="Brand 249")
        ok, message = TencentSmsHook().test_connection()
    assert ok, message


def test_the_unapproved_signature_is_refused_by_send_sms_too(sandbox, monkeypatch):
    from airflow_provider_tencent_sms.exceptions import TencentSmsApiError

    with pytest.raises(TencentSmsApiError, match="SignatureIncorrectOrUnapproved"):
        TencentSmsHook().send_sms(["+8613800138000"], "1002", ["a", "b"], sign_name="Pending Co")


@pytest.mark.parametrize(
    ("action", "what"), [("SendStatusStatistics", "SdkAppId"), ("DescribeSmsSignList", "signature")]
)
def test_a_check_the_account_may_not_run_is_reported_as_not_checked(sandbox, action, what):
    # E.g. a CAM policy that allows SendSms and DescribePhoneNumberInfo only: nothing is known to be wrong.
    sandbox.add_fault(code="AuthFailure.UnauthorizedOperation", action=action)
    ok, message = TencentSmsHook().test_connection()
    assert ok, message
    assert (
        f"{what} " in message and "not checked" in message and "AuthFailure.UnauthorizedOperation" in message
    )
