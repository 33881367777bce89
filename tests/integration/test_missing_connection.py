"""A connection id that is not defined anywhere: a clear InvalidConnectionError that says how to define it."""

from __future__ import annotations

import asyncio

import pytest

from airflow_provider_tencent_sms.exceptions import InvalidConnectionError
from airflow_provider_tencent_sms.hooks.sms import TencentSmsHook

CONN_ID = "tencent_sms_typo"


@pytest.fixture(autouse=True)
def no_such_connection(monkeypatch):
    monkeypatch.delenv(f"AIRFLOW_CONN_{CONN_ID.upper()}", raising=False)


def assert_says_how_to_define_it(message: str) -> None:
    assert repr(CONN_ID) in message
    assert "tencent_sms" in message and "AIRFLOW_CONN_TENCENT_SMS_TYPO" in message
    # The JSON form with its keys, without anything that looks like a real secret.
    for key in ('"conn_type"', '"login"', '"password"', '"extra"', '"sms_sdk_app_id"'):
        assert key in message


def test_config_names_the_connection_type_and_environment_variable():
    with pytest.raises(InvalidConnectionError) as info:
        _ = TencentSmsHook(CONN_ID).config
    assert_says_how_to_define_it(str(info.value))
    assert "isn't defined" not in str(info.value)


def test_aconfig_says_the_same():
    with pytest.raises(InvalidConnectionError) as info:
        asyncio.run(TencentSmsHook(CONN_ID).aconfig())
    assert_says_how_to_define_it(str(info.value))


def test_test_connection_reports_it():
    ok, message = TencentSmsHook(CONN_ID).test_connection()
    assert not ok
    assert_says_how_to_define_it(message)
