"""A sharded send on the CeleryExecutor: 4 shards of one file, each a mapped task instance with its own ledger."""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG

from airflow_provider_tencent_sms.operators.sms import sharded_send

#: For the whole account: each of the 4 shards gets a quarter.
RATE_CAP = 20.0
SHARDS = 4

with DAG("e2e_sharded_send", schedule=None, start_date=datetime(2026, 1, 1), catchup=False):
    sharded_send(
        "send",
        shards=SHARDS,
        recipients_uri="{{ dag_run.conf['recipients_uri'] }}",
        template_id="1002",
        template_params=["ETL", "done"],
        max_requests_per_second=RATE_CAP,
        max_concurrency=2,
        # Recipients whose outcome a lost worker left unknown are looked up in the delivery receipts soon
        # (not minutes later), never re-sent; those without a receipt are reported and the shard succeeds.
        reconcile_after=timedelta(seconds=3),
        reconcile_timeout=timedelta(seconds=12),
        allow_partial_failure=True,
        retries=2,
        retry_delay=timedelta(seconds=2),
    )
