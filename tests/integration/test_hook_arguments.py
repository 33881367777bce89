"""TencentSmsHook refuses arguments that would go out wrong, before anything is sent."""

from __future__ import annotations

import pytest

from airflow_provider_tencent_sms.hooks.sms import TencentSmsHook
from tests.helpers import use_connection


@pytest.fixture
def sandbox(tencent_sms_sandbox, monkeypatch):
    use_connection(monkeypatch, tencent_sms_sandbox)
    return tencent_sms_sandbox


@pytest.mark.parametrize("numbers", ["+8613900139000", b"+8613900139000"])
def test_one_number_as_a_bare_string_is_refused(sandbox, numbers):
    with pytest.raises(TypeError) as info:
        TencentSmsHook().send_sms(numbers, "1002", ["a", "b"])
    message = str(info.value)
    assert "phone_numbers" in message and type(numbers).__name__ in message
    assert "list" in message and "[" in message  # what to pass instead
    assert "+8613900139000" not in message and "+86139****9000" in message  # masked, as in logs
    assert sandbox.requests == []


@pytest.mark.parametrize("params", ["ab", b"ab"])
def test_template_params_as_a_bare_string_is_refused(sandbox, params):
    with pytest.raises(TypeError) as info:
        TencentSmsHook().send_sms(["+8613800138000"], "1002", params)
    message = str(info.value)
    assert "template_params" in message and type(params).__name__ in message and "list" in message
    assert sandbox.requests == []


@pytest.mark.parametrize(
    ("params", "position", "type_name"),
    [
        (["a", None], 1, "NoneType"),
        ([{"orders": 3}, "b"], 0, "dict"),
        (["a", True], 1, "bool"),
        (["a", ["nested"]], 1, "list"),
        (["a", b"bytes"], 1, "bytes"),
    ],
)
def test_parameters_that_are_not_text_or_numbers_are_refused(sandbox, params, position, type_name):
    with pytest.raises(TypeError) as info:
        TencentSmsHook().send_sms(["+8613800138000"], "1002", params)
    message = str(info.value)
    assert "template_params" in message
    assert f"[{position}]" in message and type_name in message
    assert "str" in message  # says what is accepted
    assert sandbox.requests == []


@pytest.mark.parametrize(
    ("numbers", "position", "type_name"),
    [(["+8613800138000", None], 1, "NoneType"), ([13800138000], 0, "int")],
)
def test_numbers_that_are_not_strings_are_refused(sandbox, numbers, position, type_name):
    with pytest.raises(TypeError) as info:
        TencentSmsHook().send_sms(numbers, "1002", ["a", "b"])
    message = str(info.value)
    assert "phone_numbers" in message and f"[{position}]" in message and type_name in message
    assert sandbox.requests == []


def test_numbers_and_text_parameters_go_out_as_written(sandbox):
    (status,) = TencentSmsHook().send_sms(("+8613800138000",), 1002, ("订单", 3))
    assert status.ok
    assert sandbox.messages[0]["template_params"] == ["订单", "3"]
    (status,) = TencentSmsHook().send_sms(iter(["+8613800138000"]), "1002", ["x", 2.5])
    assert status.ok and sandbox.messages[1]["template_params"] == ["x", "2.5"]
