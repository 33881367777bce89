"""A sharded send on Airflow's CeleryExecutor: two workers, one killed mid-send, nobody lost or sent twice.

Redis (Debian's redis-server) is the broker; scheduler, dag-processor, api-server, triggerer and two Celery
workers are real processes. 40,000 recipients in a CSV file go out as 4 shards (mapped task instances).
"""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from airflow_provider_tencent_sms.sandbox import Sandbox
from airflow_provider_tencent_sms.shards import shard_of
from tests.e2e.airflow_api import AirflowApi
from tests.e2e.deployment import Deployment, ExtraComponent, airflow_deployment
from tests.e2e.processes import kill_session
from tests.e2e.waiting import wait_for

from .hostname import WORKER_NAME_VARIABLE
from .redis_broker import missing_reason, redis_server

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "e2e-celery"
DAG_FILE = Path(__file__).parent / "dags" / "e2e_sharded_send.py"
DAG_ID = "e2e_sharded_send"
TASK_ID = "send"
SHARDS = 4
RATE_CAP = 20.0
WORKERS = ("worker-a", "worker-b")
RECIPIENTS = [f"+86139{i:08d}" for i in range(40_000)]


@pytest.fixture(scope="module")
def celery_airflow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Deployment, Sandbox]]:
    reason = missing_reason()
    if reason:
        pytest.skip(reason)
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    logs = ARTIFACTS / "logs"
    logs.mkdir(parents=True)
    root = tmp_path_factory.mktemp("airflow-celery")
    with Sandbox() as sandbox, redis_server(root, logs / "redis.log") as redis_url:
        settings = {
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__CELERY__BROKER_URL": f"{redis_url}/0",
            "AIRFLOW__CELERY__RESULT_BACKEND": f"{redis_url}/1",
            # A lost worker's task instances are noticed within seconds instead of minutes.
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "15",
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "3",
            # For the workers' hostname_callable.
            "PYTHONPATH": str(REPO),
        }
        workers = [
            ExtraComponent(
                f"celery-{name}",
                (
                    "celery",
                    "worker",
                    "--concurrency",
                    "2",
                    "--celery-hostname",
                    f"{name}@localhost",
                    "--skip-serve-logs",
                    "--without-mingle",
                    "--without-gossip",
                ),
                {
                    WORKER_NAME_VARIABLE: name,
                    "AIRFLOW__CORE__HOSTNAME_CALLABLE": "tests.e2e_celery.hostname.worker_name",
                },
            )
            for name in WORKERS
        ]
        connections = {"tencent_sms_default": sandbox.connection_json()}
        with airflow_deployment(
            root, [DAG_FILE], connections, logs, settings_env=settings, extra_components=workers
        ) as deployment:
            yield deployment, sandbox


def _worker(deployment: Deployment, name: str) -> Any:
    return next(c for c in deployment.components if c.name == f"celery-{name}")


def _mapped(api: AirflowApi, run_id: str) -> list[dict[str, Any]]:
    return sorted(
        (ti for ti in api.task_instances(DAG_ID, run_id) if ti["task_id"] == TASK_ID),
        key=lambda ti: ti["map_index"],
    )


def _tries(api: AirflowApi, run_id: str, map_index: int) -> list[dict[str, Any]]:
    path = f"/dags/{DAG_ID}/dagRuns/{quote(run_id)}/taskInstances/{TASK_ID}/{map_index}/tries"
    return list(api.get(path)["task_instances"])


def test_a_sharded_send_survives_a_lost_worker(
    celery_airflow: tuple[Deployment, Sandbox], tmp_path: Path
) -> None:
    deployment, sandbox = celery_airflow
    api = AirflowApi(deployment.url, deployment.username, deployment.password)
    campaign = tmp_path / "campaign.csv"
    campaign.write_text("phone_number\n" + "".join(f"{n}\n" for n in RECIPIENTS))
    for name in WORKERS:
        wait_for(
            lambda name=name: "ready." in _worker(deployment, name).log_tail(200),
            timeout=90,
            what=f"celery {name} to be ready",
        )
    api.wait_for_dag(DAG_ID)
    api.unpause(DAG_ID)
    run_id = api.trigger(DAG_ID, conf={"recipients_uri": campaign.as_uri()})

    # Kill a worker while one of its shards is sending (the sandbox has its requests: their numbers tell the shard).
    def sending_worker() -> str | None:
        running = {
            ti["map_index"]: ti["hostname"]
            for ti in _mapped(api, run_id)
            if ti["state"] == "running" and ti["hostname"]
        }
        requests = Counter(
            shard_of(r.phone_numbers[0], SHARDS)
            for r in sandbox.requests
            if r.action == "SendSms" and r.phone_numbers
        )
        busy = sorted(host for index, host in running.items() if 5 <= requests[index] < 40)
        return busy[0] if busy else None

    victim = wait_for(sending_worker, timeout=120, what="a shard to be sending", interval=0.2)
    assert kill_session(_worker(deployment, victim))

    run = api.wait_for_run(DAG_ID, run_id, timeout=150)
    assert run["state"] == "success", api.describe_run(DAG_ID, run_id)
    tis = _mapped(api, run_id)
    assert [ti["map_index"] for ti in tis] == list(range(SHARDS))
    hosts = {t["hostname"] for ti in tis for t in _tries(api, run_id, ti["map_index"])}
    assert hosts == set(WORKERS), hosts
    retried = [ti["map_index"] for ti in tis if ti["try_number"] > 1]
    assert retried, "the killed worker's shards were retried"

    # Exactly one message for everyone who got one; the rest were in flight on the lost worker and are
    # reported as outcome unknown by their shard, never sent again.
    counts = Counter(str(m["phone_number"]) for m in sandbox.messages)
    assert max(counts.values()) == 1, [n for n, c in counts.items() if c > 1][:5]
    assert set(counts) <= set(RECIPIENTS)
    summaries = {i: api.xcom(DAG_ID, run_id, TASK_ID, map_index=i) for i in range(SHARDS)}
    for index, summary in summaries.items():
        shard_numbers = {n for n in RECIPIENTS if shard_of(n, SHARDS) == index}
        delivered = shard_numbers & set(counts)
        assert summary["recipients"] == len(shard_numbers)
        assert summary["pending"] == 0 and summary["failed"] == 0
        assert summary["sent"] + summary["unknown"] == len(shard_numbers)
        # The retry found the recipients that were on the wire when the worker died in the delivery
        # receipts: those who got their message count as sent, the rest stay outcome unknown. Nobody lost.
        assert summary["sent"] == len(delivered)
        assert summary["unknown"] == len(shard_numbers - delivered)
        if index not in retried:
            assert summary["unknown"] == summary.get("reconciled", 0) == 0
    assert sum(summaries[i]["unknown"] + summaries[i].get("reconciled", 0) for i in retried) > 0

    # The account's cap held for all shards together: each shard spaces its requests 1 / (cap / shards) s
    # apart, so any second sees at most shards * (cap / shards + 1) of them.
    starts = sorted(r.monotonic for r in sandbox.requests if r.action == "SendSms")
    per_shard = RATE_CAP / SHARDS
    busiest = max(sum(1 for t in starts[i:] if t - start < 1.0) for i, start in enumerate(starts))
    assert busiest <= SHARDS * (per_shard + 1), busiest
    assert len(starts) / (starts[-1] - starts[0]) <= RATE_CAP * 1.05
