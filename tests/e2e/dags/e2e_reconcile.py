"""Three requests of three recipients, one at a time; receipts are looked for 15 s after an unknown outcome.

Not sooner: Airflow 3.3.2's scheduler fails a task whose trigger fires before it has processed the executor's
report of the deferring process's exit ("finished with state success, but the task instance's state attribute
is queued"), and on a loaded machine that report was seen to take 6 s.
"""

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
        reconcile_after=timedelta(seconds=15),
        reconcile_timeout=timedelta(seconds=60),
    )
