"""The bulk sender (libcurl multi, one thread) against the sandbox over real sockets.

Each test reads the sandbox's inbox: every recipient must get at most one message, whatever failed.
"""

from __future__ import annotations

import itertools
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowException, AirflowFailException, AirflowTaskTimeout

from airflow_provider_tencent_sms.dispatch import Dispatcher
from airflow_provider_tencent_sms.ledger import Ledger, decode_ranges
from airflow_provider_tencent_sms.operators.sms import SendSmsOperator
from airflow_provider_tencent_sms.task_state import LEDGER_KEY, InMemoryTaskState
from tests.conftest import TEST_DAGS
from tests.dag_runs import run_dag
from tests.dags.sms_scenarios import numbers
from tests.helpers import use_connection


@pytest.fixture
def sandbox(tencent_sms_sandbox, monkeypatch):
    use_connection(monkeypatch, tencent_sms_sandbox)
    return tencent_sms_sandbox


def send(count: int, **kwargs: Any) -> SendSmsOperator:
    options: dict[str, Any] = {
        "task_id": "send",
        "phone_numbers": numbers(count),
        "template_id": "1002",
        "template_params": ["a", "b"],
    }
    options.update(kwargs)
    return SendSmsOperator(**options)


def received(sandbox) -> Counter[str]:
    return Counter(m["phone_number"] for m in sandbox.messages)


def send_requests(sandbox) -> int:
    return sum(1 for r in sandbox.requests if r.action == "SendSms")


def stored_ledger(state: InMemoryTaskState) -> dict[str, Any]:
    return state.values[LEDGER_KEY]


def test_many_requests_in_flight_send_everyone_once(sandbox):
    sandbox.add_fault(latency_ms=100)
    started = time.monotonic()
    summary = send(10_000, max_requests_per_second=500).execute({"task_state_store": InMemoryTaskState()})
    elapsed = time.monotonic() - started
    assert summary["sent"] == 10_000 and summary["requests"] == 50
    counts = received(sandbox)
    assert len(counts) == 10_000 and set(counts.values()) == {1}
    # 50 requests of 100 ms each, one after another, would take 5 s: they went out concurrently.
    assert elapsed < 4


def test_per_number_failures_are_reported_and_the_rest_sent(sandbox):
    blocked = numbers(3, start=150)
    sandbox.add_fault(recipient_code="FailedOperation.PhoneNumberInBlacklist", phone_numbers=blocked)
    op = send(1000, allow_partial_failure=True)
    summary = op.execute({"task_state_store": InMemoryTaskState()})
    assert (summary["sent"], summary["failed"]) == (997, 3)
    assert {f["phone_number"] for f in summary["failures"]} == set(blocked)
    assert summary["failures_by_code"] == {"FailedOperation.PhoneNumberInBlacklist": 3}
    counts = received(sandbox)
    assert len(counts) == 997 and set(counts.values()) == {1}


def test_a_whole_request_refused_for_good_stops_the_send(sandbox):
    sandbox.add_fault(code="AuthFailure.SecretIdNotFound", after=2)
    with pytest.raises(AirflowFailException, match=r"AuthFailure\.SecretIdNotFound"):
        send(2000, max_concurrency=1).execute({"task_state_store": InMemoryTaskState()})
    assert len(received(sandbox)) == 400


def test_a_connection_dropped_after_the_request_was_written_is_never_resent(sandbox):
    # Keep-alive connections are reused: libcurl would re-send a request whose reused connection closed
    # without an answer. The sender must not let it.
    sandbox.add_fault(drop_connection=True, after=3, count=1)
    state = InMemoryTaskState()
    with pytest.raises(AirflowFailException, match="outcome is unknown"):
        send(2000, max_concurrency=2, on_unknown_outcome="fail").execute({"task_state_store": state})
    assert send_requests(sandbox) == 10
    counts = received(sandbox)
    assert len(counts) == 2000 and set(counts.values()) == {1}
    ledger = stored_ledger(state)
    assert sum(len(p) for p in ledger["unknown"].values()) == 200
    # Running the task again sends nothing: the unknown batch stays unknown.
    with pytest.raises(AirflowFailException):
        send(2000, max_concurrency=2, on_unknown_outcome="fail").execute({"task_state_store": state})
    assert send_requests(sandbox) == 10


