"""Running the scenario DAGs with ``dag.test()`` and reading back what happened."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any


@dataclass(frozen=True)
class TaskOutcome:
    state: str
    try_number: int
    xcom: dict[str, Any]

    @property
    def return_value(self) -> Any:
        return self.xcom.get("return_value")


@cache
def _load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_dag(path: Path, dag_id: str) -> dict[str, TaskOutcome]:
    """Run one DAG from ``path`` with ``dag.test()``; return each task's final state, try and XCom."""
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    module = _load(path)
    dag = module.DAGS[dag_id] if hasattr(module, "DAGS") else module.dag
    run = dag.test()
    outcomes = {}
    with create_session() as session:
        for ti in session.query(TaskInstance).filter(
            TaskInstance.dag_id == dag_id, TaskInstance.run_id == run.run_id
        ):
            xcoms = session.query(XComModel).filter(
                XComModel.dag_id == dag_id, XComModel.run_id == run.run_id, XComModel.task_id == ti.task_id
            )
            outcomes[ti.task_id] = TaskOutcome(str(ti.state), ti.try_number, {x.key: x.value for x in xcoms})
    return outcomes
