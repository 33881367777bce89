"""Where a task keeps its send ledger so that it survives retries and deferrals.

Airflow 3.3 gives each task instance a ``task_state_store`` that outlives tries (XCom does not: it is
cleared at the start of every try). On older Airflow 3 releases an Airflow Variable scoped to the task
instance plays that part.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

LEDGER_KEY = "tencent_sms_ledger"


class LedgerStore(Protocol):
    def load(self) -> Any: ...

    def save(self, value: dict[str, Any]) -> None: ...

    def finish(self) -> None:
        """The task succeeded: drop what only a later try would have needed."""


class _TaskStateStore:
    def __init__(self, store: Any) -> None:
        self._store = store

    def load(self) -> Any:
        return self._store.get(LEDGER_KEY)

    def save(self, value: dict[str, Any]) -> None:
        self._store.set(LEDGER_KEY, value)

    def finish(self) -> None:
        # Kept: a clear of the succeeded task must still skip everyone, and the store expires it itself
        # ([state_store] default_retention_days).
        pass


class _VariableStore:
    def __init__(self, key: str) -> None:
        self._key = key

    def load(self) -> Any:
        from airflow.sdk import Variable

        return Variable.get(self._key, default=None, deserialize_json=True)

    def save(self, value: dict[str, Any]) -> None:
        from airflow.sdk import Variable

        Variable.set(self._key, value, serialize_json=True)

    def finish(self) -> None:
        # Variables never expire: one per task instance would pile up forever. The price, documented: on
        # Airflow before 3.3, clearing a task that succeeded sends its recipients again.
        from airflow.sdk import Variable

        Variable.delete(self._key)


class InMemoryTaskState:
    """A ``task_state_store`` that lives in memory, for calling ``execute()`` outside an Airflow task.

    Pass the same instance in ``context["task_state_store"]`` to every call that should share a ledger
    (e.g. ``execute`` and then ``resume`` in a test).
    """

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    def set(self, key: str, value: Any) -> None:
        self.values[key] = value


def ledger_store(context: Mapping[str, Any]) -> LedgerStore:
    """The most durable store the running Airflow offers for this task instance."""
    store = context.get("task_state_store")
    if store is not None:
        return _TaskStateStore(store)
    ti = context.get("ti")
    if ti is None:
        return _TaskStateStore(InMemoryTaskState())
    map_index = getattr(ti, "map_index", -1)
    return _VariableStore(f"{LEDGER_KEY}__{ti.dag_id}__{ti.run_id}__{ti.task_id}__{map_index}")
