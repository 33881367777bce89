"""A marketing campaign: each customer gets their own offer, only inside 08:00-22:00 Beijing time.

Run at midnight (or backfilled), the send task defers until the window opens instead of failing or
holding a worker slot; recipients already sent to are never sent to again. Customers who replied an
unsubscribe keyword (collected by the ``tencent_sms_collect_opt_outs`` example) are left out.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG, task

from airflow_provider_tencent_sms.operators.opt_outs import DEFAULT_OPT_OUT_FILE, read_opt_outs
from airflow_provider_tencent_sms.operators.sms import SendSmsOperator

OPT_OUT_FILE = "{{ var.value.get('tencent_sms_opt_out_file', '" + DEFAULT_OPT_OUT_FILE + "') }}"

with DAG(
    dag_id="tencent_sms_marketing_campaign",
    schedule="0 10 * * 1",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["tencent-sms", "example"],
    # Transient errors that outlast the operator's own attempts end the try: Airflow's retries resume.
    default_args={"retries": 2, "retry_delay": timedelta(minutes=5)},
) as dag:

    @task
    def customers() -> list[dict[str, object]]:
        # In a real DAG: a query. Customers with the same parameters share requests.
        return [
            {"phone_number": "13800138000", "template_params": ["Ann: 20% off"]},
            {"phone_number": "13800138001", "template_params": ["Bob: 10% off"]},
            {"phone_number": "13800138002", "template_params": ["Ann: 20% off"]},
        ]

    @task
    def opt_outs(path: str) -> list[str]:
        # Read once, by a task of its own: a retry of send_offers sees the same list.
        return read_opt_outs(path)

    SendSmsOperator(
        task_id="send_offers",
        recipients=customers(),
        exclude=opt_outs(OPT_OUT_FILE),
        template_id="1003",
        sms_type="marketing",
        send_window=("08:00", "22:00"),
        send_window_timezone="Asia/Shanghai",
        # A safety net: this campaign should never bill more than 10 SMS.
        max_fee=10,
    )
