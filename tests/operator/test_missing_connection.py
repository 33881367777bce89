"""SendSmsOperator with a connection id that is not defined: it fails at once, saying how to define it."""

from __future__ import annotations

import pytest
from airflow.sdk.exceptions import AirflowFailException

from airflow_provider_tencent_sms.operators.sms import SendSmsOperator
from airflow_provider_tencent_sms.task_state import InMemoryTaskState
from tests.conftest import TEST_DAGS
from tests.dag_runs import run_dag
from tests.helpers import use_connection

CONN_ID = "tencent_sms_missing"


@pytest.fixture
def sandbox(tencent_sms_sandbox, monkeypatch):
    use_connection(monkeypatch, tencent_sms_sandbox)  # the default connection exists; CONN_ID does not
    monkeypatch.delenv(f"AIRFLOW_CONN_{CONN_ID.upper()}", raising=False)
    return tencent_sms_sandbox


def test_execute_fails_with_the_connection_id_type_and_environment_variable(sandbox):
    op = SendSmsOperator(
        task_id="send",
        phone_numbers=["+8613800138000"],
        template_id="1002",
        template_params=["a", "b"],
        tencent_sms_conn_id=CONN_ID,
    )
    with pytest.raises(AirflowFailException) as info:
        op.execute({"task_state_store": InMemoryTaskState()})
    message = str(info.value)
    assert (
        repr(CONN_ID) in message
        and "tencent_sms" in message
        and "AIRFLOW_CONN_TENCENT_SMS_MISSING" in message
    )
    assert sandbox.requests == []


def test_a_dag_run_fails_after_one_try_despite_retries(sandbox, airflow_db):
    outcome = run_dag(TEST_DAGS / "sms_scenarios.py", "sms_missing_connection")["send"]
    assert (outcome.state, outcome.try_number) == ("failed", 1)
    assert sandbox.requests == []
