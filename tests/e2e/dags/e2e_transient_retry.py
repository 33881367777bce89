"""600 recipients in three requests, one at a time, no in-task retry: a transient error fails the try."""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG

from airflow_provider_tencent_sms.operators.sms import SendSmsOperator

RECIPIENTS = [f"+86138{i:08d}" for i in range(600)]

with DAG("e2e_transient_retry", schedule=None, start_date=datetime(2026, 1, 1), catchup=False):
    SendSmsOperator(
        task_id="send",
        phone_numbers=RECIPIENTS,
        template_id="1002",
        template_params=["ETL", "done"],
        max_concurrency=1,
        request_attempts=1,
        retries=2,
        retry_delay=timedelta(seconds=1),
    )
