"""The libcurl engine's event loop, against the sandbox over real sockets."""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Iterator

import pytest

from airflow_provider_tencent_sms.calls import api_headers, encode, send_sms_params
from airflow_provider_tencent_sms.engine import CurlEngine
from airflow_provider_tencent_sms.hooks.sms import TencentSmsHook
from tests.dags.sms_scenarios import numbers
from tests.helpers import use_connection

#: ``select()`` cannot wait on descriptors from this number up.
FD_SETSIZE = 1024


@pytest.fixture
def high_descriptors() -> Iterator[None]:
    """Hold enough open files that every socket opened next is numbered above ``FD_SETSIZE``."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = FD_SETSIZE + 256
    if hard != resource.RLIM_INFINITY and hard < wanted:
        pytest.skip(f"the hard open-file limit ({hard}) is below {wanted}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, wanted), hard))
    held = [os.open(os.devnull, os.O_RDONLY) for _ in range(FD_SETSIZE + 64)]
    try:
        yield
    finally:
        for fd in held:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_sockets_numbered_above_fd_setsize_are_waited_on_not_spun_on(
    tencent_sms_sandbox, monkeypatch, high_descriptors
):
    # A worker with max_concurrency near 1,000 and its own files open has sockets above 1,024, which
    # select() cannot watch: a loop built on it found nothing to wait for and spun on the CPU until the
    # answers came (about 20,000 turns for a 300 ms answer), or saw them late.
    use_connection(monkeypatch, tencent_sms_sandbox)
    tencent_sms_sandbox.add_fault(latency_ms=300)
    hook = TencentSmsHook()
    body = encode(send_sms_params(hook.config, numbers(2), "1002", ["a", "b"]))
    headers = {**api_headers(hook.config, "SendSms"), **hook.signer.headers(body, hook.transport.host)}
    engine = CurlEngine(hook.transport, 4)
    try:
        started = time.monotonic()
        engine.start("only", body, [f"{name}: {value}" for name, value in headers.items()])
        turns, replies = 0, []
        while not replies and time.monotonic() - started < 10:
            turns += 1
            replies = engine.poll(1.0)
        elapsed = time.monotonic() - started
    finally:
        engine.close()
    assert [(r.token, r.status, r.errno) for r in replies] == [("only", 200, 0)]
    assert b'"SendStatusSet"' in replies[0].body
    # Woken by the answer itself: a few turns, and no later than a moment after it arrived.
    assert turns <= 5 and 0.3 <= elapsed < 0.9
