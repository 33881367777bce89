"""A small client of Airflow 3's public REST API (``/api/v2``), authenticated with a JWT."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote

import requests

from .waiting import wait_for

FINISHED_RUN_STATES = ("success", "failed")


class AirflowApi:
    def __init__(self, url: str, username: str, password: str) -> None:
        self.url = url
        self.session = requests.Session()
        # SimpleAuthManager's login endpoint; the same token works for the whole public API.
        response = self.session.post(
            f"{url}/auth/token", json={"username": username, "password": password}, timeout=30
        )
        response.raise_for_status()
        self.session.headers["Authorization"] = f"Bearer {response.json()['access_token']}"

    # --- plain HTTP -------------------------------------------------------------------------------------

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", 30)
        return self.session.request(method, f"{self.url}/api/v2{path}", **kwargs)

    def get(self, path: str, **params: Any) -> Any:
        response = self.request("GET", path, params=params)
        _raise_for_status(response)
        return response.json()

    def post(self, path: str, body: dict[str, Any]) -> Any:
        response = self.request("POST", path, json=body)
        _raise_for_status(response)
        return response.json()

    def patch(self, path: str, body: dict[str, Any]) -> Any:
        response = self.request("PATCH", path, json=body)
        _raise_for_status(response)
        return response.json()

    # --- DAGs and runs ----------------------------------------------------------------------------------

    def wait_for_dag(self, dag_id: str, timeout: float = 60) -> dict[str, Any]:
        """Wait until the dag-processor has parsed and stored ``dag_id``; import errors are shown on timeout."""

        def parsed() -> dict[str, Any] | None:
            response = self.request("GET", f"/dags/{quote(dag_id)}")
            return response.json() if response.status_code == 200 else None

        def import_errors() -> str:
            errors = self.get("/importErrors")["import_errors"]
            return (
                "; ".join(f"{e['filename']}: {e['stack_trace'][-500:]}" for e in errors) or "no import errors"
            )

        return wait_for(parsed, timeout=timeout, what=f"DAG {dag_id} to be parsed", describe=import_errors)

    def unpause(self, dag_id: str) -> None:
        assert self.patch(f"/dags/{quote(dag_id)}", {"is_paused": False})["is_paused"] is False

    def pause(self, dag_id: str) -> None:
        self.patch(f"/dags/{quote(dag_id)}", {"is_paused": True})

    def trigger(
        self, dag_id: str, logical_date: datetime | None = None, conf: dict[str, Any] | None = None
    ) -> str:
        """Create a manual run (logical date now unless given, as the UI does); returns its run id."""
        moment = logical_date or datetime.now(timezone.utc)
        body: dict[str, Any] = {"logical_date": moment.isoformat(), **({"conf": conf} if conf else {})}
        run = self.post(f"/dags/{quote(dag_id)}/dagRuns", body)
        return str(run["dag_run_id"])

    def dag_run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        return dict(self.get(f"/dags/{quote(dag_id)}/dagRuns/{quote(run_id)}"))

    def dag_runs(self, dag_id: str) -> list[dict[str, Any]]:
        return list(self.get(f"/dags/{quote(dag_id)}/dagRuns")["dag_runs"])

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float = 90) -> dict[str, Any]:
        """Wait until the run finishes; returns it (check its ``state``)."""

        def finished() -> dict[str, Any] | None:
            run = self.dag_run(dag_id, run_id)
            return run if run["state"] in FINISHED_RUN_STATES else None

        return wait_for(
            finished,
            timeout=timeout,
            what=f"run {run_id} of {dag_id} to finish",
            describe=lambda: self.describe_run(dag_id, run_id),
        )

    # --- task instances ---------------------------------------------------------------------------------

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        path = f"/dags/{quote(dag_id)}/dagRuns/{quote(run_id)}/taskInstances"
        return list(self.get(path)["task_instances"])

    def task_instance(self, dag_id: str, run_id: str, task_id: str) -> dict[str, Any]:
        return dict(self.get(f"/dags/{quote(dag_id)}/dagRuns/{quote(run_id)}/taskInstances/{quote(task_id)}"))

    def task_tries(self, dag_id: str, run_id: str, task_id: str) -> list[dict[str, Any]]:
        path = f"/dags/{quote(dag_id)}/dagRuns/{quote(run_id)}/taskInstances/{quote(task_id)}/tries"
        return list(self.get(path)["task_instances"])

    def xcom(
        self, dag_id: str, run_id: str, task_id: str, key: str = "return_value", map_index: int = -1
    ) -> Any:
        path = f"/dags/{quote(dag_id)}/dagRuns/{quote(run_id)}/taskInstances/{quote(task_id)}/xcomEntries/{quote(key)}"
        return self.get(path, map_index=map_index, deserialize=True)["value"]

    def task_log(self, dag_id: str, run_id: str, task_id: str, try_number: int) -> str:
        """The task's log for one try, as text (one line per structured log event)."""
        path = (
            f"/dags/{quote(dag_id)}/dagRuns/{quote(run_id)}/taskInstances/{quote(task_id)}/logs/{try_number}"
        )
        content = self.get(path, full_content=True)["content"]
        if isinstance(content, str):
            return content
        return "\n".join(
            " ".join(str(event.get(key, "")) for key in ("timestamp", "level", "event", "error_detail"))
            for event in content
        )

    def describe_run(self, dag_id: str, run_id: str) -> str:
        """The run's state and each task's state and try, for failure messages."""
        try:
            run = self.dag_run(dag_id, run_id)
            tasks = ", ".join(
                f"{ti['task_id']}={ti['state']} (try {ti['try_number']})"
                for ti in self.task_instances(dag_id, run_id)
            )
        except requests.RequestException as exc:
            return f"(could not read the run: {exc})"
        return f"run {run['state']}: {tasks}"

    def failure_report(self, dag_id: str, run_id: str) -> str:
        """Every task's state and, for tasks that did not succeed, the end of their latest log."""
        parts = [self.describe_run(dag_id, run_id)]
        for ti in self.task_instances(dag_id, run_id):
            if ti["state"] != "success" and ti["try_number"]:
                log = self.task_log(dag_id, run_id, ti["task_id"], ti["try_number"])
                parts.append(f"--- {ti['task_id']} try {ti['try_number']} ---\n{log[-4000:]}")
        return "\n".join(parts)

    # --- pools ------------------------------------------------------------------------------------------

    def pool(self, name: str = "default_pool") -> dict[str, Any]:
        return dict(self.get(f"/pools/{quote(name)}"))


def _raise_for_status(response: requests.Response) -> None:
    if response.status_code >= 400:
        raise AssertionError(
            f"{response.request.method} {response.url} answered {response.status_code}: {response.text[:2000]}"
        )
