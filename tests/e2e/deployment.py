"""A real Airflow 3 deployment on this machine: api-server, scheduler, dag-processor and triggerer.

Each runs as its own ``airflow`` subprocess, sharing a sqlite metadata DB under a throwaway AIRFLOW_HOME.
"""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

from . import processes
from .airflow_config import Settings, environment
from .ports import free_port
from .waiting import wait_for

COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
HEALTH_KEYS = ("metadatabase", "scheduler", "triggerer", "dag_processor")
STARTUP_TIMEOUT = 120.0


class StrayProcessesError(AssertionError):
    """Processes of the deployment outlived its teardown."""


@dataclass(frozen=True)
class Deployment:
    settings: Settings
    password: str
    components: tuple[processes.Component, ...]

    @property
    def url(self) -> str:
        return self.settings.api_url

    @property
    def username(self) -> str:
        return self.settings.username

    @property
    def dags_folder(self) -> Path:
        return self.settings.dags_folder

    def assert_running(self) -> None:
        """Fail with the log of any component that has exited."""
        for component in self.components:
            if not component.alive:
                raise AssertionError(
                    f"airflow {component.name} exited with {component.process.returncode}:\n"
                    f"{component.log_tail()}"
                )

    def processes(self) -> dict[int, str]:
        """Every live process of the deployment (pid -> command line), task processes included."""
        return processes.descendants(self._sessions, self.settings.marker)

    @property
    def _sessions(self) -> set[int]:
        # Each component leads a session of its own (start_new_session), whose id is its pid.
        return {component.process.pid for component in self.components}


def _health(url: str) -> dict[str, str]:
    try:
        document = requests.get(f"{url}/api/v2/monitor/health", timeout=5).json()
    except (requests.RequestException, ValueError):
        return {}
    return {key: (document.get(key) or {}).get("status", "absent") for key in HEALTH_KEYS}


def _wait_healthy(deployment: Deployment) -> None:
    seen: dict[str, str] = {}

    def healthy() -> bool:
        deployment.assert_running()
        seen.clear()
        seen.update(_health(deployment.url))
        return bool(seen) and all(status == "healthy" for status in seen.values())

    wait_for(
        healthy, timeout=STARTUP_TIMEOUT, interval=1.0, what="all components healthy", describe=seen.__repr__
    )


@dataclass(frozen=True)
class ExtraComponent:
    """A process the deployment runs besides its own components, e.g. a Celery worker."""

    name: str
    #: The ``airflow`` subcommand and its arguments.
    args: tuple[str, ...]
    #: Environment on top of the deployment's.
    env: Mapping[str, str]


@contextmanager
def airflow_deployment(
    root: Path,
    dag_files: Iterable[Path],
    connections: Mapping[str, str],
    log_dir: Path,
    *,
    settings_env: Mapping[str, str] | None = None,
    extra_components: Iterable[ExtraComponent] = (),
) -> Iterator[Deployment]:
    """Run the deployment for the duration of the block; stop it and check for strays afterwards.

    ``dag_files`` are copied into a fresh dags folder; component logs go to ``log_dir``.
    ``settings_env`` overrides configuration for every component (e.g. another executor);
    ``extra_components`` are started after the others and stopped with them.
    """
    settings = Settings(
        home=root / "airflow-home",
        dags_folder=root / "dags",
        api_port=free_port(),
        worker_log_port=free_port(),
        trigger_log_port=free_port(),
        username="admin",
        passwords_file=root / "airflow-home" / "passwords.json",
        marker=uuid.uuid4().hex,
    )
    settings.home.mkdir(parents=True)
    settings.dags_folder.mkdir()
    log_dir.mkdir(parents=True, exist_ok=True)
    for dag_file in dag_files:
        shutil.copy(dag_file, settings.dags_folder / dag_file.name)
    # A known password instead of a generated one: SimpleAuthManager keeps users it finds in this file.
    password = secrets.token_urlsafe(12)
    settings.passwords_file.write_text(json.dumps({settings.username: password}))
    env = {**environment(settings, connections), **(settings_env or {})}
    airflow = [sys.executable, "-m", "airflow"]

    migrate_log = log_dir / "db-migrate.log"
    with migrate_log.open("wb") as log:
        result = subprocess.run(
            [*airflow, "db", "migrate"], env=env, stdout=log, stderr=subprocess.STDOUT, timeout=180
        )
    if result.returncode:
        raise RuntimeError(f"airflow db migrate failed:\n{migrate_log.read_text()[-3000:]}")

    components: list[processes.Component] = []
    clean_exit = False
    try:
        for name in COMPONENTS:
            components.append(processes.Component.start(name, [*airflow, name], env, log_dir / f"{name}.log"))
        for extra in extra_components:
            components.append(
                processes.Component.start(
                    extra.name, [*airflow, *extra.args], {**env, **extra.env}, log_dir / f"{extra.name}.log"
                )
            )
        deployment = Deployment(settings, password, tuple(components))
        _wait_healthy(deployment)
        yield deployment
        clean_exit = True
    finally:
        processes.stop(components)
        task_logs = settings.home / "logs"
        if task_logs.is_dir():
            shutil.copytree(task_logs, log_dir / "task-logs", dirs_exist_ok=True)
        strays = processes.kill_strays({c.process.pid for c in components}, settings.marker)
        # After a failure that error matters more; strays are killed either way.
        if strays and clean_exit:
            listing = "\n".join(f"  {pid}: {cmd}" for pid, cmd in sorted(strays.items()))
            raise StrayProcessesError(f"processes outlived the deployment (now killed):\n{listing}")
