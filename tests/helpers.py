"""Shared test helpers: connections pointing at a sandbox."""

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
