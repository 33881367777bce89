"""The release as users get it: the built wheel, installed with plain ``pip`` into a new venv, works.

Slow (pip resolves Airflow from the registry: a minute or more), so marked ``release``; ``make test`` runs it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import venv
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest
import requests

from airflow_provider_tencent_sms import __version__
from tests.sandbox.process import Running

pytestmark = pytest.mark.release

REPO = Path(__file__).resolve().parents[2]
PACKAGE = "airflow_provider_tencent_sms"
DISTRIBUTION = "airflow-provider-tencent-sms"
NUMBER = "+8613800138000"
#: The sandbox's template 1002 is "[{1}] {2}", signed with the default signature "Airflow".
EXPECTED_TEXT = "【Airflow】[release] installed from the wheel"
DAG_FILE = f'''
from datetime import datetime

from airflow.sdk import DAG
from airflow_provider_tencent_sms.operators.sms import SendSmsOperator

with DAG("release_check", schedule=None, start_date=datetime(2026, 1, 1), catchup=False):
    SendSmsOperator(
        task_id="send",
        phone_numbers=["{NUMBER}"],
        template_id="1002",
        template_params=["release", "installed from the wheel"],
    )
'''


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An sdist and a wheel built as ``make dist`` builds them (the wheel from the sdist)."""
    out = tmp_path_factory.mktemp("dist")
    uv = Path(sys.executable).parent / "uv"
    subprocess.run(
        [str(uv), "build", "--quiet", "--python", sys.executable, "--out-dir", str(out)],
        cwd=REPO,
        check=True,
        timeout=300,
    )
    return out


@pytest.fixture(scope="module")
def wheel(dist: Path) -> Path:
    (path,) = dist.glob("*.whl")
    return path


def _isolated_environment(**settings: str) -> dict[str, str]:
    """This environment without the test run's Python and Airflow settings (nor the clone on sys.path)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AIRFLOW", "_AIRFLOW", "PYTEST", "PYTHON", "VIRTUAL_ENV"))
    }
    env.update(settings)
    return env


def test_the_wheel_holds_the_package_and_its_metadata(wheel: Path) -> None:
    dist_info = f"{PACKAGE}-{__version__}.dist-info/"
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = Parser().parsestr(archive.read(dist_info + "METADATA").decode())
        entry_points = archive.read(dist_info + "entry_points.txt").decode()
    assert f"{PACKAGE}/py.typed" in names
    assert f"{PACKAGE}/operators/sms.py" in names
    assert f"{PACKAGE}/sandbox/__main__.py" in names
    strays = [name for name in names if not name.startswith((f"{PACKAGE}/", dist_info))]
    assert strays == []  # no tests/, bench/, demo/, docs/ or dags/
    assert metadata["Name"] == DISTRIBUTION
    assert metadata["Version"] == __version__
    urls = dict(url.split(", ", 1) for url in metadata.get_all("Project-URL"))
    assert {"Homepage", "Documentation", "Source", "Changelog"} <= set(urls)
    assert all(url.startswith("https://") for url in urls.values())
    assert "[apache_airflow_provider]" in entry_points
    assert "tencent-sms-sandbox = " in entry_points


def test_the_sdist_builds_the_same_version(dist: Path) -> None:
    (sdist,) = dist.glob("*.tar.gz")
    root = f"{PACKAGE}-{__version__}"
    with tarfile.open(sdist) as archive:
        names = archive.getnames()
    assert f"{root}/pyproject.toml" in names
    assert f"{root}/{PACKAGE}/py.typed" in names


@pytest.mark.timeout(1200)
def test_the_wheel_installs_with_pip_and_sends_from_a_new_venv(wheel: Path, tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    bin_dir = env_dir / "bin"
    # Plain pip, dependencies from the registry: what a user does; no lock, no editable install.
    subprocess.run(
        [str(bin_dir / "pip"), "install", "--quiet", str(wheel)],
        cwd=tmp_path,
        env=_isolated_environment(),
        check=True,
        timeout=1100,
    )
    home, dags = tmp_path / "airflow_home", tmp_path / "dags"
    dags.mkdir()
    (dags / "release_check.py").write_text(DAG_FILE)
    env = _isolated_environment(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__DAGS_FOLDER=str(dags),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{home / 'airflow.db'}",
    )

    def airflow(*args: str) -> str:
        result = subprocess.run(
            [str(bin_dir / "airflow"), *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, f"airflow {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
        return result.stdout

    where = subprocess.run(
        [str(bin_dir / "python"), "-c", f"import {PACKAGE}; print({PACKAGE}.__file__)"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert Path(where.strip()).is_relative_to(env_dir), "the provider was not imported from the new venv"

    providers = json.loads(airflow("providers", "list", "--output", "json"))
    assert {"package_name": DISTRIBUTION, "version": __version__} in [
        {key: provider[key] for key in ("package_name", "version")} for provider in providers
    ]

    sandbox = Running("--quiet", script=bin_dir / "tencent-sms-sandbox", env=env)
    try:
        airflow("db", "migrate")
        env["AIRFLOW_CONN_TENCENT_SMS_DEFAULT"] = json.dumps(sandbox.connection)
        airflow("dags", "test", "release_check")
        messages = requests.get(f"{sandbox.url}/_sandbox/messages", timeout=10).json()
    finally:
        code, log = sandbox.stop()
    assert [(m["phone_number"], m["template_id"], m["text"]) for m in messages] == [
        (NUMBER, "1002", EXPECTED_TEXT)
    ]
    assert (code, log) == (0, "")
