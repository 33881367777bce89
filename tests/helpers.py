"""Shared test helpers: connections pointing at a sandbox, and a sandbox registry with templates in review."""

from __future__ import annotations

import json
from typing import Any

import pytest

from airflow_provider_tencent_sms.sandbox import Sandbox


def connection_json(
    sandbox: Sandbox, *, secret_key: str | None = None, host: str | None = None, **extra: Any
) -> str:
    """An ``AIRFLOW_CONN_*`` JSON value for ``sandbox``, with extra keys overridden."""
    document = json.loads(sandbox.connection_json())
    if secret_key is not None:
        document["password"] = secret_key
    if host is not None:
        document["host"] = host
    document.setdefault("extra", {}).update(extra)
    return json.dumps(document)


def use_connection(
    monkeypatch: pytest.MonkeyPatch, sandbox: Sandbox, conn_id: str = "tencent_sms_default", **overrides: Any
) -> None:
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", connection_json(sandbox, **overrides))


#: The sandbox's default templates, plus templates in each review state Tencent reports.
REVIEW_STATES = {
    "signatures": ["Airflow"],
    "templates": {
        "1002": {"type": "notification", "name": "Notification", "content": "[{1}] {2}"},
        "1003": {"type": "notification", "name": "Offer", "content": "{1} Reply TD to unsubscribe."},
        "2001": {"type": "notification", "name": "Hello", "content": "Hello {1}, see you at {2}"},
        "2002": {"type": "notification", "content": "Hi {1}", "status": "in-review"},
        "2003": {
            "type": "marketing",
            "name": "Spring sale",
            "content": "Sale {1}",
            "status": "rejected",
            "review_reply": "Marketing templates must end with an unsubscribe instruction",
        },
        "2004": {"type": "notification", "content": "Soon {1}", "status": "not-yet-active"},
        "2005": {"type": "notification", "content": "Global {1}", "scope": "global"},
    },
}
