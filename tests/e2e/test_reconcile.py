"""A request answered by nobody: the task defers in the triggerer, finds the receipts and succeeds."""

from __future__ import annotations

from collections import Counter

import pytest

from airflow_provider_tencent_sms.sandbox import Sandbox

from .airflow_api import AirflowApi

DAG_ID = "e2e_reconcile"
TASK_ID = "send"
RECIPIENTS = [f"+86137{group:04d}{i:04d}" for group in range(3) for i in range(3)]


@pytest.mark.e2e
def test_unknown_outcome_is_reconciled_through_a_deferral(api: AirflowApi, inbox: Sandbox) -> None:
    api.wait_for_dag(DAG_ID)
    api.unpause(DAG_ID)
    # The second request is processed, then the connection closes without an answer.
    inbox.add_fault(drop_connection=True, after=1, count=1)
    run_id = api.trigger(DAG_ID)
    run = api.wait_for_run(DAG_ID, run_id, timeout=120)
    api.pause(DAG_ID)
    assert run["state"] == "success", api.failure_report(DAG_ID, run_id)

    ti = api.task_instance(DAG_ID, run_id, TASK_ID)
    assert (ti["state"], ti["try_number"]) == ("success", 1)
    log = api.task_log(DAG_ID, run_id, TASK_ID, 1)
    assert "outcome is unknown; looking for their receipts" in log
    assert "3 of 3 recipients with an unknown outcome were sent (receipt found)" in log
    counts = Counter(m["phone_number"] for m in inbox.messages)
    assert counts == dict.fromkeys(RECIPIENTS, 1), counts
    assert [r.outcome for r in inbox.requests if r.action == "SendSms"] == ["Ok", "ConnectionDropped", "Ok"]
