"""Run one DAG with ``dag.test()`` and read back what each task ended as."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow.sdk import DAG


@dataclass(frozen=True)
class TaskResult:
    state: str
    try_number: int
    #: The task's XCom ``return_value`` (None if it pushed none).
    returned: Any
    #: What SendSmsOperator keeps in XCom when it fails (failed recipients and counts); None otherwise.
    failure_summary: Any


@dataclass(frozen=True)
class DagRunResult:
    run_id: str
    state: str
    seconds: float
    #: By task id (``task_id[i]`` for mapped task instances), in the DAG's dependency order.
    tasks: dict[str, TaskResult]


def task_key(task_id: str, map_index: int) -> str:
    """How a task instance is named in results: its task id, with ``[i]`` for a mapped one."""
    return task_id if map_index < 0 else f"{task_id}[{map_index}]"


def run_dag(dag: DAG, conf: dict[str, Any] | None = None) -> DagRunResult:
    """Run ``dag`` once with ``dag.test()`` (tasks and triggers in this process) and collect the outcome."""
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    from airflow_provider_tencent_sms.operators.sms import SUMMARY_XCOM_KEY

    started = time.monotonic()
    run = dag.test(run_conf=conf)
    seconds = time.monotonic() - started
    with create_session() as session:
        instances = {
            (ti.task_id, ti.map_index): ti
            for ti in session.scalars(
                select(TaskInstance).where(
                    TaskInstance.dag_id == dag.dag_id, TaskInstance.run_id == run.run_id
                )
            )
        }
        xcoms = {
            (xcom.task_id, xcom.map_index, xcom.key): xcom.value
            for xcom in session.scalars(
                select(XComModel).where(
                    XComModel.dag_id == dag.dag_id,
                    XComModel.run_id == run.run_id,
                    XComModel.key.in_(["return_value", SUMMARY_XCOM_KEY]),
                )
            )
        }
        order = {task.task_id: i for i, task in enumerate(dag.topological_sort())}  # type: ignore[no-untyped-call]
        tasks = {
            task_key(task_id, map_index): TaskResult(
                str(ti.state),
                ti.try_number,
                xcoms.get((task_id, map_index, "return_value")),
                xcoms.get((task_id, map_index, SUMMARY_XCOM_KEY)),
            )
            for (task_id, map_index), ti in sorted(
                instances.items(), key=lambda item: (order[item[0][0]], item[0][1])
            )
        }
    return DagRunResult(run.run_id, str(run.state), seconds, tasks)
