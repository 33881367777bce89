"""Fixtures of the sandbox tests; the sandbox itself comes from the provider's pytest plugin."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from airflow_provider_tencent_sms.sandbox import Sandbox

from .client import Raw


@pytest.fixture
def sandbox(tencent_sms_sandbox: Sandbox) -> Sandbox:
    return tencent_sms_sandbox


@pytest.fixture
def raw(sandbox: Sandbox) -> Raw:
    return Raw(sandbox)


@pytest.fixture
def make_sandbox() -> Iterator[Any]:
    """Start sandboxes with custom options; all are stopped after the test."""
    started: list[Sandbox] = []

    def start(**options: Any) -> Sandbox:
        sandbox = Sandbox(**options).start()
        started.append(sandbox)
        return sandbox

    yield start
    for sandbox in started:
        sandbox.stop()
