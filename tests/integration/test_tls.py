"""HTTPS as in production: the sandbox serves TLS with a test CA, and both clients verify it."""

from __future__ import annotations

from pathlib import Path

import pytest
from airflow.sdk.exceptions import AirflowException

from airflow_provider_tencent_sms.exceptions import RequestNotSentError
from airflow_provider_tencent_sms.hooks.sms import TencentSmsHook
from airflow_provider_tencent_sms.operators.sms import SendSmsOperator
from airflow_provider_tencent_sms.task_state import InMemoryTaskState
from tests.dags.sms_scenarios import numbers
from tests.helpers import use_connection


@pytest.fixture
def sandbox(tencent_sms_tls_sandbox, monkeypatch):
    for variable in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE"):
        monkeypatch.delenv(variable, raising=False)
    return tencent_sms_tls_sandbox


def operator(count: int, **kwargs) -> SendSmsOperator:
    return SendSmsOperator(
        task_id="send", phone_numbers=numbers(count), template_id="1002", template_params=["a", "b"], **kwargs
    )


def test_the_sandbox_serves_https_with_a_ca_of_its_own(sandbox):
    assert sandbox.url.startswith("https://127.0.0.1:")
    assert sandbox.ca_path is not None and Path(sandbox.ca_path).read_text().startswith(
        "-----BEGIN CERTIFICATE"
    )


def test_bulk_send_over_https_verified_with_the_connections_ca_bundle(sandbox, monkeypatch):
    use_connection(monkeypatch, sandbox)  # the sandbox's connection carries ca_bundle
    summary = operator(1000).execute({"task_state_store": InMemoryTaskState()})
    assert summary["sent"] == 1000
    assert len({m["phone_number"] for m in sandbox.messages}) == 1000 == len(sandbox.messages)


def test_single_call_over_https_verified_with_requests_ca_bundle(sandbox, monkeypatch):
    use_connection(monkeypatch, sandbox, ca_bundle=None)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", sandbox.ca_path)
    (status,) = TencentSmsHook().send_sms(["+8613800138000"], "1002", ["a", "b"])
    assert status.ok


def test_without_the_ca_the_hook_does_not_send_and_says_why(sandbox, monkeypatch):
    use_connection(monkeypatch, sandbox, ca_bundle=None)
    with pytest.raises(RequestNotSentError, match=r"could not be verified.*ca_bundle"):
        TencentSmsHook().send_sms(["+8613800138000"], "1002", ["a", "b"])
    assert sandbox.messages == []


def test_without_the_ca_the_bulk_send_sends_nothing_and_says_why(sandbox, monkeypatch):
    use_connection(monkeypatch, sandbox, ca_bundle=None)
    with pytest.raises(AirflowException, match=r"could not be verified.*ca_bundle"):
        operator(400, request_attempts=1).execute({"task_state_store": InMemoryTaskState()})
    assert sandbox.messages == []


def test_a_ca_bundle_that_is_not_a_file_is_a_clear_connection_error(sandbox, monkeypatch):
    use_connection(monkeypatch, sandbox, ca_bundle="/nonexistent/ca.pem")
    with pytest.raises(AirflowException, match="not a readable file"):
        operator(1).execute({"task_state_store": InMemoryTaskState()})
