"""A marketing send triggered before its window opens defers, holds no worker, and sends once it opens."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from airflow_provider_tencent_sms.sandbox import Sandbox

from .airflow_api import AirflowApi
from .clock import midday_zone, next_minute_after
from .deployment import Deployment
from .waiting import wait_for

DAG_ID = "e2e_marketing_window"
TASK_ID = "send_offer"
RECIPIENTS = {"+8613700137001", "+8613700137002"}
# Long enough for the scheduler to start the task and the task to defer before the window opens.
LEAD = timedelta(seconds=25)
DATE_TRIGGER = "airflow.providers.standard.triggers.temporal.DateTimeTrigger"


def _open_window_soon(airflow: Deployment) -> datetime:
    """Write the window the DAG file reads; returns the moment it opens."""
    now = datetime.now(timezone.utc)
    zone = midday_zone(now)
    opens = next_minute_after(now.astimezone(zone), LEAD)
    window = {"opens": f"{opens:%H:%M}", "closes": "23:59", "timezone": zone.key}
    (airflow.dags_folder / "e2e_marketing_window.json").write_text(json.dumps(window))
    return opens


def _worker_released(airflow: Deployment, ti_id: str) -> bool:
    # LocalExecutor workers and task runners put the task instance id in their process titles.
    running = airflow.processes().values()
    workers = [cmd for cmd in running if cmd.startswith("airflow worker -- LocalExecutor")]
    return (
        bool(workers)
        and all(cmd.endswith("<idle>") for cmd in workers)
        and not any(ti_id in cmd for cmd in running)
    )


@pytest.mark.e2e
def test_marketing_send_defers_until_the_window_opens(
    api: AirflowApi, airflow: Deployment, inbox: Sandbox
) -> None:
    api.wait_for_dag(DAG_ID)
    api.unpause(DAG_ID)
    opens = _open_window_soon(airflow)
    run_id = api.trigger(DAG_ID)

    def deferred() -> dict[str, Any] | None:
        ti = api.task_instance(DAG_ID, run_id, TASK_ID)
        assert ti["state"] not in ("success", "failed", "up_for_retry"), api.failure_report(DAG_ID, run_id)
        return ti if ti["state"] == "deferred" and ti["triggerer_job"] else None

    ti = wait_for(
        deferred,
        timeout=(opens - datetime.now(timezone.utc)).total_seconds(),
        what=f"{TASK_ID} to defer (window opens {opens:%H:%M:%S %Z})",
        describe=lambda: api.describe_run(DAG_ID, run_id),
    )
    assert datetime.now(timezone.utc) < opens, "the task deferred only after the window had opened"

    # Deferred on a date trigger that the triggerer has picked up ...
    assert ti["trigger"]["classpath"] == DATE_TRIGGER
    assert ti["triggerer_job"]["job_type"] == "TriggererJob"
    # ... holding no pool slot ...
    pool = api.pool()
    assert (pool["running_slots"], pool["deferred_slots"]) == (0, 1), pool
    # ... and no process: no task runner or executor worker is busy with this task instance.
    # ... and, once its process has wound down, no worker: every executor worker is idle and no process
    # serves this task instance, while it stays deferred.
    wait_for(
        lambda: _worker_released(airflow, ti["id"]),
        timeout=20,
        what="the executor worker to be released",
        describe=lambda: repr(airflow.processes()),
    )
    assert api.task_instance(DAG_ID, run_id, TASK_ID)["state"] == "deferred"
    assert not inbox.messages

    run = api.wait_for_run(DAG_ID, run_id, timeout=(opens - datetime.now(timezone.utc)).total_seconds() + 60)
    assert run["state"] == "success", api.failure_report(DAG_ID, run_id)
    api.pause(DAG_ID)

    messages = inbox.messages
    assert Counter(m["phone_number"] for m in messages) == dict.fromkeys(RECIPIENTS, 1), messages
    assert all(datetime.fromisoformat(str(m["received_at"])) >= opens for m in messages), messages
    assert all(m["template_id"] == "1003" for m in messages)
    # Resumed from the deferral: still the first try.
    assert api.task_instance(DAG_ID, run_id, TASK_ID)["try_number"] == 1
