"""A scheduled daily report: upstream tasks compute figures, one SMS carries them to the on-call team.

The template (``1002`` in the sandbox: ``[{1}] {2}``) gets its parameters from XCom through Jinja.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG, task

from airflow_provider_tencent_sms.operators.sms import SendSmsOperator

with DAG(
    dag_id="tencent_sms_daily_report",
    schedule="0 9 * * *",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["tencent-sms", "example"],
    # Transient errors that outlast the operator's own attempts end the try: Airflow's retries resume.
    default_args={"retries": 2, "retry_delay": timedelta(minutes=1)},
) as dag:

    @task
    def count_orders() -> int:
        return 1284

    @task
    def sum_revenue() -> float:
        return 56789.5

    @task
    def on_call_team() -> list[str]:
        # In a real DAG: a query or a Variable. Any format is fine: numbers are normalised to E.164.
        return ["13800138000", "+86 139 0013 9000", "+1 650-253-0000"]

    orders, revenue = count_orders(), sum_revenue()
    [orders, revenue] >> SendSmsOperator(
        task_id="send_report",
        phone_numbers=on_call_team(),
        template_id="1002",
        template_params=[
            # Not {{ ds }}: a run triggered by hand has no logical date in Airflow 3. The day the run is for,
            # else the day it was started.
            "Report {{ (dag_run.logical_date or dag_run.run_after) | ds }}",
            "orders={{ ti.xcom_pull(task_ids='count_orders') }} "
            "revenue={{ ti.xcom_pull(task_ids='sum_revenue') }}",
        ],
    )
