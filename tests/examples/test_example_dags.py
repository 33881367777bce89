"""The example DAGs in dags/, run end to end by real Airflow (``dag.test()``) against the sandbox over HTTP.

What a user copying an example relies on: it imports cleanly, its tasks end as described, and the right
people get the right text exactly once.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from airflow_provider_tencent_sms.sandbox import Sandbox
from tests.clock import clock_at_task_start
from tests.conftest import REPO
from tests.examples.runs import example, run_example
from tests.helpers import use_connection

BEIJING = ZoneInfo("Asia/Shanghai")
REPORT = "tencent_sms_daily_report.py"
ALERTS = "tencent_sms_pipeline_alerts.py"
CAMPAIGN = "tencent_sms_marketing_campaign.py"
DELIVERY = "tencent_sms_delivery_report.py"
LARGE_CAMPAIGN = "tencent_sms_large_campaign.py"
ON_CALL = "+8613800138000"
RETRY_ALERT = "【Airflow】[extract] retrying after: source database not reachable"
#: The daily report's on-call numbers, in E.164.
REPORT_NUMBERS = ["+8613800138000", "+8613900139000", "+16502530000"]
FAILURE_ALERT = "【Airflow】[extract] failed: source database not reachable"
OFFERS = {
    "+8613800138000": "【Airflow】Ann: 20% off Reply TD to unsubscribe.",
    "+8613800138001": "【Airflow】Bob: 10% off Reply TD to unsubscribe.",
    "+8613800138002": "【Airflow】Ann: 20% off Reply TD to unsubscribe.",
}


@pytest.fixture
def sandbox(tencent_sms_sandbox, monkeypatch, airflow_db):
    use_connection(monkeypatch, tencent_sms_sandbox)
    return tencent_sms_sandbox


def texts_by_number(sandbox) -> dict[str, str]:
    """Each recipient's text, failing if anyone got more than one message."""
    counts = Counter(m["phone_number"] for m in sandbox.messages)
    assert set(counts.values()) <= {1}, f"someone got two messages: {counts}"
    return {m["phone_number"]: m["text"] for m in sandbox.messages}


def task_alerts(sandbox) -> list[tuple[str, str]]:
    """The alerts about extract (not the run summaries), in the order sent: (recipient, text)."""
    return [(m["phone_number"], m["text"]) for m in sandbox.messages if "[extract]" in m["text"]]


def tomorrow_in_beijing(hour: int, minute: int = 0, second: int = 0) -> datetime:
    # A day ahead of the real clock, so the moment is in the future whenever the tests run.
    day = datetime.now(BEIJING).date() + timedelta(days=1)
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=BEIJING)


def test_dags_folder_has_the_examples_and_no_import_errors():
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=REPO / "dags")
    assert bag.import_errors == {}
    assert bag.captured_warnings == {}
    assert sorted(bag.dags) == [
        "tencent_sms_collect_opt_outs",
        "tencent_sms_daily_report",
        "tencent_sms_delivery_report",
        "tencent_sms_large_campaign",
        "tencent_sms_marketing_campaign",
        "tencent_sms_pipeline_alerts",
    ]


def test_daily_report_carries_the_computed_figures_to_each_on_call_number(sandbox):
    run = run_example(example(REPORT))
    assert run.states == dict.fromkeys(
        ["count_orders", "sum_revenue", "on_call_team", "send_report"], ("success", 1)
    )
    # The three numbers are written in three formats in the DAG; each gets one message, in E.164.
    text = f"【Airflow】[Report {run.logical_date:%Y-%m-%d}] orders=1284 revenue=56789.5"
    assert texts_by_number(sandbox) == dict.fromkeys(REPORT_NUMBERS, text)
    summary = run.tasks["send_report"].return_value
    # Mainland and global numbers go in separate requests.
    assert (summary["sent"], summary["failed"], summary["fee"], summary["requests"]) == (3, 0, 3, 2)
    assert summary["deferrals"] == []


@pytest.mark.parametrize(
    "logical_date",
    [
        # `airflow dags trigger` in Airflow 3 starts a run without a logical date: no {{ ds }} in its context.
        None,
        # Re-sending an earlier day's report: that day, not today.
        datetime(2026, 1, 5, 9, tzinfo=timezone.utc),
    ],
    ids=["triggered-by-hand", "earlier-day"],
)
def test_daily_report_names_the_day_of_its_run_whatever_started_it(sandbox, logical_date):
    run = run_example(example(REPORT), logical_date=logical_date)
    assert run.logical_date == logical_date
    assert run.states["send_report"] == ("success", 1)
    day = logical_date or run.run_after
    text = f"【Airflow】[Report {day:%Y-%m-%d}] orders=1284 revenue=56789.5"
    assert texts_by_number(sandbox) == dict.fromkeys(REPORT_NUMBERS, text)


def test_alerts_a_retry_and_then_success(sandbox):
    run = run_example(example(ALERTS))
    assert run.state == "success"
    assert run.states == {"extract": ("success", 2), "load": ("success", 1)}
    assert run.tasks["load"].return_value == "loaded 42 rows"
    assert task_alerts(sandbox) == [(ON_CALL, RETRY_ALERT)]


