"""Pipeline alerts: an SMS when a task is retried or fails, and a summary when the run succeeds."""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG, task

from airflow_provider_tencent_sms.notifications.sms import TencentSmsNotifier

ON_CALL = ["+8613800138000"]

with DAG(
    dag_id="tencent_sms_pipeline_alerts",
    schedule="@hourly",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["tencent-sms", "example"],
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
    def extract(ti=None) -> int:  # type: ignore[no-untyped-def]
        # Fails on its first try to show the retry alert; a real task would fail on its own.
        if ti.try_number == 1:
            raise ConnectionError("source database not reachable")
        return 42

    @task
    def load(rows: int) -> str:
        return f"loaded {rows} rows"

    load(extract())
