"""Delivery receipts end to end: real Airflow (``dag.test()``, real deferrals) against the sandbox."""

from __future__ import annotations

import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from airflow.sdk.exceptions import TaskDeferred

from airflow_provider_tencent_sms.operators.sms import SendSmsOperator
from airflow_provider_tencent_sms.session_context import parse, user_part
from airflow_provider_tencent_sms.task_state import InMemoryTaskState
from tests.conftest import TEST_DAGS
from tests.dag_runs import run_dag
from tests.dags.receipt_scenarios import FIVE_REQUESTS
from tests.helpers import use_connection

SCENARIOS = TEST_DAGS / "receipt_scenarios.py"
ALL = {row["phone_number"] for row in FIVE_REQUESTS}
#: The recipients of the third request (the third parameter group).
THIRD = {row["phone_number"] for row in FIVE_REQUESTS if row["template_params"][0] == "G2"}


@pytest.fixture
def sandbox(tencent_sms_sandbox, monkeypatch, airflow_db):
    use_connection(monkeypatch, tencent_sms_sandbox)
    return tencent_sms_sandbox


def received(sandbox) -> Counter[str]:
    return Counter(m["phone_number"] for m in sandbox.messages)


def test_unknown_outcomes_are_settled_by_receipts_after_a_deferral(sandbox):
    # The third of five requests is processed, then the connection drops without an answer.
    sandbox.add_fault(drop_connection=True, after=2, count=1)
    outcome = run_dag(SCENARIOS, "receipts_reconcile")["send"]
    assert (outcome.state, outcome.try_number) == ("success", 1)
    assert received(sandbox) == Counter(dict.fromkeys(ALL, 1))
    summary = outcome.return_value
    assert (summary["sent"], summary["unknown"], summary["reconciled"]) == (20, 0, 4)
    assert any("outcome is unknown" in d["reason"] for d in summary["deferrals"])
    # Each request named this task instance and its batch, with the user's context after it.
    tags = {parse(m["session_context"]) for m in sandbox.messages}
    assert {t.batch for t in tags} == set(range(5)) and len({t.task_instance for t in tags}) == 1
    assert {user_part(m["session_context"]) for m in sandbox.messages} == {"campaign-7"}
    # One lookup per unknown recipient: the first check found them all.
    assert len([r for r in sandbox.requests if r.action == "PullSmsSendStatusByPhoneNumber"]) == 4


def test_a_failed_lookup_proves_nothing_and_the_next_check_asks_again(sandbox):
    sandbox.add_fault(drop_connection=True, after=2, count=1)
    sandbox.add_fault(action="PullSmsSendStatusByPhoneNumber", code="InternalError.Timeout", count=1)
    outcome = run_dag(SCENARIOS, "receipts_reconcile")["send"]
    assert (outcome.state, outcome.try_number) == ("success", 1)
    assert received(sandbox) == Counter(dict.fromkeys(ALL, 1))
    assert outcome.return_value["reconciled"] == 4
    reasons = [d["reason"] for d in outcome.return_value["deferrals"]]
    assert len([r for r in reasons if "outcome is unknown" in r]) == 2


def test_no_receipt_by_the_timeout_fails_listing_the_unknown_recipients(sandbox):
    sandbox.add_fault(drop_connection=True, after=2, count=1)
    for number in THIRD:
        sandbox.set_delivery(number, status=None)  # the carrier never reports
    outcome = run_dag(SCENARIOS, "receipts_unresolved")["send"]
    assert (outcome.state, outcome.try_number) == ("failed", 1)
    assert received(sandbox) == Counter(dict.fromkeys(ALL, 1))
    summary = outcome.xcom["sms_summary"]
    assert (summary["sent"], summary["unknown"], summary["reconciled"]) == (16, 4, 0)
    assert {f["phone_number"] for f in summary["failures"]} == THIRD
    assert {f["code"] for f in summary["failures"]} == {"OutcomeUnknown"}


def test_resend_unresolved_sends_the_dropped_recipients_once_more(sandbox):
    # Dropped before Tencent processed it: no message, so no receipt can ever come.
    sandbox.add_fault(drop_before_send=True, after=2, count=1)
    outcome = run_dag(SCENARIOS, "receipts_resend")["send"]
    assert (outcome.state, outcome.try_number) == ("success", 1)
    assert received(sandbox) == Counter(dict.fromkeys(ALL, 1))
    summary = outcome.return_value
    assert (summary["sent"], summary["unknown"], summary["resent_unresolved"]) == (20, 0, True)
    sends = [r for r in sandbox.requests if r.action == "SendSms"]
    assert len(sends) == 6 and set(sends[-1].phone_numbers) == THIRD


