"""Collect opt-outs daily: recipients who replied an unsubscribe keyword (TD, 退订, ...) are never messaged again.

The numbers go to a file, one per line, which the marketing campaign example passes to ``exclude=``.
Tencent keeps replies for 7 days, so collect at least weekly; daily keeps the list current. Set the
Airflow Variable ``tencent_sms_opt_out_file`` to keep the list somewhere durable.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG

from airflow_provider_tencent_sms.operators.opt_outs import DEFAULT_OPT_OUT_FILE, CollectOptOutsOperator

OPT_OUT_FILE = "{{ var.value.get('tencent_sms_opt_out_file', '" + DEFAULT_OPT_OUT_FILE + "') }}"

with DAG(
    dag_id="tencent_sms_collect_opt_outs",
    schedule="@daily",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["tencent-sms", "example"],
) as dag:
    CollectOptOutsOperator(
        task_id="collect_opt_outs",
        path=OPT_OUT_FILE,
        # The defaults, written out to show where to add your own.
        keywords=["TD", "T", "N", "R", "退订", "取消", "拒收"],
    )
