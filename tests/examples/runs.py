"""Run an example DAG (from the tests' dags_folder) with ``dag.test()`` and read back its run and tasks."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tests.conftest import TEST_DAGS


@dataclass(frozen=True)
class TaskOutcome:
    state: str
    try_number: int
    #: The task's XCom ``return_value`` (None if it pushed none).
    return_value: Any


@dataclass(frozen=True)
class ExampleRun:
    run_id: str
    state: str
    #: None for a run triggered by hand without one (Airflow 3); run_after is always set.
    logical_date: datetime | None
    run_after: datetime
    tasks: dict[str, TaskOutcome]

    @property
    def states(self) -> dict[str, tuple[str, int]]:
        """Each task's final state and try number."""
        return {task: (outcome.state, outcome.try_number) for task, outcome in self.tasks.items()}


def example(file_name: str) -> Any:
    """A freshly parsed example DAG, as a DAG processor builds one on each parse.

    Fresh for every test because a DAG object carries state between runs: its notifiers keep what they
    rendered and the hook they built (see the xfail tests).
    """
    # dag.test() needs the file inside dags_folder: the tests' folder links to dags/.
    path = TEST_DAGS / file_name
    spec = importlib.util.spec_from_file_location(f"example_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.dag


def run_example(dag: Any, conf: dict[str, Any] | None = None, **test_args: Any) -> ExampleRun:
    """Run ``dag`` once with ``dag.test()`` (tasks and triggers in this process) and read back the outcome.

    :param test_args: more arguments for ``dag.test()``, e.g. ``logical_date=None`` for a run as
        ``airflow dags trigger`` starts it in Airflow 3, without a logical date.
    """
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    run = dag.test(run_conf=conf, **test_args)
    with create_session() as session:
        returned = {
            xcom.task_id: xcom.value
            for xcom in session.scalars(
                select(XComModel).where(
                    XComModel.dag_id == dag.dag_id,
                    XComModel.run_id == run.run_id,
                    XComModel.key == "return_value",
                )
            )
        }
        tasks = {
            ti.task_id: TaskOutcome(str(ti.state), ti.try_number, returned.get(ti.task_id))
            for ti in session.scalars(
                select(TaskInstance).where(
                    TaskInstance.dag_id == dag.dag_id, TaskInstance.run_id == run.run_id
                )
            )
        }
    return ExampleRun(run.run_id, str(run.state), run.logical_date, run.run_after, tasks)
