"""Reading a ``tencent_sms`` Airflow connection into a checked, typed configuration (no I/O)."""

from __future__ import annotations

import ipaddress
import json
import os
import urllib.request
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from .exceptions import InvalidConnectionError

DEFAULT_CONN_ID = "tencent_sms_default"
DEFAULT_ENDPOINT = "sms.tencentcloudapi.com"
DEFAULT_REGION = "ap-guangzhou"
API_VERSIONS = ("2021-01-11", "2019-07-11")
LANGUAGES = ("zh-CN", "en-US")
DEFAULT_TIMEOUT = 10.0
#: Seconds to wait for a TCP (and TLS) connection; the read timeout is the connection's ``timeout``.
CONNECT_TIMEOUT = 5.0

#: The extra keys a connection may carry; anything else is most likely a typo and gets a warning.
EXTRA_KEYS = (
    "region",
    "sms_sdk_app_id",
    "sign_name",
    "api_version",
    "token",
    "language",
    "timeout",
    "ca_bundle",
)
#: Environment variables naming a CA bundle, in the order requests and curl read them.
CA_BUNDLE_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE")


class UnknownExtraKeyWarning(UserWarning):
    """An extra key this provider does not read (often a typo)."""


@dataclass(frozen=True)
class ConnectionConfig:
    """Everything the hook needs from the connection. ``secret_key`` and ``token`` stay out of ``repr``."""

    secret_id: str
    secret_key: str = field(repr=False)
    endpoint: str = f"https://{DEFAULT_ENDPOINT}/"
    region: str = DEFAULT_REGION
    sms_sdk_app_id: str | None = None
    sign_name: str | None = None
    api_version: str = API_VERSIONS[0]
    token: str | None = field(default=None, repr=False)
    language: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    #: A PEM file of the certificate authorities to trust instead of the system's (a private CA, a proxy).
    ca_bundle: str | None = None


@dataclass(frozen=True)
class Transport:
    """How requests reach the endpoint; the one source of these settings for both HTTP clients.

    :param verify: the CA bundle to verify the server's certificate with, or True for the system's.
    :param proxy: the proxy URL for the endpoint (from the usual ``*_PROXY`` variables), or None.
    """

    endpoint: str
    host: str
    verify: str | bool
    proxy: str | None
    connect_timeout: float
    timeout: float


def transport(config: ConnectionConfig, environ: Mapping[str, str] = os.environ) -> Transport:
    """Resolve the connection's endpoint, TLS and proxy settings, once per hook."""
    parts = urlsplit(config.endpoint)
    ca_bundle = config.ca_bundle or next((environ[v] for v in CA_BUNDLE_VARIABLES if environ.get(v)), None)
    if ca_bundle is not None and not os.path.isfile(ca_bundle):
        source = "connection extra 'ca_bundle'" if config.ca_bundle else "the CA-bundle environment variable"
        raise InvalidConnectionError(
            f"The CA bundle {ca_bundle!r} from {source} is not a readable file: "
            "give the path of a PEM file of the certificate authorities to trust."
        )
    proxies = urllib.request.getproxies_environment()
    proxy = None
    bypass = urllib.request.proxy_bypass_environment  # type: ignore[attr-defined]  # not in typeshed
    if not bypass(parts.hostname or "", proxies):
        proxy = proxies.get(parts.scheme) or proxies.get("all")
    return Transport(
        endpoint=config.endpoint,
        host=parts.netloc,
        verify=ca_bundle or True,
        proxy=proxy,
        connect_timeout=min(CONNECT_TIMEOUT, config.timeout),
        timeout=config.timeout,
    )


def _is_loopback(hostname: str) -> bool:
    if hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        return False


def endpoint_url(host: str | None, port: int | None = None) -> str:
    """Turn the connection's host (a bare host name or a URL) and port into the URL requests go to.

    Plain ``http://`` is only accepted for loopback addresses, i.e. the local sandbox.
    """
    host = (host or "").strip()
    if not host:
        host = DEFAULT_ENDPOINT
    if "://" not in host:
        host = f"https://{host}"
    parts = urlsplit(host)
    if port and parts.hostname and parts.port is None:
        parts = urlsplit(f"{parts.scheme}://{parts.netloc}:{port}{parts.path}")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidConnectionError(
            f"Connection host {host!r} is not a valid endpoint: use a host name such as "
            f"{DEFAULT_ENDPOINT!r} or a URL such as 'https://{DEFAULT_ENDPOINT}'."
        )
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise InvalidConnectionError(
            f"Connection host {host!r} uses plain http, which would send signed requests unencrypted: "
            "use https:// (plain http is accepted only for loopback addresses such as the local sandbox)."
        )
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise InvalidConnectionError(
            f"Connection host {host!r} has a path or query; Tencent Cloud API is served at '/' only."
        )
    return f"{parts.scheme}://{parts.netloc}/"


