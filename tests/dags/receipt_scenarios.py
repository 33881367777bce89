"""DAGs for the delivery-receipt tests: reconciled unknown outcomes and delivery reports, under ``dag.test()``.

Waits are seconds long so that the tests, which really sleep through each deferral, stay short.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import DAG

from airflow_provider_tencent_sms.operators.sms import SendSmsOperator

START = datetime(2026, 1, 1)
SECOND = timedelta(seconds=1)


def rows(groups: int, per_group: int) -> list[dict[str, Any]]:
    """``groups`` parameter sets of ``per_group`` numbers each: one request per group."""
    return [
        {"phone_number": f"+86138{g:04d}{i:04d}", "template_params": [f"G{g}", "ready"]}
        for g in range(groups)
        for i in range(per_group)
    ]


def numbers(count: int) -> list[str]:
    return [f"+86139{i:08d}" for i in range(count)]


DAGS: dict[str, DAG] = {}


def scenario(dag_id: str, **options: Any) -> None:
    with DAG(dag_id, schedule=None, start_date=START, catchup=False) as dag:
        SendSmsOperator(task_id="send", template_id="1002", max_concurrency=1, **options)
    DAGS[dag_id] = dag


# Five requests of four recipients; tests drop one of them.
FIVE_REQUESTS = rows(5, 4)
scenario(
    "receipts_reconcile",
    recipients=FIVE_REQUESTS,
    reconcile_after=SECOND,
    reconcile_timeout=4 * SECOND,
    session_context="campaign-7",
)
scenario(
    "receipts_resend",
    recipients=FIVE_REQUESTS,
    reconcile_after=SECOND,
    reconcile_timeout=2 * SECOND,
    resend_unresolved=True,
)
scenario(
    "receipts_unresolved", recipients=FIVE_REQUESTS, reconcile_after=SECOND, reconcile_timeout=2 * SECOND
)
scenario(
    "delivery_exact",
    phone_numbers=numbers(600),
    template_params=["ETL", "done"],
    reconcile_after=SECOND,
    wait_for_delivery=5 * SECOND,
)
scenario(
    "delivery_sampled",
    phone_numbers=numbers(400),
    template_params=["ETL", "done"],
    reconcile_after=SECOND,
    wait_for_delivery=5 * SECOND,
    delivery_check_limit=40,
)
scenario(
    "delivery_below_minimum",
    phone_numbers=numbers(20),
    template_params=["ETL", "done"],
    reconcile_after=SECOND,
    wait_for_delivery=3 * SECOND,
    min_delivery_rate=0.9,
)
