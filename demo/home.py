"""The demo's throwaway Airflow: where it lives and the environment every Airflow process of it gets."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
#: Everything the demo writes; git-ignored.
DEMO_DIR = REPO / ".demo"
AIRFLOW_HOME = DEMO_DIR / "airflow_home"
DAGS_FOLDER = REPO / "dags"
DATABASE = AIRFLOW_HOME / "airflow.db"
CONNECTION_ID = "tencent_sms_default"
CONNECTION_VARIABLE = f"AIRFLOW_CONN_{CONNECTION_ID.upper()}"


def airflow_environment(overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """The current environment without the user's own Airflow settings, pointed at the demo's home."""
    # A user's AIRFLOW_HOME, executor or connections (a real Tencent account!) must not leak into the demo.
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AIRFLOW", "_AIRFLOW"))}
    venv_bin = str(Path(sys.executable).parent)
    env.update(
        {
            # `airflow standalone` starts its components as plain `airflow` commands.
            "PATH": f"{venv_bin}{os.pathsep}{env.get('PATH', '')}",
            "AIRFLOW_HOME": str(AIRFLOW_HOME),
            "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{DATABASE}",
            # The examples' opt-out list lives in the demo's home, not in a temp file shared with others.
            "AIRFLOW_VAR_TENCENT_SMS_OPT_OUT_FILE": str(AIRFLOW_HOME / "opt_outs.txt"),
        }
    )
    env.update(overrides or {})
    return env


def use_environment(env: Mapping[str, str]) -> None:
    """Make ``env`` this process's environment (before Airflow is imported: it reads it once)."""
    for key in [key for key in os.environ if key not in env]:
        del os.environ[key]
    os.environ.update(env)


def migrate_database(env: Mapping[str, str], log_path: Path) -> None:
    """``airflow db migrate`` in a subprocess, its output appended to ``log_path``."""
    AIRFLOW_HOME.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        result = subprocess.run(
            [sys.executable, "-m", "airflow", "db", "migrate"],
            env=dict(env),
            stdout=log,
            stderr=subprocess.STDOUT,
            check=False,
        )
    if result.returncode:
        raise RuntimeError(f"airflow db migrate failed (exit {result.returncode}); see {log_path}")
