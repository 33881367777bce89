"""A transient Tencent error in the middle of a send: Airflow retries the task and nobody gets two messages."""

from __future__ import annotations

from collections import Counter

import pytest

from airflow_provider_tencent_sms.sandbox import Sandbox

from .airflow_api import AirflowApi

DAG_ID = "e2e_transient_retry"
TASK_ID = "send"
RECIPIENTS = [f"+86138{i:08d}" for i in range(600)]


@pytest.mark.e2e
def test_scheduler_retry_completes_the_send_exactly_once(api: AirflowApi, inbox: Sandbox) -> None:
    api.wait_for_dag(DAG_ID)
    api.unpause(DAG_ID)
    # 600 recipients go out as three requests of 200, one at a time: the second one fails.
    inbox.add_fault(code="InternalError.Timeout", after=1, count=1)
    run_id = api.trigger(DAG_ID)
    run = api.wait_for_run(DAG_ID, run_id, timeout=120)
    api.pause(DAG_ID)
    assert run["state"] == "success", api.failure_report(DAG_ID, run_id)

    ti = api.task_instance(DAG_ID, run_id, TASK_ID)
    assert (ti["state"], ti["try_number"]) == ("success", 2)
    tries = {t["try_number"]: t["state"] for t in api.task_tries(DAG_ID, run_id, TASK_ID)}
    assert tries == {1: "failed", 2: "success"}, tries
    assert "InternalError.Timeout" in api.task_log(DAG_ID, run_id, TASK_ID, 1)

    outcomes = [r.outcome for r in inbox.requests if r.action == "SendSms"]
    assert outcomes == ["Ok", "InternalError.Timeout", "Ok", "Ok"], outcomes
    counts = Counter(m["phone_number"] for m in inbox.messages)
    assert counts == dict.fromkeys(RECIPIENTS, 1), {n: c for n, c in counts.items() if c != 1}
