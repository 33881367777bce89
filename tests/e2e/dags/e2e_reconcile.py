"""Three requests of three recipients, one at a time; receipts are looked for 5 s after an unknown outcome."""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG

from airflow_provider_tencent_sms.operators.sms import SendSmsOperator

ROWS = [
    {"phone_number": f"+86137{group:04d}{i:04d}", "template_params": [f"Batch {group}", "ready"]}
    for group in range(3)
    for i in range(3)
]

with DAG("e2e_reconcile", schedule=None, start_date=datetime(2026, 1, 1), catchup=False):
    SendSmsOperator(
        task_id="send",
        recipients=ROWS,
        template_id="1002",
        max_concurrency=1,
        reconcile_after=timedelta(seconds=5),
        reconcile_timeout=timedelta(seconds=60),
    )
