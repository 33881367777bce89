"""Test-wide setup: a throwaway AIRFLOW_HOME, set before anything imports Airflow."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

_HOME = Path(tempfile.mkdtemp(prefix="tencent-sms-airflow-home-"))
REPO = Path(__file__).resolve().parent.parent
#: The tests' dags_folder: links to the scenario DAGs and to the example DAGs users see in dags/.
TEST_DAGS = _HOME / "dags"
TEST_DAGS.mkdir()
for _dag_file in [*(REPO / "tests" / "dags").glob("*.py"), *(REPO / "dags").glob("*.py")]:
    (TEST_DAGS / _dag_file.name).symlink_to(_dag_file)
os.environ["AIRFLOW_HOME"] = str(_HOME)
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(TEST_DAGS)
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "True"
os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{_HOME / 'airflow.db'}"
os.environ.pop("AIRFLOW_CONN_TENCENT_SMS_DEFAULT", None)
# The example DAGs' opt-out list: in the throwaway home unless a test points it elsewhere.
os.environ["AIRFLOW_VAR_TENCENT_SMS_OPT_OUT_FILE"] = str(_HOME / "opt_outs.txt")


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """A migrated sqlite metadata DB (needed by ``dag.test()``)."""
    subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"],
        check=True,
        capture_output=True,
        env=os.environ.copy(),
    )
    return _HOME / "airflow.db"
