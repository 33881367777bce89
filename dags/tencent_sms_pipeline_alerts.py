"""Pipeline alerts: an SMS when a task is retried or fails, and a summary when the run succeeds or fails.

``extract`` fails on its first try, so a normal run shows the retry alert and the success summary.
Trigger it with the conf ``{"outage": true}`` and it fails on every try: the retry alert, then the
task's failure alert and the run's failure summary.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG, Param, task

from airflow_provider_tencent_sms.notifications.sms import TencentSmsNotifier

ON_CALL = ["+8613800138000"]

with DAG(
    dag_id="tencent_sms_pipeline_alerts",
    schedule="@hourly",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["tencent-sms", "example"],
    params={
        "outage": Param(False, type="boolean", description="Make extract fail on every try (failure alerts)")
    },
    on_success_callback=TencentSmsNotifier(
        phone_numbers=ON_CALL,
        template_id="1002",
        template_params=["{{ dag.dag_id }}", "run {{ run_id }} succeeded"],
    ),
    on_failure_callback=TencentSmsNotifier(
        phone_numbers=ON_CALL,
        template_id="1002",
        template_params=["{{ dag.dag_id }}", "run {{ run_id }} FAILED"],
    ),
    default_args={
        "retries": 1,
        "retry_delay": timedelta(seconds=0),
        "on_retry_callback": TencentSmsNotifier(
            phone_numbers=ON_CALL,
            template_id="1002",
            template_params=["{{ ti.task_id }}", "retrying after: {{ exception }}"],
        ),
        "on_failure_callback": TencentSmsNotifier(
            phone_numbers=ON_CALL,
            template_id="1002",
            template_params=["{{ ti.task_id }}", "failed: {{ exception }}"],
        ),
    },
) as dag:

    @task
    def extract(ti=None, params=None) -> int:  # type: ignore[no-untyped-def]
        # Fails on its first try to show the retry alert (and on every try in an outage, to show the
        # failure alerts); a real task would fail on its own.
        if ti.try_number == 1 or params["outage"]:
            raise ConnectionError("source database not reachable")
        return 42

    @task
    def load(rows: int) -> str:
        return f"loaded {rows} rows"

    load(extract())
