"""A run that misses its 3-second deadline: the alert goes to the on-call pair, then to the manager."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from airflow.sdk import DAG, DeadlineAlert, DeadlineReference, task

from airflow_provider_tencent_sms.notifications.sms import TencentSmsNotifier

ON_CALL = ["+8613700137001", "+8613700137002"]
MANAGER = "+8613900137003"

late = DeadlineAlert(
    reference=DeadlineReference.DAGRUN_QUEUED_AT,
    interval=timedelta(seconds=3),
    callback=TencentSmsNotifier.deadline_callback(
        phone_numbers=ON_CALL,
        template_id="1002",
        template_params=["{{ dag_run.dag_id }}", "not done after 3 s"],
        escalate_to=[MANAGER],
        escalate_after=timedelta(seconds=8),
    ),
)

with DAG("e2e_escalation", schedule=None, start_date=datetime(2026, 1, 1), catchup=False, deadline=late):

    @task
    def slow_load() -> None:
        time.sleep(20)

    slow_load()