class SlowStore(InMemoryTaskState):
    """A task state store whose saves take as long as a busy API server's, each recorded with its span."""

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds = seconds
        self.saves: list[tuple[float, float, dict[str, Any]]] = []

    def set(self, key: str, value: Any) -> None:
        began = time.monotonic()
        time.sleep(self.seconds)
        super().set(key, value)
        self.saves.append((began, time.monotonic(), value))


def test_no_request_leaves_before_its_record_is_stored_and_sending_goes_on_while_storing(sandbox):
    store = SlowStore(0.06)
    summary = send(60_000, max_requests_per_second=400).execute({"task_state_store": store})
    assert summary["sent"] == 60_000
    arrivals = [r for r in sandbox.requests if r.action == "SendSms"]
    assert len(arrivals) == 300
    for request in arrivals:
        batch = int(request.phone_numbers[0][6:]) // 200  # numbers are in plan order, 200 a batch
        covered = [
            ended
            for _, ended, snapshot in store.saves
            if batch in set(decode_ranges(snapshot["inflight"])) | set(decode_ranges(snapshot["done"]))
        ]
        assert covered and min(covered) < request.monotonic, f"batch {batch} left before it was recorded"
    # The store is slow, but requests kept leaving while it stored the next slice's record.
    first, last = arrivals[0].monotonic, arrivals[-1].monotonic
    while_sending = [(began, ended) for began, ended, _ in store.saves if first < began and ended < last]
    assert while_sending
    for began, ended in while_sending:
        assert any(began < r.monotonic < ended for r in arrivals), (
            "sending stopped while the ledger was stored"
        )


def interrupt_once(monkeypatch, owner: type, name: str, when: Callable[..., bool]) -> list[bool]:
    """Make ``owner.name`` raise an ``execution_timeout`` once, on the first call ``when`` accepts, as
    SIGALRM would at that point of the loop; return a list that gets a value when it has fired."""
    original = getattr(owner, name)
    fired: list[bool] = []

    def interrupted(self: Any, *args: Any) -> Any:
        if not fired and when(self, *args):
            fired.append(True)
            raise AirflowTaskTimeout("Timeout, PID: 1")
        return original(self, *args)

    monkeypatch.setattr(owner, name, interrupted)
    return fired


