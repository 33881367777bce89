"""The connection form, declared once: read by ``get_provider_info`` (Airflow 3.2+) and the hook (3.0/3.1)."""

from __future__ import annotations

from typing import Any

from .connection import API_VERSIONS, DEFAULT_ENDPOINT, DEFAULT_REGION, LANGUAGES

#: Custom fields, stored as plain keys of the connection's extra.
CONN_FIELDS: dict[str, dict[str, Any]] = {
    "region": {
        "label": "Region",
        "description": "Tencent Cloud region of the API, e.g. ap-guangzhou (required by API 2021-01-11).",
        "schema": {"type": ["string", "null"], "default": DEFAULT_REGION},
    },
    "sms_sdk_app_id": {
        "label": "SMS SdkAppId",
        "description": "The SMS application id, e.g. 1400006666 (SMS console > Applications).",
        "schema": {"type": ["string", "null"]},
    },
    "sign_name": {
        "label": "Signature",
        "description": "Default approved signature content (required for Mainland China numbers).",
        "schema": {"type": ["string", "null"]},
    },
    "api_version": {
        "label": "API version",
        "description": "2021-01-11 (current) or 2019-07-11.",
        "schema": {"type": ["string", "null"], "default": API_VERSIONS[0], "enum": list(API_VERSIONS)},
    },
    "token": {
        "label": "Session token",
        "description": "Only for temporary credentials (STS).",
        "schema": {"type": ["string", "null"], "format": "password"},
    },
    "language": {
        "label": "Language",
        "description": "Language of error messages: zh-CN or en-US.",
        "schema": {"type": ["string", "null"], "enum": list(LANGUAGES)},
    },
    "timeout": {
        "label": "Timeout (seconds)",
        "description": "Read timeout of each request.",
        "schema": {"type": ["number", "null"], "default": 10},
    },
    "ca_bundle": {
        "label": "CA bundle",
        "description": "Path of a PEM file of certificate authorities to trust (a private CA or TLS proxy).",
        "schema": {"type": ["string", "null"]},
    },
}

UI_FIELD_BEHAVIOUR: dict[str, Any] = {
    "hidden-fields": ["schema", "port"],
    "relabeling": {"login": "SecretId", "password": "SecretKey", "host": "Endpoint"},
    "placeholders": {
        "host": DEFAULT_ENDPOINT,
        "login": "AKID...",
        "region": DEFAULT_REGION,
        "sms_sdk_app_id": "1400006666",
        "api_version": API_VERSIONS[0],
    },
}

#: (name, label, sensitive) for the wtforms widgets of Airflow 3.0/3.1.
WIDGET_FIELDS: list[tuple[str, str, bool]] = [
    (name, spec["label"], spec["schema"].get("format") == "password") for name, spec in CONN_FIELDS.items()
]
