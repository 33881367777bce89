"""SendSmsOperator end to end: real Airflow (``dag.test()``) against the sandbox over real HTTP."""

from __future__ import annotations

from collections import Counter
from unittest.mock import ANY

import pytest

from tests.conftest import TEST_DAGS
from tests.dag_runs import run_dag
from tests.helpers import use_connection

SCENARIOS = TEST_DAGS / "sms_scenarios.py"
MIXED_UNIQUE = {"+8613800138000", "+8613900139000", "+16502530000", "+447911123456"}


@pytest.fixture
def sandbox(tencent_sms_sandbox, monkeypatch, airflow_db):
    use_connection(monkeypatch, tencent_sms_sandbox)
    use_connection(monkeypatch, tencent_sms_sandbox, "tencent_sms_v2019", api_version="2019-07-11")
    return tencent_sms_sandbox


def received(sandbox) -> Counter[str]:
    return Counter(m["phone_number"] for m in sandbox.messages)


def attempts(sandbox, number: str) -> int:
    """How many SendSms requests included ``number`` (sent or refused)."""
    return sum(1 for r in sandbox.requests if r.action == "SendSms" and number in r.phone_numbers)


@pytest.mark.parametrize(
    ("dag_id", "version"), [("sms_from_xcom", "2021-01-11"), ("sms_from_xcom_2019", "2019-07-11")]
)
def test_recipients_and_params_from_xcom(sandbox, dag_id, version):
    outcome = run_dag(SCENARIOS, dag_id)["send"]
    assert outcome.state == "success"
    assert received(sandbox) == Counter(dict.fromkeys(MIXED_UNIQUE, 1))
    assert {m["api_version"] for m in sandbox.messages} == {version}
    assert all(m["text"].endswith("[Orders] 42") for m in sandbox.messages)
    # Mainland and global numbers never share a request: two requests for one template.
    sends = [r for r in sandbox.requests if r.action == "SendSms"]
    assert len(sends) == 2
    assert all(len({n.startswith("+86") for n in r.phone_numbers}) == 1 for r in sends)
    summary = outcome.return_value
    assert (summary["sent"], summary["failed"], summary["duplicates"], summary["invalid"]) == (4, 0, 4, 0)
    assert summary["fee"] == 4


@pytest.mark.parametrize("dag_id", ["sms_from_jinja_string", "sms_from_jinja_native"])
def test_jinja_strings_give_the_same_result_with_and_without_native_rendering(sandbox, dag_id):
    assert run_dag(SCENARIOS, dag_id)["send"].state == "success"
    assert received(sandbox) == Counter(dict.fromkeys(MIXED_UNIQUE, 1))
    assert all(m["template_params"] == ["Stock", "7"] for m in sandbox.messages)


def test_personalised_recipients_share_requests_by_parameters(sandbox):
    outcome = run_dag(SCENARIOS, "sms_personalised")["send"]
    assert outcome.state == "success"
    params = {m["phone_number"]: m["template_params"] for m in sandbox.messages}
    assert params == {
        "+8613800138000": ["Ann", "10"],
        "+8613800138001": ["Bob", "20"],
        "+8613800138002": ["Ann", "10"],
    }
    assert len([r for r in sandbox.requests if r.action == "SendSms"]) == 2
    assert outcome.return_value["duplicates"] == 1


def test_terminal_error_fails_after_one_try_despite_retries(sandbox):
    outcome = run_dag(SCENARIOS, "sms_terminal")["send"]
    assert (outcome.state, outcome.try_number) == ("failed", 1)
    assert sandbox.messages == []


def test_transient_error_mid_send_is_retried_without_duplicates(sandbox):
    # 600 recipients = 3 requests, one at a time; the second fails once with a transient code.
    sandbox.add_fault(code="InternalError.Timeout", after=1, count=1)
    outcome = run_dag(SCENARIOS, "sms_transient")["send"]
    assert (outcome.state, outcome.try_number) == ("success", 2)
    counts = received(sandbox)
    assert len(counts) == 600
    assert set(counts.values()) == {1}
    assert outcome.return_value["sent"] == 600