@pytest.mark.parametrize(
    "where",
    ["marking the second slice", "building a request"],
)
def test_a_timeout_inside_the_loop_leaves_only_requests_that_left_possibly_sent(sandbox, monkeypatch, where):
    # 20 requests at 40/s: slices of 10, the second written ahead while the first is sent.
    if where == "marking the second slice":
        fired = interrupt_once(
            monkeypatch, Ledger, "dump", lambda ledger: max(ledger.inflight, default=0) >= 10
        )
    else:
        calls = itertools.count(1)

        def fifth(dispatcher: Any, unit: Any) -> bool:
            return next(calls) == 5

        fired = interrupt_once(monkeypatch, Dispatcher, "_body", fifth)
    state = InMemoryTaskState()
    with pytest.raises(AirflowTaskTimeout):
        send(4000, max_requests_per_second=40).execute({"task_state_store": state})
    assert fired
    left = {int(r.phone_numbers[0][6:]) // 200 for r in sandbox.requests if r.action == "SendSms"}
    assert set(decode_ranges(stored_ledger(state)["inflight"])) <= left
    monkeypatch.undo()
    use_connection(monkeypatch, sandbox)
    summary = send(4000, max_requests_per_second=1000, on_unknown_outcome="fail").execute(
        {"task_state_store": state}
    )
    assert summary["unknown"] == 0
    counts = received(sandbox)
    assert len(counts) == 4000 and set(counts.values()) == {1}


def test_a_slow_send_sleeps_between_requests_instead_of_spinning(sandbox):
    op = send(1000, max_requests_per_second=2)  # 5 requests over about 2 s
    wall, cpu = time.monotonic(), time.thread_time()
    assert op.execute({"task_state_store": InMemoryTaskState()})["sent"] == 1000
    wall, cpu = time.monotonic() - wall, time.thread_time() - cpu
    assert wall > 1.5
    assert cpu < wall / 4, f"the sending thread used {cpu:.2f} s of CPU in {wall:.2f} s"


def test_no_answer_within_the_timeout_is_outcome_unknown(sandbox, monkeypatch):
    use_connection(monkeypatch, sandbox, timeout=0.5)
    sandbox.add_fault(latency_ms=1500, after=1, count=1)
    state = InMemoryTaskState()
    with pytest.raises(AirflowFailException, match="outcome is unknown"):
        send(600, max_concurrency=1, on_unknown_outcome="fail").execute({"task_state_store": state})
    time.sleep(1.2)  # the sandbox processes the late request after the client gave up
    counts = received(sandbox)
    assert len(counts) == 600 and set(counts.values()) == {1}
    assert sum(len(p) for p in stored_ledger(state)["unknown"].values()) == 200


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_an_endpoint_that_refuses_connections_sends_nothing_and_leaves_nothing_in_flight(
    sandbox, monkeypatch
):
    use_connection(monkeypatch, sandbox, host=f"http://127.0.0.1:{free_port()}")
    state = InMemoryTaskState()
    with pytest.raises(AirflowException, match="not sent because of a transient error") as info:
        send(400, request_attempts=1).execute({"task_state_store": state})
    assert "was not sent" in str(info.value) and "curl error 7" in str(info.value)
    ledger = Ledger.load(stored_ledger(state), stored_ledger(state)["plan"])
    assert (ledger.inflight, ledger.unknown, ledger.sent) == (set(), {}, 0)
    # Pointed back at the sandbox, the next try sends everyone.
    use_connection(monkeypatch, sandbox)
    assert send(400).execute({"task_state_store": state})["sent"] == 400


def test_rate_limit_refusals_slow_down_and_lose_nothing(sandbox, caplog):
    sandbox.add_fault(code="RequestLimitExceeded", message="too fast", after=5, count=30)
    with caplog.at_level("WARNING", logger="airflow_provider_tencent_sms.dispatch"):
        summary = send(10_000, max_concurrency=8).execute({"task_state_store": InMemoryTaskState()})
    assert "slowing down to 500 requests/s" in caplog.text
    assert summary["sent"] == 10_000 and summary["rate_limited"] == 30
    counts = received(sandbox)
    assert len(counts) == 10_000 and set(counts.values()) == {1}
    assert send_requests(sandbox) == 50 + 30


def test_on_kill_from_another_thread_stops_and_the_next_try_finishes_without_duplicates(sandbox):
    sandbox.add_fault(latency_ms=200)
    state = InMemoryTaskState()
    op = send(20_000, max_requests_per_second=40)  # 100 requests over about 2.5 s
    threading.Timer(0.8, op.on_kill).start()
    with pytest.raises(AirflowException, match="stopped"):
        op.execute({"task_state_store": state})
    first = len(received(sandbox))
    assert 0 < first < 20_000
    ledger = stored_ledger(state)
    assert ledger["inflight"] == "" and not ledger["unknown"]  # answers in flight were waited for
    summary = send(20_000, max_requests_per_second=40).execute({"task_state_store": state})
    assert summary["sent"] == 20_000
    counts = received(sandbox)
    assert len(counts) == 20_000 and set(counts.values()) == {1}


def test_execution_timeout_mid_send_under_dag_test_resumes_without_duplicates(sandbox, airflow_db):
    outcome = run_dag(TEST_DAGS / "sms_scenarios.py", "sms_timeout_mid_send")["send"]
    assert outcome.state == "success" and outcome.try_number > 1
    counts = received(sandbox)
    assert len(counts) == 4000 and set(counts.values()) == {1}