def test_delivery_report_is_exact_below_the_check_limit(sandbox):
    # 600 recipients, 5 % failing: 30 with UNDELIV receipts, of which 10 also got a second, odd description.
    failing = {f"+86139{i:08d}" for i in range(0, 600, 20)}
    for number in failing:
        sandbox.set_delivery(number, description="UNDELIV")
    for number in sorted(failing)[:10]:
        sandbox.set_delivery(number, description="MK:0005 BLACKLIST")
    outcome = run_dag(SCENARIOS, "delivery_exact")["send"]
    assert outcome.state == "success"
    delivery = outcome.return_value["delivery"]
    assert delivery["exact"] is True
    assert (delivery["recipients"], delivery["checked"]) == (600, 600)
    assert (delivery["delivered"], delivery["failed"], delivery["no_receipt"]) == (570, 30, 0)
    assert delivery["failed_by_reason"] == {"UNDELIV": 20, "MK:0005 BLACKLIST": 10}
    assert delivery["delivered_rate"] == 0.95
    assert {f["phone_number"] for f in delivery["failures"]} == failing
    assert "confidence_interval_95" not in delivery


def test_delivery_report_samples_above_the_check_limit(sandbox):
    sandbox.set_delivery("+86139*0", description="MN:0001 SHUTDOWN")  # every tenth number
    outcome = run_dag(SCENARIOS, "delivery_sampled")["send"]
    assert outcome.state == "success"
    delivery = outcome.return_value["delivery"]
    assert delivery["exact"] is False
    assert (delivery["recipients"], delivery["checked"], delivery["no_receipt"]) == (400, 40, 0)
    assert delivery["delivered"] + delivery["failed"] == 40
    assert all(f["phone_number"].endswith("0") for f in delivery["failures"])
    assert len(delivery["failures"]) == delivery["failed"]
    low, high = delivery["confidence_interval_95"]
    assert low <= delivery["estimated_delivery_rate"] == delivery["delivered"] / 40 <= high
    app_wide = delivery["app_wide_callback_statistics"]
    assert (app_wide["callback_count"], app_wide["callback_fail_count"]) == (400, 40)
    lookups = [r for r in sandbox.requests if r.action == "PullSmsSendStatusByPhoneNumber"]
    assert len(lookups) == 40
    # The app-wide statistics are asked for once, for the final report.
    assert len([r for r in sandbox.requests if r.action == "CallbackStatusStatistics"]) == 1


def test_min_delivery_rate_fails_the_task_after_the_wait(sandbox):
    sandbox.set_delivery("+861390000001*", description="UNDELIV")  # 10 to 19: half of them
    outcome = run_dag(SCENARIOS, "delivery_below_minimum")["send"]
    assert (outcome.state, outcome.try_number) == ("failed", 1)
    delivery = outcome.xcom["sms_summary"]["delivery"]
    assert (delivery["delivered"], delivery["failed"]) == (10, 10)
    assert len(received(sandbox)) == 20


def test_sampled_estimate_contains_the_true_rate_for_twenty_thousand_recipients(sandbox):
    # 5 % fail: numbers ending in 00, 10, 20, 30 or 40 of every hundred.
    sandbox.set_delivery("+86139*[0-4]0", description="UNDELIV")
    op = SendSmsOperator(
        task_id="campaign",
        phone_numbers=[f"+86139{i:08d}" for i in range(20_000)],
        template_id="1002",
        template_params=["ETL", "done"],
        reconcile_after=timedelta(seconds=1),
        wait_for_delivery=timedelta(seconds=30),
    )
    # A fixed task instance, so that the sample (seeded from it) and so the test are the same every run.
    ti = SimpleNamespace(dag_id="campaigns", run_id="2026-05-01", task_id="campaign", map_index=-1)
    context = {"task_state_store": InMemoryTaskState(), "ti": ti}
    with pytest.raises(TaskDeferred) as deferred:
        op.execute(context)
    time.sleep(max(0.0, (deferred.value.trigger.moment - datetime.now(timezone.utc)).total_seconds()))
    delivery = op.resume(context)["delivery"]
    assert (delivery["exact"], delivery["recipients"], delivery["checked"]) == (False, 20_000, 1000)
    low, high = delivery["confidence_interval_95"]
    assert low <= 0.95 <= high
    assert high - low < 0.03
    assert delivery["app_wide_callback_statistics"]["callback_fail_count"] == 1000
    assert len(received(sandbox)) == 20_000