def _parse_extra(extra: str | Mapping[str, Any] | None) -> dict[str, Any]:
    if extra is None or extra == "":
        return {}
    if isinstance(extra, Mapping):
        return dict(extra)
    try:
        parsed = json.loads(extra)
    except ValueError:
        raise InvalidConnectionError(
            "The connection's extra is not valid JSON; it should be an object such as "
            '{"region": "ap-guangzhou", "sms_sdk_app_id": "1400000000"}.'
        ) from None
    if not isinstance(parsed, dict):
        raise InvalidConnectionError("The connection's extra must be a JSON object.")
    return parsed


def _optional_str(extra: Mapping[str, Any], key: str) -> str | None:
    value = extra.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InvalidConnectionError(
            f"Connection extra {key!r} must be a string, not {type(value).__name__}."
        )
    return str(value).strip()


def missing_connection_error(conn_id: str) -> InvalidConnectionError:
    """The error for a connection id that is not defined: what to create and how, without real secrets."""
    example = json.dumps(
        {
            "conn_type": "tencent_sms",
            "login": "<SecretId>",
            "password": "<SecretKey>",
            "extra": {"sms_sdk_app_id": "<SdkAppId>", "sign_name": "<signature>", "region": DEFAULT_REGION},
        }
    )
    return InvalidConnectionError(
        f"Connection {conn_id!r} is not defined. Create a connection of type 'tencent_sms' with this id "
        "(Admin > Connections, or `airflow connections add`), or set the environment variable "
        f"AIRFLOW_CONN_{conn_id.upper()}='{example}'."
    )


def parse_connection(
    *,
    conn_id: str,
    login: str | None,
    password: str | None,
    host: str | None,
    extra: str | Mapping[str, Any] | None,
    port: int | None = None,
) -> ConnectionConfig:
    """Check a connection's fields and return its configuration; errors say what to fix."""
    secret_id = (login or "").strip()
    secret_key = (password or "").strip()
    if not secret_id:
        raise InvalidConnectionError(
            f"Connection {conn_id!r} has no SecretId: put it in the login field "
            "(Tencent Cloud console > CAM > API Keys)."
        )
    if not secret_key:
        raise InvalidConnectionError(
            f"Connection {conn_id!r} has no SecretKey: put it in the password field "
            "(Tencent Cloud console > CAM > API Keys)."
        )
    values = _parse_extra(extra)
    unknown = sorted(set(values) - set(EXTRA_KEYS))
    if unknown:
        warnings.warn(
            f"Connection {conn_id!r} has extra keys this provider does not read: {', '.join(unknown)} "
            f"(known keys: {', '.join(EXTRA_KEYS)}).",
            UnknownExtraKeyWarning,
            stacklevel=3,
        )
    api_version = _optional_str(values, "api_version") or API_VERSIONS[0]
    if api_version not in API_VERSIONS:
        raise InvalidConnectionError(
            f"Connection {conn_id!r}: api_version {api_version!r} is not supported; "
            f"use one of {', '.join(API_VERSIONS)}."
        )
    language = _optional_str(values, "language")
    if language is not None and language not in LANGUAGES:
        raise InvalidConnectionError(
            f"Connection {conn_id!r}: language {language!r} is not supported; use one of {', '.join(LANGUAGES)}."
        )
    timeout_value = values.get("timeout")
    if timeout_value in (None, ""):
        timeout = DEFAULT_TIMEOUT
    else:
        try:
            timeout = float(timeout_value)
        except (TypeError, ValueError):
            timeout = -1.0
        if not timeout > 0:
            raise InvalidConnectionError(
                f"Connection {conn_id!r}: timeout {timeout_value!r} must be a positive number of seconds."
            )
    return ConnectionConfig(
        secret_id=secret_id,
        secret_key=secret_key,
        endpoint=endpoint_url(host, port),
        region=_optional_str(values, "region") or DEFAULT_REGION,
        sms_sdk_app_id=_optional_str(values, "sms_sdk_app_id"),
        sign_name=_optional_str(values, "sign_name"),
        api_version=api_version,
        token=_optional_str(values, "token"),
        language=language,
        timeout=timeout,
        ca_bundle=_optional_str(values, "ca_bundle"),
    )