def test_alerts_an_outage_sends_the_retry_then_the_failure_alert(sandbox):
    run = run_example(example(ALERTS), conf={"outage": True})
    assert run.state == "failed"
    assert run.states == {"extract": ("failed", 2), "load": ("upstream_failed", 0)}
    assert task_alerts(sandbox) == [(ON_CALL, RETRY_ALERT), (ON_CALL, FAILURE_ALERT)]


def test_alerts_each_run_gets_its_own_summary(sandbox):
    # One parse, three runs: as in a DAG processor, which runs the callbacks of several runs with one parse.
    dag = example(ALERTS)
    first, second = run_example(dag), run_example(dag)
    outage = run_example(dag, conf={"outage": True})
    summaries = [
        (m["phone_number"], m["text"])
        for m in sandbox.messages
        if "[tencent_sms_pipeline_alerts]" in m["text"]
    ]
    assert summaries == [
        (ON_CALL, f"【Airflow】[tencent_sms_pipeline_alerts] run {first.run_id} succeeded"),
        (ON_CALL, f"【Airflow】[tencent_sms_pipeline_alerts] run {second.run_id} succeeded"),
        (ON_CALL, f"【Airflow】[tencent_sms_pipeline_alerts] run {outage.run_id} FAILED"),
    ]


def test_alerts_follow_the_connection_when_the_same_dag_runs_again(sandbox, monkeypatch):
    dag = example(ALERTS)
    run_example(dag)
    assert task_alerts(sandbox) == [(ON_CALL, RETRY_ALERT)]
    with Sandbox() as moved:
        use_connection(monkeypatch, moved)
        run_example(dag)
        assert task_alerts(moved) == [(ON_CALL, RETRY_ALERT)]


def test_campaign_inside_its_window_sends_each_offer_at_once(sandbox):
    with clock_at_task_start("send_offers", tomorrow_in_beijing(10)):
        run = run_example(example(CAMPAIGN))
    assert run.states == {
        "customers": ("success", 1),
        "opt_outs": ("success", 1),
        "send_offers": ("success", 1),
    }
    assert texts_by_number(sandbox) == OFFERS
    summary = run.tasks["send_offers"].return_value
    # Customers with the same offer share a request: two requests for three customers.
    assert (summary["sent"], summary["failed"], summary["requests"]) == (3, 0, 2)
    assert summary["deferrals"] == []


def test_campaign_outside_its_window_defers_until_eight_then_sends(sandbox):
    opening = tomorrow_in_beijing(8)
    with clock_at_task_start("send_offers", opening - timedelta(seconds=3)):
        run = run_example(example(CAMPAIGN))
    # One try: the task deferred (it did not fail or hold a worker) and resumed when the trigger fired.
    assert run.states == {
        "customers": ("success", 1),
        "opt_outs": ("success", 1),
        "send_offers": ("success", 1),
    }
    summary = run.tasks["send_offers"].return_value
    assert summary["deferrals"] == [
        {"until": opening.astimezone(timezone.utc).isoformat(), "reason": "the marketing window is closed"}
    ]
    assert texts_by_number(sandbox) == OFFERS
    received = [datetime.fromisoformat(m["received_at"]) for m in sandbox.messages]
    assert min(received) >= opening


def test_delivery_report_reconciles_a_lost_answer_and_reports_delivery(sandbox):
    # The request of the two global numbers is processed, then its answer is lost.
    sandbox.add_fault(drop_connection=True, phone_numbers=["+16502530000"], count=1)
    sandbox.set_delivery("+447911123456", description="UNDELIV")
    run = run_example(example(DELIVERY))
    assert run.states == {"send_notice": ("success", 1)}
    assert set(texts_by_number(sandbox)) == {
        "+8613800138000",
        "+8613900139000",
        "+8613700137000",
        "+16502530000",
        "+447911123456",
    }
    summary = run.tasks["send_notice"].return_value
    assert (summary["sent"], summary["unknown"], summary["reconciled"]) == (5, 0, 2)
    delivery = summary["delivery"]
    assert (delivery["exact"], delivery["delivered"], delivery["failed"]) == (True, 4, 1)
    assert delivery["failures"] == [{"phone_number": "+447911123456", "description": "UNDELIV"}]


def test_large_campaign_sends_the_exported_file_in_four_shards_once_each(sandbox):
    from airflow_provider_tencent_sms.shards import shard_of

    run = run_example(example(LARGE_CAMPAIGN))
    shards = [f"send_campaign[{i}]" for i in range(4)]
    assert run.states == {"export_customers": ("success", 1), **dict.fromkeys(shards, ("success", 1))}
    customers = [f"+86137{i:08d}" for i in range(2_000)]
    texts = texts_by_number(sandbox)
    assert texts == dict.fromkeys(customers, "【Airflow】[Shop] Spring sale: 20% off everything this week")
    for index, shard in enumerate(shards):
        summary = run.tasks[shard].return_value
        mine = sum(1 for number in customers if shard_of(number, 4) == index)
        # Each shard sent exactly its own customers, in requests of at most 200.
        assert (summary["recipients"], summary["sent"], summary["failed"]) == (mine, mine, 0)
        assert summary["requests"] == -(-mine // 200)
