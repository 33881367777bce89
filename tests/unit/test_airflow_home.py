"""``make test``, ``make docs`` and ``make demo`` leave the user's Airflow alone: no ``~/airflow`` appears.

Each check runs the entry point's Airflow-importing step in a subprocess whose ``HOME`` is an empty folder and
whose environment has no ``AIRFLOW_*`` settings, as on a new user's machine.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _run(code: str, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AIRFLOW", "_AIRFLOW"))}
    env["HOME"] = str(home)
    return subprocess.run(
        [sys.executable, *(["-c", code] if code else []), *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def test_airflow_left_alone_creates_home_airflow(tmp_path):
    # What the checks below guard against: Airflow's default home is $HOME/airflow, created on import.
    _run("import airflow.sdk", tmp_path)
    assert (tmp_path / "airflow").is_dir()


def test_the_docs_build_gives_airflow_its_own_home(tmp_path):
    documented = re.findall(
        r"^\.\. auto(?:module|class):: (\S+)$", (REPO / "docs" / "api.md").read_text(), re.M
    )
    assert documented, "docs/api.md documents no module: this check would prove nothing"
    # What sphinx-build does: run conf.py, then autodoc imports each documented module.
    code = (
        "import importlib, runpy\n"
        "runpy.run_path('docs/conf.py')\n"
        f"for name in {documented!r}:\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except ImportError:\n"
        "        importlib.import_module(name.rpartition('.')[0])\n"
        "from airflow.configuration import AIRFLOW_HOME\n"
        "print(AIRFLOW_HOME)\n"
    )
    result = _run(code, tmp_path)
    assert not (tmp_path / "airflow").exists()
    assert Path(result.stdout.strip()) == REPO / "docs" / "_build" / "airflow_home"


def test_the_demo_gives_airflow_its_own_home(tmp_path):
    code = (
        "from demo.home import airflow_environment, use_environment\n"
        "use_environment(airflow_environment())\n"
        "import airflow_provider_tencent_sms.operators.sms\n"
        "from airflow.configuration import AIRFLOW_HOME\n"
        "print(AIRFLOW_HOME)\n"
    )
    result = _run(code, tmp_path)
    assert not (tmp_path / "airflow").exists()
    assert Path(result.stdout.strip()) == REPO / ".demo" / "airflow_home"


def test_the_test_suite_gives_airflow_its_own_home(tmp_path):
    # Collecting imports conftest.py, every pytest plugin (this provider's included) and the test module,
    # which imports Airflow and the operator.
    result = _run(
        "", tmp_path, "-m", "pytest", "--collect-only", "-q", "tests/operator/test_operator_execute.py"
    )
    assert re.search(r"^[1-9]\d* tests? collected", result.stdout, re.M), result.stdout
    assert not (tmp_path / "airflow").exists()
