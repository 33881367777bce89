"""Answers that come from a gateway or proxy instead of Tencent Cloud: what the error says and implies."""

from __future__ import annotations

import pytest

from airflow_provider_tencent_sms.error_codes import classify
from airflow_provider_tencent_sms.exceptions import TencentSmsApiError
from airflow_provider_tencent_sms.hooks.sms import TencentSmsHook
from tests.helpers import use_connection


@pytest.fixture
def sandbox(tencent_sms_sandbox, monkeypatch):
    use_connection(monkeypatch, tencent_sms_sandbox)
    return tencent_sms_sandbox


def send_error(sandbox, **fault) -> TencentSmsApiError:
    sandbox.add_fault(count=1, **fault)
    with pytest.raises(TencentSmsApiError) as info:
        TencentSmsHook().send_sms(["+8613800138000"], "1002", ["a", "b"])
    return info.value


@pytest.mark.parametrize(("status", "process"), [(502, False), (504, True)])
def test_a_proxy_5xx_says_the_outcome_is_unknown_and_that_it_is_not_re_sent(sandbox, status, process):
    error = send_error(sandbox, http_status=status, process=process)
    text = str(error)
    assert error.code == f"HttpError.{status}" and error.http_status == status
    assert error.outcome_unknown and not error.retryable
    assert "unknown error code" not in text
    assert "gateway or proxy answered instead of Tencent" in text
    assert "may or may not have reached Tencent" in text
    assert "not re-sent" in text and "outcome unknown" in text
    # The sandbox processed the 504 one: exactly why it must not be re-sent.
    assert len(sandbox.messages) == (1 if process else 0)


def test_a_proxy_4xx_page_says_the_proxy_refused_it(sandbox):
    error = send_error(sandbox, http_status=403, body="<html><h1>Forbidden by policy</h1></html>")
    text = str(error)
    assert error.code == "HttpError.403" and not error.outcome_unknown and not error.retryable
    assert "unknown error code" not in text
    assert "gateway or proxy answered instead of Tencent" in text and "refused" in text
    assert "Forbidden by policy" in text  # the excerpt shows which proxy and why
    assert "not re-sent" in text


def test_a_200_that_is_not_tencent_json_is_outcome_unknown(sandbox):
    error = send_error(sandbox, http_status=200, body="<html>Welcome to the hotel Wi-Fi</html>")
    assert error.code == "InvalidResponse" and error.outcome_unknown
    assert "unknown error code" not in str(error) and "not re-sent" in str(error)


def test_the_classification_survives_pickling():
    import pickle

    error = pickle.loads(
        pickle.dumps(TencentSmsApiError("HttpError.503", "<html>", http_status=503, outcome_unknown=True))
    )
    assert "gateway or proxy" in str(error) and error.outcome_unknown
    assert classify("HttpError.599") is classify("HttpError.500")
    assert classify("HttpError.404") is classify("HttpError.400")
