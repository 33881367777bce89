"""TencentSmsHook over real HTTP against the sandbox (which is itself checked with the official SDK)."""

from __future__ import annotations

import logging
import socket
import subprocess
import sys
import time
from datetime import datetime, timezone
from urllib.parse import quote

import pytest
import time_machine

from airflow_provider_tencent_sms.exceptions import (
    OutcomeUnknownError,
    RequestNotSentError,
    TencentSmsApiError,
)
from airflow_provider_tencent_sms.hooks.sms import TencentSmsHook
from tests.helpers import use_connection

WRONG_KEY = "wrong-key-that-must-never-be-logged"


@pytest.fixture
def sandbox(tencent_sms_sandbox, monkeypatch):
    use_connection(monkeypatch, tencent_sms_sandbox)
    return tencent_sms_sandbox


@pytest.fixture
def debug_logs(caplog):
    caplog.set_level(logging.DEBUG)
    for name in ("urllib3", "urllib3.connectionpool", "airflow", "airflow_provider_tencent_sms"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    return caplog


@pytest.mark.parametrize("api_version", ["2021-01-11", "2019-07-11"])
def test_send_sms_on_both_api_versions(sandbox, monkeypatch, api_version):
    use_connection(monkeypatch, sandbox, api_version=api_version)
    statuses = TencentSmsHook().send_sms(
        ["+8613800138000", "+8613900139000"], "1002", ["订单", "已发货 ✓"], session_context="ctx-1"
    )
    assert [s.ok for s in statuses] == [True, True]
    assert {s.phone_number for s in statuses} == {"+8613800138000", "+8613900139000"}
    assert all(
        s.serial_no and s.fee == 1 and s.iso_code == "CN" and s.session_context == "ctx-1" for s in statuses
    )
    messages = sandbox.messages
    assert len(messages) == 2
    assert {m["api_version"] for m in messages} == {api_version}
    assert all(m["text"].endswith("[订单] 已发货 ✓") for m in messages)
    assert all(m["sign_name"] == "Airflow" for m in messages)


@pytest.mark.parametrize("api_version", ["2021-01-11", "2019-07-11"])
def test_signature_accepted_at_half_past_midnight_beijing_time(sandbox, monkeypatch, api_version):
    use_connection(monkeypatch, sandbox, api_version=api_version)
    # 00:30 on the 25th in Beijing is still the 24th in UTC: the credential date must be the UTC one.
    with time_machine.travel(datetime(2026, 11, 24, 16, 30, tzinfo=timezone.utc), tick=True):
        (status,) = TencentSmsHook().send_sms(["+8613800138000"], "1002", ["夜间", "批处理"])
    assert status.ok


def test_connection_given_as_uri(sandbox, monkeypatch):
    host = quote(sandbox.url, safe="")
    uri = (
        f"tencent-sms://{sandbox.secret_id}:{quote(sandbox.secret_key, safe='')}@{host}/"
        f"?region=ap-guangzhou&sms_sdk_app_id={sandbox.sms_sdk_app_id}&sign_name=Airflow"
    )
    monkeypatch.setenv("AIRFLOW_CONN_TENCENT_SMS_URI", uri)
    hook = TencentSmsHook("tencent_sms_uri")
    assert hook.config.endpoint == sandbox.url.rstrip("/") + "/"
    assert hook.send_sms(["+8613800138000"], "1002", ["a", "b"])[0].ok


def test_per_number_failure_leaves_the_others_sent(sandbox):
    sandbox.add_fault(
        recipient_code="FailedOperation.PhoneNumberInBlacklist", phone_numbers=["+8613800138001"]
    )
    statuses = TencentSmsHook().send_sms(["+8613800138000", "+8613800138001"], "1002", ["a", "b"])
    by_number = {s.phone_number: s for s in statuses}
    assert by_number["+8613800138000"].ok
    assert by_number["+8613800138001"].code == "FailedOperation.PhoneNumberInBlacklist"
    assert not by_number["+8613800138001"].ok
    assert [m["phone_number"] for m in sandbox.messages] == ["+8613800138000"]


def test_whole_request_error_is_typed_and_terminal(sandbox):
    with pytest.raises(TencentSmsApiError) as info:
        TencentSmsHook().send_sms(["+8613800138000"], "9999", ["a", "b"])
    error = info.value
    assert error.code == "FailedOperation.TemplateIncorrectOrUnapproved"
    assert error.request_id
    assert not error.retryable
    assert not error.outcome_unknown
    assert sandbox.messages == []


def test_transient_error_is_retryable(sandbox):
    sandbox.add_fault(code="InternalError.Timeout", count=1)
    with pytest.raises(TencentSmsApiError) as info:
        TencentSmsHook().send_sms(["+8613800138000"], "1002", ["a", "b"])
    assert info.value.retryable


def test_wrong_secret_key_fails_signature_and_is_never_logged(sandbox, monkeypatch, debug_logs):
    use_connection(monkeypatch, sandbox, secret_key=WRONG_KEY)
    hook = TencentSmsHook()
    with pytest.raises(TencentSmsApiError) as info:
        hook.send_sms(["+8613800138000"], "1002", ["a", "b"])
    error = info.value
    assert error.code == "AuthFailure.SignatureFailure"
    assert error.retryable is False
    for text in (
        str(error),
        repr(error),
        repr(hook),
        repr(hook.config),
        repr(hook.session.auth),
        debug_logs.text,
    ):
        assert WRONG_KEY not in text
    ok, message = hook.test_connection()
    assert not ok
    assert "AuthFailure.SignatureFailure" in message and "SecretKey" in message
    assert WRONG_KEY not in message + debug_logs.text


def test_secrets_stay_out_of_debug_logs_on_success(sandbox, monkeypatch, debug_logs):
    use_connection(monkeypatch, sandbox, token="temporary-token-value")
    hook = TencentSmsHook()
    hook.send_sms(["+8613800138000"], "1002", ["a", "b"])
    assert "urllib3" in debug_logs.text or any(r.name.startswith("urllib3") for r in debug_logs.records)
    for secret in (sandbox.secret_key, "temporary-token-value"):
        assert secret not in debug_logs.text
        assert secret not in repr(hook.config)


def test_proxy_html_page_is_an_api_error_with_an_excerpt(sandbox):
    sandbox.add_fault(http_status=502, count=1)
    with pytest.raises(TencentSmsApiError) as info:
        TencentSmsHook().send_sms(["+8613800138000"], "1002", ["a", "b"])
    error = info.value
    assert error.code == "HttpError.502"
    assert error.http_status == 502
    assert error.outcome_unknown and not error.retryable
    assert "<" in error.message and len(error.message) < 400


def test_read_timeout_is_outcome_unknown(sandbox, monkeypatch):
    use_connection(monkeypatch, sandbox, timeout=0.3)
    sandbox.add_fault(latency_ms=1500, count=1)
    with pytest.raises(OutcomeUnknownError) as info:
        TencentSmsHook().send_sms(["+8613800138000"], "1002", ["a", "b"])
    assert info.value.outcome_unknown and not info.value.retryable


def test_dropped_connection_after_processing_is_outcome_unknown(sandbox):
    sandbox.add_fault(drop_connection=True, count=1)
    with pytest.raises(OutcomeUnknownError):
        TencentSmsHook().send_sms(["+8613800138000"], "1002", ["a", "b"])
    # The sandbox did send it: exactly why such a request must not be re-sent blindly.
    assert len(sandbox.messages) == 1


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_refused_connection_is_not_sent_and_retryable(sandbox, monkeypatch):
    use_connection(monkeypatch, sandbox, host=f"http://127.0.0.1:{_free_port()}")
    with pytest.raises(RequestNotSentError) as info:
        TencentSmsHook().send_sms(["+8613800138000"], "1002", ["a", "b"])
    assert info.value.retryable and not info.value.outcome_unknown
    ok, message = TencentSmsHook().test_connection()
    assert not ok and "Could not reach" in message


@pytest.mark.parametrize("count", [0, 201])
def test_batch_size_is_checked_before_sending(sandbox, count):
    numbers = [f"+86138{i:08d}" for i in range(count)]
    with pytest.raises(ValueError, match=r"at least one|at most 200"):
        TencentSmsHook().send_sms(numbers, "1002", ["a", "b"])
    assert sandbox.requests == []


def test_test_connection_succeeds_and_sends_nothing(sandbox):
    ok, message = TencentSmsHook().test_connection()
    assert ok, message
    assert sandbox.messages == []


def test_missing_connection_fields_give_a_clear_error(sandbox, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_TENCENT_SMS_BROKEN", '{"conn_type": "tencent_sms", "login": "AKID"}')
    ok, message = TencentSmsHook("tencent_sms_broken").test_connection()
    assert not ok
    assert "no SecretKey" in message


def test_clock_skew_is_reported_as_signature_expire(monkeypatch, tmp_path):
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "airflow_provider_tencent_sms.sandbox", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        banner = ""
        conn_line = None
        while conn_line is None and server.stdout is not None:
            line = server.stdout.readline()
            banner += line
            if "AIRFLOW_CONN_TENCENT_SMS_DEFAULT" in line:
                conn_line = line
        assert conn_line is not None, banner
        value = conn_line.split("=", 1)[1].strip().strip("'")
        monkeypatch.setenv("AIRFLOW_CONN_TENCENT_SMS_DEFAULT", value)
        # This process's clock runs 10 minutes fast; the sandbox process keeps the real time.
        with time_machine.travel(time.time() + 600, tick=True):
            ok, message = TencentSmsHook().test_connection()
        assert not ok
        assert "AuthFailure.SignatureExpire" in message and "clock" in message
    finally:
        server.terminate()
        server.wait(timeout=10)
