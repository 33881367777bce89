"""Sends through the connection the browser test saves in the UI (not the environment's default)."""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG

from airflow_provider_tencent_sms.operators.sms import SendSmsOperator

CONN_ID = "tencent_sms_e2e_ui"
RECIPIENT = "+8613600136000"

with DAG("e2e_saved_connection", schedule=None, start_date=datetime(2026, 1, 1), catchup=False):
    SendSmsOperator(
        task_id="send",
        tencent_sms_conn_id=CONN_ID,
        phone_numbers=[RECIPIENT],
        template_id="1002",
        template_params=["UI", "saved connection works"],
    )
