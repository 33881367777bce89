"""Session fixtures: one sandbox and one real Airflow deployment shared by all e2e tests."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

from airflow_provider_tencent_sms.sandbox import Sandbox

from .airflow_api import AirflowApi
from .clock import midday_zone
from .deployment import Deployment, airflow_deployment

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "e2e"
E2E_DAGS = sorted((Path(__file__).parent / "dags").glob("*.py"))
EXAMPLE_DAGS = [REPO / "dags" / "tencent_sms_daily_report.py"]


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where screenshots and component logs are kept after the run (git-ignored); emptied first."""
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def sms_sandbox() -> Iterator[Sandbox]:
    # Tencent accepts marketing SMS only 08:00-22:00 in the sandbox's zone: pick one where it is midday,
    # so the suite passes at any hour.
    with Sandbox(timezone=midday_zone(datetime.now(timezone.utc)).key) as sandbox:
        yield sandbox


@pytest.fixture(scope="session")
def airflow(
    tmp_path_factory: pytest.TempPathFactory, sms_sandbox: Sandbox, artifacts: Path
) -> Iterator[Deployment]:
    root = tmp_path_factory.mktemp("airflow-e2e")
    connections = {"tencent_sms_default": sms_sandbox.connection_json()}
    with airflow_deployment(root, EXAMPLE_DAGS + E2E_DAGS, connections, artifacts / "logs") as deployment:
        yield deployment


@pytest.fixture(scope="session")
def api(airflow: Deployment) -> AirflowApi:
    return AirflowApi(airflow.url, airflow.username, airflow.password)


@pytest.fixture
def inbox(sms_sandbox: Sandbox, airflow: Deployment) -> Iterator[Sandbox]:
    """The sandbox, emptied for this test; afterwards every component must still be running."""
    sms_sandbox.clear()
    sms_sandbox.clear_faults()
    sms_sandbox.clear_deliveries()
    yield sms_sandbox
    airflow.assert_running()
