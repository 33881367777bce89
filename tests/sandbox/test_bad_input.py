"""Bad input never crashes the sandbox: each gets the API's error envelope, and the next request works."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pytest
import requests

from airflow_provider_tencent_sms.sandbox import Sandbox

from .client import Raw, call, common_client, error_code, sdk_error, send_params

GOOD = json.dumps(send_params())


@pytest.fixture(autouse=True)
def still_serving(sandbox: Sandbox) -> Iterator[None]:
    yield
    assert call(common_client(sandbox), "SendSms", send_params())["SendStatusSet"][0]["Code"] == "Ok"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b'{"PhoneNumberSet": ["+8613800138000"', "FailedOperation.JsonParseFail"),
        (b"", "FailedOperation.JsonParseFail"),
        (b"\xff\xfe\x00garbage", "FailedOperation.JsonParseFail"),
        (b"[" * 100_000 + b"]" * 100_000, "FailedOperation.JsonParseFail"),
        (b"[1, 2]", "InvalidParameter"),
        (b"null", "InvalidParameter"),
        (json.dumps(send_params(numbers="+8613800138000")), "InvalidParameter"),  # type: ignore[arg-type]
        (json.dumps(send_params(params=[1, 2])), "InvalidParameter"),  # type: ignore[list-item]
        (json.dumps(send_params(template_id=1002)), "InvalidParameter"),  # type: ignore[arg-type]
        (json.dumps(send_params(numbers=[None])), "InvalidParameter"),  # type: ignore[list-item]
        (json.dumps({**send_params(), "TemplateId": None}), "MissingParameter"),
        (json.dumps({"SmsSdkAppId": "1400000000"}), "MissingParameter"),
        (json.dumps({**send_params(), "Extra": 1}), "UnknownParameter"),
    ],
)
def test_malformed_bodies(raw: Raw, body: bytes | str, code: str) -> None:
    assert error_code(raw.post(body)) == code


def test_body_over_10_mb_is_refused(raw: Raw, sandbox: Sandbox) -> None:
    body = b'{"PhoneNumberSet": ["' + b"1" * (11 * 1024 * 1024) + b'"]}'
    session = requests.Session()
    response = session.post(sandbox.url + "/", data=body, headers={"X-TC-Action": "SendSms"}, timeout=30)
    assert error_code(response) == "RequestSizeLimitExceeded"
    # The body was drained, so the same keep-alive connection carries on.
    assert session.get(sandbox.url + "/_sandbox/messages", timeout=5).json() == []


def test_unknown_action(sandbox: Sandbox) -> None:
    client = common_client(sandbox)
    assert sdk_error(lambda: client.call_json("SendSmsTwice", send_params())) == "InvalidAction"
    # DescribePhoneNumberInfo exists in 2021-01-11 only.
    old = common_client(sandbox, "2019-07-11", region="")
    assert (
        sdk_error(lambda: old.call_json("DescribePhoneNumberInfo", {"PhoneNumberSet": []})) == "InvalidAction"
    )


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({"X-TC-Action": None}, "MissingParameter"),
        ({"X-TC-Version": None}, "MissingParameter"),
        ({"X-TC-Version": "2017-03-12"}, "NoSuchVersion"),
        ({"X-TC-Region": None}, "MissingParameter"),
        ({"X-TC-Timestamp": None}, "MissingParameter"),
        ({"X-TC-Timestamp": "yesterday"}, "InvalidParameter"),
        ({"X-TC-Timestamp": "²"}, "InvalidParameter"),
        ({"Authorization": None}, "AuthFailure.InvalidAuthorization"),
    ],
)
def test_missing_or_bad_headers(raw: Raw, headers: dict[str, str | None], code: str) -> None:
    assert error_code(raw.post(GOOD, headers=headers)) == code


def test_signed_header_missing_from_the_request(raw: Raw) -> None:
    response = raw.post(GOOD, signed_extra={"X-Trace": "abc"}, headers={"X-Trace": None})
    assert error_code(response) == "AuthFailure.InvalidAuthorization"


def test_unsigned_request_without_any_headers(sandbox: Sandbox) -> None:
    assert error_code(requests.post(sandbox.url + "/", data=GOOD, timeout=5)) == "MissingParameter"


def test_chunked_body_is_refused(sandbox: Sandbox) -> None:
    response = requests.post(sandbox.url + "/", data=iter([GOOD.encode()]), timeout=5)
    assert error_code(response) == "UnsupportedProtocol"


def test_other_methods_and_paths(sandbox: Sandbox) -> None:
    assert error_code(requests.get(sandbox.url + "/", timeout=5)) == "UnsupportedProtocol"
    put = requests.put(sandbox.url + "/", data=GOOD, timeout=5)
    assert put.status_code == 501
    assert put.json()["Response"]["Error"]["Code"] == "UnsupportedProtocol"
    missing = requests.post(sandbox.url + "/v2/send", data=GOOD, timeout=5)
    assert missing.status_code == 404
    assert missing.json()["Response"]["Error"]["Code"] == "ResourceNotFound"


def _exchange(sandbox: Sandbox, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", sandbox.port), timeout=5) as conn:
        conn.sendall(data)
        conn.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GARBAGE\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: ten\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\nConnection: close\r\n\r\n{}",
        b"POST / HTTP/1.1\r\n" + b"X-Long: " + b"a" * 70_000 + b"\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n",
        b"POST / HTTP/1.1\r\n" + b"X-Many: 1\r\n" * 101 + b"\r\n",
        b"GET /\r\n\r\n",
        b"GET / HTTP/2.0\r\n\r\n",
    ],
)
def test_broken_http(sandbox: Sandbox, request_bytes: bytes) -> None:
    answer = _exchange(sandbox, request_bytes)
    if answer:  # a body cut short by the client gets no answer
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 ")
        assert "Error" in json.loads(body)["Response"]


def test_http_1_0_closes_after_the_answer_unless_kept_alive(sandbox: Sandbox) -> None:
    closed = _exchange(sandbox, b"GET /_sandbox/faults HTTP/1.0\r\n\r\n")
    assert b"Connection: close" in closed
    with socket.create_connection(("127.0.0.1", sandbox.port), timeout=5) as conn:
        request = b"GET /_sandbox/faults HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
        conn.sendall(request)
        assert conn.recv(65536).endswith(b"[]")
        conn.sendall(request)  # the same connection still works
        assert conn.recv(65536).endswith(b"[]")
