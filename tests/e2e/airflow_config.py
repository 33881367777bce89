"""The configuration of the throwaway deployment, as the ``AIRFLOW__*`` environment all components share."""

from __future__ import annotations

import base64
import os
import secrets
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .processes import MARKER_VARIABLE


@dataclass(frozen=True)
class Settings:
    home: Path
    dags_folder: Path
    api_port: int
    worker_log_port: int
    trigger_log_port: int
    username: str
    passwords_file: Path
    marker: str

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def database(self) -> Path:
        return self.home / "airflow.db"


def _inherited() -> dict[str, str]:
    # The test process has its own Airflow settings (tests/conftest.py: unit-test mode, another home) and
    # pytest's variables change how Airflow logs; none of that may leak into the deployment.
    return {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AIRFLOW", "_AIRFLOW", "PYTEST"))
    }


def environment(settings: Settings, connections: Mapping[str, str]) -> dict[str, str]:
    """Environment for every component; ``connections`` maps conn ids to ``AIRFLOW_CONN_*`` JSON values."""
    venv_bin = str(Path(sys.executable).parent)
    env = _inherited()
    env.update(
        {
            "PATH": f"{venv_bin}{os.pathsep}{env.get('PATH', '')}",
            "PYTHONUNBUFFERED": "1",
            MARKER_VARIABLE: settings.marker,
            "AIRFLOW_HOME": str(settings.home),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{settings.database}",
            "AIRFLOW__CORE__DAGS_FOLDER": str(settings.dags_folder),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            # Two cores: a few tasks at once is all this machine can run without starving the scheduler.
            "AIRFLOW__CORE__PARALLELISM": "4",
            "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{settings.username}:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(settings.passwords_file),
            # Shared secrets: the scheduler signs the tokens workers present to the api-server, and
            # connection passwords saved through the UI are decrypted by the workers.
            "AIRFLOW__CORE__FERNET_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(64),
            "AIRFLOW__API__SECRET_KEY": secrets.token_urlsafe(32),
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(settings.api_port),
            "AIRFLOW__API__BASE_URL": settings.api_url,
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{settings.api_url}/execution/",
            # The defaults (8793/8794) would collide with any other Airflow on this machine.
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(settings.worker_log_port),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(settings.trigger_log_port),
            # Parse new and changed DAG files within seconds instead of minutes.
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "10",
        }
    )
    for conn_id, value in connections.items():
        env[f"AIRFLOW_CONN_{conn_id.upper()}"] = value
    return env
