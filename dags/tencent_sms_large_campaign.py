"""A large campaign from a file: an export lands in storage, four shards send it, each on its own worker.

In production the export is a warehouse unload to object storage (``s3://...`` with ``recipients_conn_id``)
and the shards run in parallel on a Celery or Kubernetes deployment. Here the export task writes 2,000
customers to a local file, so the example runs anywhere, ``dag.test()`` included.
"""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path

from airflow.sdk import DAG, task

from airflow_provider_tencent_sms.operators.sms import sharded_send

CUSTOMERS = 2_000

with DAG(
    dag_id="tencent_sms_large_campaign",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["tencent-sms", "example"],
) as dag:

    @task
    def export_customers(run_id: str) -> str:
        # In a real DAG: UNLOAD ... TO 's3://exports/...'; the send only needs the file's URI.
        folder = Path(tempfile.gettempdir()) / "tencent_sms_large_campaign"
        folder.mkdir(exist_ok=True)
        path = folder / f"{run_id.replace(':', '_').replace('+', '_')}.csv"
        with path.open("w", encoding="utf-8") as out:
            out.write("phone_number,name\n")
            out.writelines(f"+86137{i:08d},customer {i}\n" for i in range(CUSTOMERS))
        return path.as_uri()

    sharded_send(
        "send_campaign",
        shards=4,
        recipients_uri=export_customers(),
        template_id="1002",
        template_params=["Shop", "Spring sale: 20% off everything this week"],
        # For the account: each shard sends at a quarter of it.
        max_requests_per_second=100,
    )
