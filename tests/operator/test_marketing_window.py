"""Marketing sends wait for 08:00-22:00: deferral to the next opening, cut-off at the end, no duplicates.

The operator runs against the in-process sandbox over real HTTP; the clock is travelled with time-machine
(the sandbox shares it, so it enforces Tencent's hours at the travelled time).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from airflow.sdk.exceptions import AirflowFailException, TaskDeferred

from airflow_provider_tencent_sms.next_step import MAX_WINDOW_REFUSALS
from airflow_provider_tencent_sms.operators.sms import SendSmsOperator
from airflow_provider_tencent_sms.task_state import InMemoryTaskState
from tests.clock import clock_at_task_start
from tests.conftest import TEST_DAGS
from tests.dag_runs import run_dag
from tests.helpers import use_connection

BEIJING = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def sandbox(tencent_sms_sandbox, monkeypatch):
    use_connection(monkeypatch, tencent_sms_sandbox)
    return tencent_sms_sandbox


def numbers(count: int) -> list[str]:
    return [f"+86138{i:08d}" for i in range(count)]


def campaign(count: int = 3, **kwargs: Any) -> SendSmsOperator:
    return SendSmsOperator(
        task_id="campaign",
        phone_numbers=numbers(count),
        template_id="1003",
        template_params=["Sale"],
        sms_type="marketing",
        **kwargs,
    )


def deferral(op: SendSmsOperator, context: dict[str, Any], method: str = "execute") -> datetime:
    """Run the operator expecting a deferral; return the moment its trigger fires."""
    with pytest.raises(TaskDeferred) as info:
        getattr(op, method)(context)
    assert info.value.method_name == "resume"
    return info.value.trigger.moment


def once_each(sandbox) -> Counter[str]:
    counts = Counter(m["phone_number"] for m in sandbox.messages)
    assert set(counts.values()) <= {1}, "someone got two messages"
    return counts


def test_before_opening_defers_to_eight_and_sends_after(sandbox):
    op, context = campaign(), {"task_state_store": InMemoryTaskState()}
    with time_machine.travel(datetime(2026, 11, 25, 7, 59, 55, tzinfo=BEIJING), tick=False):
        moment = deferral(op, context)
    assert moment == datetime(2026, 11, 25, 8, 0, tzinfo=BEIJING)
    assert sandbox.messages == []
    with time_machine.travel(moment + timedelta(seconds=1), tick=False):
        summary = op.resume(context, event=moment)
    assert summary["sent"] == 3
    assert [d["until"] for d in summary["deferrals"]] == ["2026-11-25T00:00:00+00:00"]
    assert len(once_each(sandbox)) == 3


def test_inside_the_window_sends_at_once(sandbox):
    with time_machine.travel(datetime(2026, 11, 25, 10, 0, tzinfo=BEIJING), tick=False):
        summary = campaign().execute({"task_state_store": InMemoryTaskState()})
    assert summary["sent"] == 3 and len(once_each(sandbox)) == 3


def test_notifications_never_wait(sandbox):
    op = SendSmsOperator(
        task_id="n", phone_numbers=numbers(2), template_id="1002", template_params=["a", "b"]
    )
    with time_machine.travel(datetime(2026, 11, 25, 3, 0, tzinfo=BEIJING), tick=False):
        assert op.execute({"task_state_store": InMemoryTaskState()})["sent"] == 2


def test_a_campaign_crossing_the_end_stops_and_finishes_the_next_morning(tencent_sms_sandbox, monkeypatch):
    sandbox = tencent_sms_sandbox
    use_connection(monkeypatch, sandbox)
    # 2,000 recipients = 10 requests of ~0.4 s each, one at a time, starting 2 s before 22:00.
    sandbox.add_fault(latency_ms=400)
    op, context = (
        campaign(2000, max_concurrency=1, send_window_margin=timedelta(0)),
        {"task_state_store": InMemoryTaskState()},
    )
    with time_machine.travel(datetime(2026, 11, 25, 21, 59, 58, tzinfo=BEIJING), tick=True):
        moment = deferral(op, context)
    assert moment == datetime(2026, 11, 26, 8, 0, tzinfo=BEIJING)
    sent_before = len(once_each(sandbox))
    assert 0 < sent_before < 2000
    sandbox.clear_faults()
    with time_machine.travel(moment + timedelta(seconds=1), tick=True):
        summary = op.resume(context, event=moment)
    assert len(once_each(sandbox)) == 2000
    assert summary["sent"] == 2000 and summary["failed"] == 0


def test_dst_zone_opens_at_local_time_on_its_change_day(sandbox):
    op = campaign(send_window=("08:00", "22:00"), send_window_timezone="America/New_York")
    # 01:00 EST on 2026-03-08; clocks spring forward at 02:00, so 08:00 EDT is 12:00 UTC (6 hours later).
    with time_machine.travel(datetime(2026, 3, 8, 6, 0, tzinfo=timezone.utc), tick=False):
        moment = deferral(op, {"task_state_store": InMemoryTaskState()})
    assert moment == datetime(2026, 3, 8, 12, 0, tzinfo=timezone.utc)


def test_tencents_refusal_defers_to_its_opening_instead_of_failing(sandbox):
    # Configured for a UTC window that is open, but it is 03:00 in Beijing: Tencent (the sandbox) refuses.
    op = campaign(send_window=("00:00", "23:59"), send_window_timezone="UTC")
    context = {"task_state_store": InMemoryTaskState()}
    with time_machine.travel(datetime(2026, 11, 25, 3, 0, tzinfo=BEIJING), tick=False):
        moment = deferral(op, context)
    assert moment == datetime(2026, 11, 25, 8, 0, tzinfo=BEIJING)
    assert sandbox.messages == []
    with time_machine.travel(moment + timedelta(seconds=1), tick=False):
        assert op.resume(context, event=moment)["sent"] == 3
    assert len(once_each(sandbox)) == 3


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"send_window": ("8am", "10pm")}, "HH:MM"),
        ({"send_window": ("22:00", "08:00")}, "empty"),
        ({"send_window_timezone": "Beijing"}, "time zone"),
    ],
)
def test_bad_window_settings_fail_when_the_dag_is_parsed(kwargs, message):
    with pytest.raises(ValueError, match=message):
        campaign(**kwargs)


def test_deferral_under_dag_test(tencent_sms_sandbox, monkeypatch, airflow_db):
    use_connection(monkeypatch, tencent_sms_sandbox)
    opening = datetime(2026, 11, 25, 8, 0, tzinfo=BEIJING)
    with clock_at_task_start("send", opening - timedelta(seconds=3)):
        outcome = run_dag(TEST_DAGS / "sms_scenarios.py", "sms_marketing")["send"]
    assert (outcome.state, outcome.try_number) == ("success", 1)
    # The task deferred once, to the opening; dag.test() ran the trigger, which fired at that moment.
    assert outcome.return_value["deferrals"] == [
        {"until": "2026-11-25T00:00:00+00:00", "reason": "the marketing window is closed"}
    ]
    received = [datetime.fromisoformat(m["received_at"]) for m in tencent_sms_sandbox.messages]
    assert len(received) == 3 and min(received) >= opening


def test_refusals_that_waiting_does_not_cure_end_the_task(sandbox):
    # Tencent (the sandbox) keeps refusing as outside its hours even at 10:00 Beijing time.
    sandbox.add_fault(code="FailedOperation.MarketingSendTimeConstraint")
    op, context = campaign(), {"task_state_store": InMemoryTaskState()}
    moment = datetime(2026, 11, 25, 10, 0, tzinfo=BEIJING)
    for _ in range(MAX_WINDOW_REFUSALS):
        with time_machine.travel(moment, tick=False):
            moment = deferral(op, context, "resume")
    with time_machine.travel(moment, tick=False), pytest.raises(AirflowFailException, match="waiting longer"):
        op.resume(context)
    assert sandbox.messages == []
