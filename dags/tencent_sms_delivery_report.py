"""Delivery receipts: a notice whose lost answers are reconciled, and a report of what was delivered.

If a request's answer is lost after Tencent accepted it (a read timeout, a dropped connection), its
recipients are looked up in Tencent's delivery receipts instead of failing the task or being sent twice.
After sending, the task waits (deferred) for receipts and returns a ``delivery`` report. Receipts must carry
the ``SessionContext``: ask Tencent support to enable it for the account (see the Delivery receipts page).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG

from airflow_provider_tencent_sms.operators.sms import SendSmsOperator

with DAG(
    dag_id="tencent_sms_delivery_report",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["tencent-sms", "example"],
    # Transient errors that outlast the operator's own attempts end the try: Airflow's retries resume.
    default_args={"retries": 2, "retry_delay": timedelta(minutes=1)},
) as dag:
    SendSmsOperator(
        task_id="send_notice",
        # Mainland China and global numbers go out in separate requests.
        phone_numbers=["+8613800138000", "+8613900139000", "+8613700137000", "+16502530000", "+447911123456"],
        template_id="1002",
        template_params=["Maintenance", "tonight 22:00-23:00"],
        # Short waits so that the example finishes in a minute; the defaults are 2 minutes and 1 hour.
        reconcile_after=timedelta(seconds=15),
        reconcile_timeout=timedelta(minutes=5),
        wait_for_delivery=timedelta(minutes=2),
        min_delivery_rate=0.5,
    )
