"""pytest fixtures for testing against the sandbox; registered through the ``pytest11`` entry point.

Importing this module must stay cheap (it is loaded by every pytest run where the provider is installed),
so the sandbox itself is imported only when a fixture is used.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from .sandbox import Sandbox

CONNECTION_ENV_VAR = "AIRFLOW_CONN_TENCENT_SMS_DEFAULT"


@pytest.fixture
def tencent_sms_sandbox() -> Iterator[Sandbox]:
    """A running sandbox on a free loopback port, with default settings; stopped after the test."""
    from .sandbox import Sandbox

    with Sandbox() as sandbox:
        yield sandbox


@pytest.fixture
def tencent_sms_tls_sandbox() -> Iterator[Sandbox]:
    """A running sandbox serving HTTPS with a fresh test CA (``sandbox.ca_path``); stopped after the test."""
    from .sandbox import Sandbox

    with Sandbox(tls=True) as sandbox:
        yield sandbox


@pytest.fixture
def tencent_sms_connection(tencent_sms_sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    """The sandbox, with ``AIRFLOW_CONN_TENCENT_SMS_DEFAULT`` pointing at it for the test's duration."""
    monkeypatch.setenv(CONNECTION_ENV_VAR, tencent_sms_sandbox.connection_json())
    return tencent_sms_sandbox
