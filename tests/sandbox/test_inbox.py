"""The inbox (JSON and HTML), the request log, keep-alive, and the pytest fixtures."""

from __future__ import annotations

import http.client
import json
import os
import time

import pytest
import requests

from airflow_provider_tencent_sms.connection import parse_connection
from airflow_provider_tencent_sms.sandbox import Sandbox

from .client import MAINLAND, MAINLAND_2, Raw, call, common_client, send_params


def test_html_inbox_lists_newest_first_and_escapes(sandbox: Sandbox) -> None:
    client = common_client(sandbox)
    call(client, "SendSms", send_params([MAINLAND], params=["first", "hello"]))
    call(client, "SendSms", send_params([MAINLAND_2], params=["second", "<script>alert('x')</script> & co"]))
    page = requests.get(sandbox.url + "/_sandbox/", timeout=5)
    assert page.status_code == 200
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    html = page.text
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; co" in html
    assert html.index(MAINLAND_2) < html.index(MAINLAND)
    assert requests.get(sandbox.url + "/_sandbox", timeout=5).text.startswith("<!DOCTYPE html>")


def test_empty_html_inbox(sandbox: Sandbox) -> None:
    assert "No messages yet." in requests.get(sandbox.url + "/_sandbox/", timeout=5).text


def test_request_log(sandbox: Sandbox, raw: Raw) -> None:
    before = time.monotonic()
    call(common_client(sandbox), "SendSms", send_params([MAINLAND, MAINLAND_2]))
    raw.post("{", action="SendSms", version="2019-07-11", region=None)
    first, second = sandbox.requests
    assert (first.action, first.api_version, first.number_count, first.outcome) == (
        "SendSms",
        "2021-01-11",
        2,
        "Ok",
    )
    assert before <= first.monotonic <= second.monotonic <= time.monotonic()
    assert (second.api_version, second.outcome) == ("2019-07-11", "FailedOperation.JsonParseFail")
    over_http = requests.get(sandbox.url + "/_sandbox/requests", timeout=5).json()
    assert [r["outcome"] for r in over_http] == ["Ok", "FailedOperation.JsonParseFail"]


def test_idle_keep_alive_connections_stay_open(sandbox: Sandbox) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", sandbox.port, timeout=5)
    conn.request("GET", "/_sandbox/messages")
    assert conn.getresponse().read() == b"[]"
    first_socket = conn.sock
    time.sleep(1.5)
    conn.request("GET", "/_sandbox/faults")
    response = conn.getresponse()
    assert (response.status, response.read()) == (200, b"[]")
    assert conn.sock is first_socket
    conn.close()


def test_stop_closes_idle_connections() -> None:
    sandbox = Sandbox().start()
    url = sandbox.url + "/_sandbox/messages"
    session = requests.Session()
    session.get(url, timeout=5)
    started = time.monotonic()
    sandbox.stop()
    assert time.monotonic() - started < 1
    with pytest.raises(requests.ConnectionError):
        session.get(url, timeout=2)


def test_connection_fixture_points_the_provider_at_the_sandbox(tencent_sms_connection: Sandbox) -> None:
    document = json.loads(os.environ["AIRFLOW_CONN_TENCENT_SMS_DEFAULT"])
    assert document == json.loads(tencent_sms_connection.connection_json())
    assert document["extra"] == {
        "region": "ap-guangzhou",
        "sms_sdk_app_id": "1400000000",
        "sign_name": "Airflow",
    }
    config = parse_connection(
        conn_id="tencent_sms_default",
        login=document["login"],
        password=document["password"],
        host=document["host"],
        extra=document["extra"],
    )
    assert config.endpoint == tencent_sms_connection.url + "/"
    assert config.secret_key == tencent_sms_connection.secret_key


def test_sandbox_repr_hides_the_key(sandbox: Sandbox) -> None:
    assert sandbox.secret_key not in repr(sandbox)
    assert sandbox.url in repr(sandbox)


def test_html_inbox_shows_the_newest_500(sandbox: Sandbox) -> None:
    client = common_client(sandbox)
    for batch in range(3):
        call(client, "SendSms", send_params([f"+86138{batch}{i:07d}" for i in range(200)]))
    html = requests.get(sandbox.url + "/_sandbox/", timeout=5).text
    assert "500 of 600 messages" in html
    assert html.count("<tr><td>") == 500
    assert "+8613820000199" in html and "+8613800000099" not in html
    assert html.index("+8613820000199") < html.index("+8613820000000")
