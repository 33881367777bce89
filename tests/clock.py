"""Set the clock at the moment a task starts, so that a DAG run under ``dag.test()`` meets it at a chosen time.

Travelling before ``dag.test()`` leaves the clock at the mercy of how long Airflow takes to reach the task
(several seconds, more on a loaded machine). A listener on Airflow's ``on_task_instance_running`` hook moves it
as the task starts instead, so the task sees exactly the chosen moment; the clock then ticks in real time.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import time_machine
from airflow.listeners import hookimpl
from airflow.sdk.listener import get_listener_manager


class _ClockAtTaskStart:
    def __init__(self, task_id: str, moment: datetime) -> None:
        self.task_id = task_id
        self.moment = moment
        self.traveller: Any = None

    @hookimpl
    def on_task_instance_running(self, previous_state: Any, task_instance: Any) -> None:
        # Only the first start: a task resuming from a deferral starts again, and must find time has passed.
        if task_instance.task_id == self.task_id and self.traveller is None:
            self.traveller = time_machine.travel(self.moment, tick=True)
            self.traveller.start()


@contextmanager
def clock_at_task_start(task_id: str, moment: datetime) -> Iterator[None]:
    """Within the block, the first time ``task_id`` starts the clock jumps to ``moment`` and ticks on."""
    listener = _ClockAtTaskStart(task_id, moment)
    manager = get_listener_manager()
    manager.add_listener(listener)
    try:
        yield
    finally:
        manager.pm.unregister(listener)
        if listener.traveller is not None:
            listener.traveller.stop()
    assert listener.traveller is not None, f"{task_id} never started"
