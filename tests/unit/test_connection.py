"""Reading a ``tencent_sms`` connection: defaults, validation and clear errors."""

from __future__ import annotations

import json

import pytest

from airflow_provider_tencent_sms.connection import (
    ConnectionConfig,
    UnknownExtraKeyWarning,
    endpoint_url,
    parse_connection,
    transport,
)
from airflow_provider_tencent_sms.exceptions import InvalidConnectionError


def _parse(**kwargs):
    fields = {"conn_id": "c", "login": "AKIDid", "password": "key", "host": None, "extra": None}
    fields.update(kwargs)
    return parse_connection(**fields)


def test_defaults():
    config = _parse()
    assert config == ConnectionConfig(secret_id="AKIDid", secret_key="key")
    assert config.endpoint == "https://sms.tencentcloudapi.com/"
    assert (config.region, config.api_version, config.timeout) == ("ap-guangzhou", "2021-01-11", 10.0)


def test_all_extra_keys_as_json_text():
    extra = {
        "region": "ap-beijing",
        "sms_sdk_app_id": 1400006666,
        "sign_name": "腾讯云",
        "api_version": "2019-07-11",
        "token": "tok",
        "language": "en-US",
        "timeout": "2.5",
    }
    config = _parse(extra=json.dumps(extra))
    assert config.sms_sdk_app_id == "1400006666"
    assert (config.region, config.sign_name, config.api_version) == ("ap-beijing", "腾讯云", "2019-07-11")
    assert (config.token, config.language, config.timeout) == ("tok", "en-US", 2.5)


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("sms.ap-guangzhou.tencentcloudapi.com", "https://sms.ap-guangzhou.tencentcloudapi.com/"),
        ("https://sms.intl.tencentcloudapi.com", "https://sms.intl.tencentcloudapi.com/"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080/"),
        ("http://localhost:9/", "http://localhost:9/"),
        ("http://[::1]:8080", "http://[::1]:8080/"),
    ],
)
def test_endpoints(host, url):
    assert endpoint_url(host) == url


def test_port_from_the_connection_is_used_when_the_host_has_none():
    assert endpoint_url("127.0.0.1", 8080) == "https://127.0.0.1:8080/"
    assert endpoint_url("http://127.0.0.1", 8080) == "http://127.0.0.1:8080/"
    assert endpoint_url("http://127.0.0.1:9", 8080) == "http://127.0.0.1:9/"
    assert endpoint_url(None, None) == "https://sms.tencentcloudapi.com/"


@pytest.mark.parametrize("host", ["http://sms.tencentcloudapi.com", "http://10.0.0.5:8080"])
def test_plain_http_is_refused_off_loopback(host):
    with pytest.raises(InvalidConnectionError, match="plain http"):
        endpoint_url(host)


@pytest.mark.parametrize("host", ["ftp://x", "https://sms.tencentcloudapi.com/v2?x=1", "https://"])
def test_malformed_endpoints(host):
    with pytest.raises(InvalidConnectionError):
        endpoint_url(host)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"login": ""}, "no SecretId"),
        ({"password": None}, "no SecretKey"),
        ({"extra": "{not json"}, "not valid JSON"),
        ({"extra": "[1]"}, "JSON object"),
        ({"extra": {"api_version": "2017-03-12"}}, "api_version '2017-03-12' is not supported"),
        ({"extra": {"language": "fr-FR"}}, "language"),
        ({"extra": {"timeout": "soon"}}, "positive number"),
        ({"extra": {"timeout": 0}}, "positive number"),
        ({"extra": {"region": ["a"]}}, "must be a string"),
    ],
)
def test_bad_connections_say_what_to_fix(fields, message):
    with pytest.raises(InvalidConnectionError, match=message):
        _parse(**fields)


def test_errors_never_echo_the_secret_key():
    with pytest.raises(InvalidConnectionError) as info:
        _parse(password="s3cr3t-value", extra={"api_version": "bad"})
    assert "s3cr3t-value" not in str(info.value)


def test_unknown_extra_key_warns_with_its_name():
    with pytest.warns(UnknownExtraKeyWarning, match="sms_sdk_appid"):
        _parse(extra={"sms_sdk_appid": "1400"})


def test_repr_hides_key_and_token():
    config = _parse(password="hidden-key", extra={"token": "hidden-token"})
    assert "hidden-key" not in repr(config)
    assert "hidden-token" not in repr(config)


def test_transport_takes_the_ca_bundle_from_the_extra_before_the_environment(tmp_path):
    ours, theirs = tmp_path / "ours.pem", tmp_path / "theirs.pem"
    ours.write_text("pem")
    theirs.write_text("pem")
    environ = {"REQUESTS_CA_BUNDLE": str(theirs)}
    assert transport(_parse(extra={"ca_bundle": str(ours)}), environ).verify == str(ours)
    assert transport(_parse(), environ).verify == str(theirs)
    assert transport(_parse(), {"SSL_CERT_FILE": str(theirs)}).verify == str(theirs)
    assert transport(_parse(), {}).verify is True


def test_transport_refuses_a_ca_bundle_that_is_not_a_file(tmp_path):
    with pytest.raises(InvalidConnectionError, match="not a readable file"):
        transport(_parse(extra={"ca_bundle": str(tmp_path / "missing.pem")}), {})


def test_transport_reads_proxies_and_their_exceptions(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "localhost")
    settings = transport(_parse(host="sms.tencentcloudapi.com", extra={"timeout": 20}), {})
    assert settings.proxy == "http://proxy.example:3128"
    assert (settings.connect_timeout, settings.timeout, settings.host) == (
        5.0,
        20.0,
        "sms.tencentcloudapi.com",
    )
    assert transport(_parse(host="http://localhost:9000"), {}).proxy is None
