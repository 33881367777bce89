"""Helpers for driving the sandbox with the official Tencent Cloud SDK and with raw HTTP.

The SDK is the client wherever a request can be expressed through it, so that the sandbox's signature
checking is verified against Tencent's own signer, not against the provider's. Raw requests (malformed
bodies, odd headers) are signed here with the SDK's ``Sign.sign_tc3``.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Protocol

import pytest
import requests
from tencentcloud.common import credential
from tencentcloud.common.common_client import CommonClient
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.common.sign import Sign
from tencentcloud.sms.v20190711 import sms_client as sms_client_2019
from tencentcloud.sms.v20210111 import sms_client as sms_client_2021

from airflow_provider_tencent_sms.sandbox import Sandbox


class Target(Protocol):
    """Where a client goes and how it signs: a :class:`Sandbox`, or an :class:`Endpoint` of another process."""

    @property
    def url(self) -> str: ...

    @property
    def secret_id(self) -> str: ...

    @property
    def secret_key(self) -> str: ...


@dataclass(frozen=True)
class Endpoint:
    url: str
    secret_id: str
    secret_key: str


MAINLAND = "+8613800138000"
MAINLAND_2 = "+8613900139000"
GLOBAL = "+14155550100"
REGION = "ap-guangzhou"


def _profile(sandbox: Target, timeout: int = 10) -> ClientProfile:
    endpoint = sandbox.url.removeprefix("http://")
    return ClientProfile(httpProfile=HttpProfile(protocol="http", endpoint=endpoint, reqTimeout=timeout))


def sdk_2021(
    sandbox: Sandbox, *, secret_key: str | None = None, timeout: int = 10
) -> sms_client_2021.SmsClient:
    cred = credential.Credential(sandbox.secret_id, secret_key or sandbox.secret_key)
    return sms_client_2021.SmsClient(cred, REGION, _profile(sandbox, timeout))


def sdk_2019(sandbox: Sandbox) -> sms_client_2019.SmsClient:
    cred = credential.Credential(sandbox.secret_id, sandbox.secret_key)
    return sms_client_2019.SmsClient(cred, "", _profile(sandbox))


def common_client(sandbox: Target, version: str = "2021-01-11", region: str = REGION) -> CommonClient:
    """The SDK's generic client: any action, raw parameter dicts, still signed by the SDK."""
    cred = credential.Credential(sandbox.secret_id, sandbox.secret_key)
    return CommonClient("sms", version, cred, region, _profile(sandbox))


def send_params(
    numbers: list[str] | None = None,
    template_id: str = "1002",
    params: list[str] | None = None,
    sign_name: str | None = "Airflow",
    **extra: Any,
) -> dict[str, Any]:
    """SendSms parameters (2021-01-11 names) for ``CommonClient.call_json``."""
    document: dict[str, Any] = {
        "PhoneNumberSet": [MAINLAND] if numbers is None else numbers,
        "SmsSdkAppId": "1400000000",
        "TemplateId": template_id,
        "TemplateParamSet": ["Airflow", "a notification"] if params is None else params,
        **extra,
    }
    if sign_name is not None:
        document["SignName"] = sign_name
    return document


@dataclass
class Raw:
    """Signs and posts arbitrary bytes, for what the SDK cannot send.

    ``sent_body`` replaces the signed body on the wire; ``headers`` override (None: remove) sent headers.
    """

    sandbox: Sandbox

    def post(
        self,
        body: bytes | str,
        *,
        action: str | None = "SendSms",
        version: str | None = "2021-01-11",
        region: str | None = REGION,
        secret_id: str | None = None,
        secret_key: str | None = None,
        sent_body: bytes | None = None,
        timestamp: int | None = None,
        date: str | None = None,
        content_type: str = "application/json",
        signed_extra: Mapping[str, str] | None = None,
        headers: Mapping[str, str | None] | None = None,
    ) -> requests.Response:
        payload = body.encode() if isinstance(body, str) else body
        timestamp = int(time.time()) if timestamp is None else timestamp
        date = date or datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%d")
        host = self.sandbox.url.removeprefix("http://")
        signed = {"content-type": content_type, "host": host}
        signed.update((name.lower(), value) for name, value in (signed_extra or {}).items())
        names = sorted(signed)
        canonical = "POST\n/\n\n{}\n{}\n{}".format(
            "".join(f"{n}:{signed[n].strip().lower()}\n" for n in names),
            ";".join(names),
            hashlib.sha256(payload).hexdigest(),
        )
        scope = f"{date}/sms/tc3_request"
        string_to_sign = (
            f"TC3-HMAC-SHA256\n{timestamp}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
        )
        signature = Sign.sign_tc3(secret_key or self.sandbox.secret_key, date, "sms", string_to_sign)
        all_headers: dict[str, str | None] = {
            "Content-Type": content_type,
            "Host": host,
            "X-TC-Action": action,
            "X-TC-Version": version,
            "X-TC-Region": region,
            "X-TC-Timestamp": str(timestamp),
            "Authorization": f"TC3-HMAC-SHA256 Credential={secret_id or self.sandbox.secret_id}/{scope}, "
            f"SignedHeaders={';'.join(names)}, Signature={signature}",
            **(signed_extra or {}),
            **(headers or {}),
        }
        sent = {k: v for k, v in all_headers.items() if v is not None}
        data = payload if sent_body is None else sent_body
        return requests.post(self.sandbox.url + "/", data=data, headers=sent, timeout=10)


def error_code(response: requests.Response) -> str:
    assert response.status_code == 200, response.text[:300]
    answer = response.json()["Response"]
    assert "RequestId" in answer
    return str(answer["Error"]["Code"])


def call(client: CommonClient, action: str, params: Mapping[str, Any]) -> dict[str, Any]:
    answer: dict[str, Any] = client.call_json(action, dict(params))["Response"]
    return answer


def messages(sandbox: Sandbox) -> list[dict[str, Any]]:
    """The inbox as served over HTTP."""
    listing: list[dict[str, Any]] = requests.get(sandbox.url + "/_sandbox/messages", timeout=10).json()
    return listing


def sdk_error(action: Callable[[], object]) -> str:
    """The error code the SDK raises for ``action``."""
    with pytest.raises(TencentCloudSDKException) as raised:
        action()
    return str(raised.value.get_code())
