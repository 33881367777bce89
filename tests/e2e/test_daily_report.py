"""The example daily-report DAG, unpaused and triggered through the REST API like a user would."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest

from airflow_provider_tencent_sms.sandbox import Sandbox

from .airflow_api import AirflowApi

DAG_ID = "tencent_sms_daily_report"
ON_CALL = {"+8613800138000", "+8613900139000", "+16502530000"}


@pytest.mark.e2e
def test_triggered_report_reaches_each_recipient_once(api: AirflowApi, inbox: Sandbox) -> None:
    api.wait_for_dag(DAG_ID)
    api.unpause(DAG_ID)
    try:
        # Re-sending an earlier day's report: its date shows in the text, which tells this run's messages
        # apart from those of the scheduled run the scheduler starts on unpausing (catchup=False).
        day = (datetime.now(timezone.utc) - timedelta(days=3)).replace(
            hour=9, minute=0, second=0, microsecond=0
        )
        run_id = api.trigger(DAG_ID, logical_date=day)
        run = api.wait_for_run(DAG_ID, run_id)
        assert run["state"] == "success", api.failure_report(DAG_ID, run_id)
        # Let every other run finish too, so no late message lands in the next test's inbox.
        for other in api.dag_runs(DAG_ID):
            api.wait_for_run(DAG_ID, other["dag_run_id"])
    finally:
        api.pause(DAG_ID)

    text = f"[Report {day:%Y-%m-%d}] orders=1284 revenue=56789.5"
    ours = [m for m in inbox.messages if str(m["text"]).endswith(text)]
    assert Counter(m["phone_number"] for m in ours) == dict.fromkeys(ON_CALL, 1), inbox.messages
    summary = api.get(f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/send_report/xcomEntries/return_value")[
        "value"
    ]
    assert (summary["sent"], summary["failed"], summary["unknown"]) == (3, 0, 0)