def test_block_listed_recipient_fails_the_task_after_everyone_else_got_one_message(sandbox):
    blocked = "+8613800000002"
    sandbox.add_fault(recipient_code="FailedOperation.PhoneNumberInBlacklist", phone_numbers=[blocked])
    outcome = run_dag(SCENARIOS, "sms_block_list")["send"]
    assert (outcome.state, outcome.try_number) == ("failed", 1)
    counts = received(sandbox)
    assert blocked not in counts
    assert len(counts) == 4 and set(counts.values()) == {1}
    assert attempts(sandbox, blocked) == 1
    # The task failed, yet its result (with the failed recipient) is in XCom for whoever follows up.
    summary = outcome.xcom["sms_summary"]
    assert (summary["sent"], summary["failed"]) == (4, 1)
    assert summary["failures"] == [
        {"phone_number": blocked, "code": "FailedOperation.PhoneNumberInBlacklist", "message": ANY}
    ]


def test_outcome_unknown_is_never_resent(sandbox):
    # The second of three requests is processed, then the connection drops without an answer.
    sandbox.add_fault(drop_connection=True, after=1, count=1)
    outcome = run_dag(SCENARIOS, "sms_outcome_unknown")["send"]
    assert (outcome.state, outcome.try_number) == ("failed", 1)
    counts = received(sandbox)
    assert len(counts) == 600 and set(counts.values()) == {1}
    assert len([r for r in sandbox.requests if r.action == "SendSms"]) == 3


def test_more_than_a_thousand_recipients(sandbox):
    outcome = run_dag(SCENARIOS, "sms_bulk")["send"]
    assert outcome.state == "success"
    counts = received(sandbox)
    assert len(counts) == 1500 and set(counts.values()) == {1}
    assert len([r for r in sandbox.requests if r.action == "SendSms"]) == 8
    assert outcome.return_value["duplicates"] == 100
    assert outcome.return_value["sent"] == 1500


def test_rate_limited_recipient_is_retried_alone_after_a_deferral(sandbox):
    limited = "+8613800000001"
    sandbox.add_fault(
        recipient_code="LimitExceeded.PhoneNumberThirtySecondLimit", phone_numbers=[limited], count=1
    )
    outcome = run_dag(SCENARIOS, "sms_rate_limited")["send"]
    assert (outcome.state, outcome.try_number) == ("success", 1)
    assert received(sandbox) == Counter({"+8613800000000": 1, limited: 1, "+8613800000002": 1})
    assert attempts(sandbox, limited) == 2
    assert attempts(sandbox, "+8613800000000") == 1


def test_invalid_numbers_fail_before_sending_or_are_skipped(sandbox):
    outcomes = run_dag(SCENARIOS, "sms_invalid_numbers")
    assert outcomes["send_fail"].state == "failed"
    assert outcomes["send_skip"].state == "success"
    assert outcomes["send_skip"].return_value["invalid"] == 2
    # Only the skipping task sent anything.
    assert received(sandbox) == Counter({"+8613800138000": 1})


@pytest.mark.parametrize(
    ("dag_id", "template", "problem"),
    [
        ("sms_param_renders_none", "orders={{ ti.xcom_pull(task_ids='count_ordres') }}", "gave None"),
        ("sms_param_undefined", "{{ params.region }}", "undefined"),
    ],
)
def test_a_parameter_that_rendered_nothing_fails_without_retry_and_sends_nothing(
    sandbox, capsys, dag_id, template, problem
):
    outcome = run_dag(SCENARIOS, dag_id)["send"]
    assert (outcome.state, outcome.try_number) == ("failed", 1)
    assert [r for r in sandbox.requests if r.action == "SendSms"] == []
    log = capsys.readouterr().out  # dag.test() writes the task's log to stdout
    assert f"template_params[1] (template {template!r})" in log
    assert problem in log


def _ledger_variables(dag_id: str) -> list[str]:
    from airflow.models.variable import Variable
    from airflow.utils.session import create_session

    with create_session() as session:
        keys = [
            v.key
            for v in session.query(Variable).filter(Variable.key.like(f"tencent_sms_ledger__{dag_id}__%"))
        ]
    return keys


def test_without_a_task_state_store_the_variable_ledger_is_deleted_on_success_only(sandbox):
    assert run_dag(SCENARIOS, "sms_variable_ledger_ok")["send"].state == "success"
    assert len(received(sandbox)) == 2
    assert _ledger_variables("sms_variable_ledger_ok") == []
    # A failed task keeps its ledger: a clear or retry must know what was already sent.
    assert run_dag(SCENARIOS, "sms_variable_ledger_refused")["send"].state == "failed"
    assert len(_ledger_variables("sms_variable_ledger_refused")) == 1


def test_a_mapped_task_refuses_a_parameter_that_rendered_none_too(sandbox):
    outcome = run_dag(SCENARIOS, "sms_mapped_param_renders_none")
    assert outcome["send"].state == "failed"
    assert [r for r in sandbox.requests if r.action == "SendSms"] == []
