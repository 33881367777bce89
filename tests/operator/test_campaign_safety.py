"""Dry runs, the template preflight, the fee estimate and cap, and exclusions, against the sandbox."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from airflow.sdk.exceptions import AirflowException, AirflowFailException, TaskDeferred

from airflow_provider_tencent_sms.operators.sms import SendSmsOperator
from airflow_provider_tencent_sms.sandbox import Sandbox
from airflow_provider_tencent_sms.task_state import InMemoryTaskState
from tests.helpers import REVIEW_STATES, use_connection
from tests.operator.test_marketing_window import numbers, once_each
from tests.operator.test_operator_execute import send


@pytest.fixture
def sandbox(monkeypatch):
    with Sandbox(templates=REVIEW_STATES) as sandbox:
        use_connection(monkeypatch, sandbox)
        yield sandbox


def task_log(capsys) -> str:
    """What the operator logged: outside a task runner, Airflow's task logger writes to the console."""
    captured = capsys.readouterr()
    return captured.out + captured.err


def sendsms_requests(sandbox: Sandbox) -> int:
    return sum(1 for r in sandbox.requests if r.action == "SendSms")


def template_queries(sandbox: Sandbox) -> int:
    return sum(1 for r in sandbox.requests if r.action == "DescribeSmsTemplateList")


# -- dry runs ------------------------------------------------------------------------------------------

LONG_TIERS = 10  # tiers 0-9 have a long offer: two SMS each
EXCLUDED = [f"139{i:08d}" for i in range(15, 15 + 40 * 20, 40)]  # 20 customers of tier 15, national format


def campaign_rows() -> list[dict[str, Any]]:
    """10,000 personalised rows: 9,600 Mainland customers in 40 offer tiers, 400 global ones."""
    rows = []
    for i in range(9600):
        tier = i % 40
        offer = f"Offer {tier:02d}: " + ("x" * 40 if tier < LONG_TIERS else "20% off")
        rows.append({"phone_number": f"+86139{i:08d}", "template_params": [offer]})
    rows += [{"phone_number": f"+1415555{j:04d}", "template_params": ["Global offer"]} for j in range(400)]
    rows += rows[:5]  # five duplicates
    rows += [{"phone_number": bad, "template_params": ["x"]} for bad in ("12345", "+86139", "call me")]
    return rows


def test_a_dry_run_of_10000_personalised_recipients_reports_the_plan_and_cost_and_sends_nothing(
    sandbox, capsys
):
    store = InMemoryTaskState()
    options = {
        "template_id": "1003",
        "template_params": None,
        "recipients": campaign_rows(),
        "on_invalid_number": "skip",
        "exclude": EXCLUDED,
    }
    report = send(dry_run=True, **options).execute({"task_state_store": store})
    assert sendsms_requests(sandbox) == 0
    assert store.values == {}  # the ledger was not written
    assert report["dry_run"] is True
    assert report["connection"]["ok"] is True
    assert {k: report[k] for k in ("recipients", "duplicates", "invalid", "excluded")} == {
        "recipients": 9980,
        "duplicates": 5,
        "invalid": 3,
        "excluded": 20,
    }
    # 40 Mainland tiers of 240 (one of 220): 200 + the rest, two requests each; 400 global: two more.
    assert (report["requests"], report["mainland_requests"], report["global_requests"]) == (82, 80, 2)
    assert report["parameter_sets"] == 41
    assert report["template"] == {
        "checked": True,
        "id": "1003",
        "name": "Offer",
        "status": "approved",
        "content": "{1} Reply TD to unsubscribe.",
        "placeholders": 1,
    }
    # "【Airflow】Offer 03: xxx… Reply TD to unsubscribe." is 9 + 50 + 25 = 84 characters: two SMS.
    # Short offers make 51 characters, the global one 46: one SMS each.
    assert report["estimate"] == {
        "billed_sms": 7180 + 400 + 2 * 2400,
        "recipients_by_segments": {"1": 7580, "2": 2400},
        "max_fee": None,
        "within_max_fee": None,
    }
    log = task_log(capsys)
    assert "Dry run: nothing is sent." in log
    assert "Estimated fee: 12380 billed SMS (7580 recipients x 1 SMS, 2400 recipients x 2 SMS)" in log

    # Sent for real, the sandbox bills exactly the estimate.
    summary = send(**options).execute({"task_state_store": InMemoryTaskState()})
    assert (summary["sent"], summary["excluded"], summary["fee"]) == (9980, 20, 12380)
    assert summary["estimated_fee"] == 12380
    assert not {f"+86{n}" for n in EXCLUDED} & set(once_each(sandbox))


def test_a_dry_run_outside_the_window_says_when_it_would_send_instead_of_deferring(sandbox):
    with time_machine.travel(datetime(2026, 11, 25, 23, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False):
        report = send(
            dry_run=True,
            template_id="1003",
            template_params=["Sale"],
            sms_type="marketing",
            phone_numbers=numbers(3),
        ).execute({"task_state_store": InMemoryTaskState()})
    assert report["window"]["open"] is False
    assert report["window"]["next_opening"] == "2026-11-26T00:00:00+00:00"
    assert sendsms_requests(sandbox) == 0


def test_a_dry_run_reports_a_bad_template_instead_of_failing(sandbox):
    report = send(dry_run=True, template_params=["a", "b", "c"], phone_numbers=numbers(2)).execute(
        {"task_state_store": InMemoryTaskState()}
    )
    assert "has 2 placeholders" in report["template"]["problem"]
    assert sendsms_requests(sandbox) == 0


# -- template preflight --------------------------------------------------------------------------------


def test_a_template_with_2_placeholders_given_3_parameters_fails_before_any_sendsms(sandbox):
    with pytest.raises(AirflowFailException) as raised:
        send(template_params=["a", "b", "c"], phone_numbers=numbers(3)).execute(
            {"task_state_store": InMemoryTaskState()}
        )
    assert str(raised.value) == (
        "Template 1002 has 2 placeholders ('[{1}] {2}') but 3 template parameters were given: pass exactly 2. "
        "Nothing was sent."
    )
    assert sendsms_requests(sandbox) == 0
    assert template_queries(sandbox) == 1


def test_a_rejected_template_fails_with_its_review_reply(sandbox):
    with pytest.raises(AirflowFailException) as raised:
        send(template_id="2003", template_params=["x"], phone_numbers=numbers(3)).execute(
            {"task_state_store": InMemoryTaskState()}
        )
    assert "Template 2003 (Spring sale) is rejected; Tencent's review reply: " in str(raised.value)
    assert "'Marketing templates must end with an unsubscribe instruction'" in str(raised.value)
    assert sendsms_requests(sandbox) == 0


@pytest.mark.parametrize(
    ("template_id", "status"), [("2002", "in review"), ("2004", "approved but not yet active")]
)
def test_a_template_not_yet_usable_fails_naming_its_status(sandbox, template_id, status):
    with pytest.raises(AirflowFailException, match=f"is {status}\\. Only approved templates"):
        send(template_id=template_id, template_params=["x"], phone_numbers=numbers(1)).execute(
            {"task_state_store": InMemoryTaskState()}
        )
    assert sendsms_requests(sandbox) == 0


def test_an_account_that_cannot_ask_gets_a_notice_and_sends(sandbox, capsys):
    sandbox.add_fault(code="FailedOperation.NotEnterpriseCertification", action="DescribeSmsTemplateList")
    summary = send(phone_numbers=numbers(3)).execute({"task_state_store": InMemoryTaskState()})
    assert summary["sent"] == 3
    assert summary["estimated_fee"] is None
    log = task_log(capsys)
    assert "Template 1002 was not checked before sending" in log
    assert "FailedOperation.NotEnterpriseCertification" in log


def test_the_template_is_checked_once_a_try_not_on_every_resume(sandbox):
    # One recipient is briefly rate-limited: the task defers, then resumes to send it.
    limited = numbers(3)[1]
    sandbox.add_fault(
        recipient_code="LimitExceeded.PhoneNumberThirtySecondLimit", phone_numbers=[limited], count=1
    )
    op = send(phone_numbers=numbers(3), max_fee=3, recipient_retry_delay=timedelta(seconds=1))
    context = {"task_state_store": InMemoryTaskState()}
    with pytest.raises(TaskDeferred) as deferred:
        op.execute(context)
    assert template_queries(sandbox) == 1
    # Were it asked again, this failure would leave max_fee without an estimate halfway through the send.
    sandbox.add_fault(action="DescribeSmsTemplateList", code="InternalError.Timeout")
    time.sleep(max(0.0, (deferred.value.trigger.moment - datetime.now(timezone.utc)).total_seconds()))
    summary = op.resume(context)
    assert template_queries(sandbox) == 1
    assert (summary["sent"], summary["estimated_fee"]) == (3, 3)
    assert once_each(sandbox)[limited] == 1


def test_preflight_false_asks_nothing(sandbox):
    summary = send(phone_numbers=numbers(3), preflight=False).execute(
        {"task_state_store": InMemoryTaskState()}
    )
    assert summary["sent"] == 3
    assert template_queries(sandbox) == 0


# -- the fee cap ---------------------------------------------------------------------------------------


def test_an_estimate_over_max_fee_refuses_to_start(sandbox):
    with pytest.raises(AirflowFailException) as raised:
        send(phone_numbers=numbers(300), max_fee=299).execute({"task_state_store": InMemoryTaskState()})
    assert "estimated at 300 billed SMS, more than max_fee=299" in str(raised.value)
    assert sendsms_requests(sandbox) == 0


#: The stop at the fee cap read back from the ledger (capped_at); other fee-cap stops are worded differently.
CAPPED = "Sending stopped at the fee cap: the next request would have taken the fee to more than max_fee="


def wait_for(deferred: TaskDeferred) -> None:
    time.sleep(max(0.0, (deferred.trigger.moment - datetime.now(timezone.utc)).total_seconds()))


@pytest.mark.parametrize("max_concurrency", [1, None], ids=["one at a time", "default concurrency"])
def test_max_fee_stops_a_send_at_the_cap_with_nothing_sent_past_it(sandbox, max_concurrency):
    # Tencent bills each message 2 SMS where the estimate says 1: the cap, not the estimate, decides.
    sandbox.add_fault(fee=2)
    store = InMemoryTaskState()
    concurrency = {} if max_concurrency is None else {"max_concurrency": max_concurrency}
    op = send(phone_numbers=numbers(1000), max_fee=1000, **concurrency)
    with pytest.raises(AirflowFailException) as raised:
        op.execute({"task_state_store": store})
    # The first request goes alone: 200 recipients billed 400, which prices the rest at twice the estimate.
    # 200 more (reserved at 400): 800. A third request would pass 1000, however many could be in flight.
    assert sendsms_requests(sandbox) == 2
    assert len(once_each(sandbox)) == 400
    assert sum(m["fee"] for m in sandbox.messages) == 800
    message = str(raised.value)
    assert message.startswith(CAPPED + "1000 (Tencent billed up to 2 times the estimate). ")
    assert "400 recipients had their message (fee 800); 600 were not sent" in message
    # Running it again with the same cap sends nothing and says so, from the stop kept in the ledger.
    with pytest.raises(AirflowFailException, match=CAPPED + "1000"):
        send(phone_numbers=numbers(1000), max_fee=1000, **concurrency).execute({"task_state_store": store})
    assert sendsms_requests(sandbox) == 2
    # A higher cap is checked against the rest at the rate Tencent billed, kept in the ledger too.
    with pytest.raises(AirflowFailException) as raised:
        send(phone_numbers=numbers(1000), max_fee=1999, **concurrency).execute({"task_state_store": store})
    assert "the 600 recipients not yet sent would cost an estimated 1200" in str(raised.value)
    assert sendsms_requests(sandbox) == 2


def test_a_resume_after_a_partial_send_at_the_cap_says_who_had_the_message(sandbox):
    # One recipient billed 2 (estimated 1), the other rate-limited: at that rate it would take the fee to 4.
    nums = numbers(2)
    sandbox.add_fault(fee=2, phone_numbers=[nums[0]])
    sandbox.add_fault(
        recipient_code="LimitExceeded.PhoneNumberThirtySecondLimit", phone_numbers=[nums[1]], count=1
    )
    op = send(phone_numbers=nums, max_fee=2, recipient_retry_delay=timedelta(seconds=1))
    with pytest.raises(AirflowFailException) as raised:
        op.execute({"task_state_store": InMemoryTaskState()})
    message = str(raised.value)
    assert message.startswith(
        "Sending stopped at the fee cap: the 1 recipient not yet sent would cost an estimated 2 (Tencent billed "
        "up to 2 times the estimate), and with the 2 spent so far that is more than max_fee=2. 1 recipient had "
        "their message (fee 2); 1 was not sent."
    )
    assert once_each(sandbox) == {nums[0]: 1}


def test_at_the_cap_unknown_outcomes_are_reconciled_before_the_task_fails(sandbox):
    # Five requests of two recipients each (one parameter group a request), estimated 1 SMS a message.
    rows = [{"phone_number": n, "template_params": [f"g{i // 2}", "b"]} for i, n in enumerate(numbers(10))]

    def capped(max_fee: int, **kwargs: Any) -> SendSmsOperator:
        return send(recipients=rows, template_params=None, max_fee=max_fee, max_concurrency=1, **kwargs)

    sandbox.add_fault(fee=2)
    # The second request is processed, then its connection drops: two outcomes unknown, billed or not.
    sandbox.add_fault(drop_connection=True, after=1, count=1)
    context = {"task_state_store": InMemoryTaskState()}
    op = capped(10, reconcile_after=timedelta(seconds=1))
    # Billed 4, then 4 reserved for the unknown request: the third (4 more) would pass 10. Before failing,
    # the task waits to look the unknown recipients up.
    with pytest.raises(TaskDeferred) as deferred:
        op.execute(context)
    assert sendsms_requests(sandbox) == 2
    wait_for(deferred.value)
    with pytest.raises(AirflowFailException) as raised:
        op.resume(context)
    message = str(raised.value)
    assert message.startswith(
        CAPPED + "10 (Tencent billed up to 2 times the estimate; 4 is counted for the 2 recipients whose "
        "requests went unanswered). 4 recipients had their message (fee 4); 6 were not sent."
    )
    assert "have an unknown outcome" not in message
    assert sendsms_requests(sandbox) == 2 and len(once_each(sandbox)) == 4
    # Cleared with the same cap, the task sends nothing more and says why.
    with pytest.raises(AirflowFailException, match=CAPPED + "10"):
        capped(10).execute(context)
    assert sendsms_requests(sandbox) == 2
    # The two settled by receipts were billed though Tencent never said so: they count, at the rate billed.
    with pytest.raises(AirflowFailException, match=r"would cost an estimated 12 .* with the 8 spent so far"):
        capped(19).execute(context)
    assert sendsms_requests(sandbox) == 2
    summary = capped(20).execute(context)
    assert (summary["sent"], summary["unknown"], summary["pending"]) == (10, 0, 0)
    assert len(once_each(sandbox)) == 10
    assert sum(m["fee"] for m in sandbox.messages) == 20


def test_a_ledger_written_before_the_template_text_was_kept_resumes_with_max_fee(sandbox):
    # 0.2.0.dev0 (5d8e0e5) kept neither the template's text nor the rate billed: resuming asks Tencent again.
    nums = numbers(3)
    sandbox.add_fault(
        recipient_code="LimitExceeded.PhoneNumberThirtySecondLimit", phone_numbers=[nums[1]], count=1
    )
    op = send(phone_numbers=nums, max_fee=3, recipient_retry_delay=timedelta(seconds=1))
    store = InMemoryTaskState()
    context = {"task_state_store": store}
    with pytest.raises(TaskDeferred) as deferred:
        op.execute(context)
    for key in ("template_content", "fee_scale", "unpriced"):
        store.values["tencent_sms_ledger"].pop(key, None)
    wait_for(deferred.value)
    summary = op.resume(context)
    assert template_queries(sandbox) == 2
    assert (summary["sent"], summary["fee"], summary["estimated_fee"]) == (3, 3, 3)
    assert once_each(sandbox) == {n: 1 for n in nums}


def test_a_failure_before_the_ledger_is_read_says_what_earlier_tries_sent(sandbox, tmp_path):
    path = tmp_path / "recipients.txt"
    nums = numbers(3)
    path.write_text("\n".join(nums) + "\n")
    sandbox.add_fault(
        recipient_code="LimitExceeded.PhoneNumberThirtySecondLimit", phone_numbers=[nums[1]], count=1
    )
    op = send(recipients_uri=str(path), recipient_retry_delay=timedelta(seconds=1))
    context = {"task_state_store": InMemoryTaskState()}
    with pytest.raises(TaskDeferred) as deferred:
        op.execute(context)
    path.unlink()  # e.g. an upstream task cleaned it up
    wait_for(deferred.value)
    with pytest.raises(AirflowException) as raised:
        op.resume(context)
    message = str(raised.value)
    assert "Nothing was sent" not in message
    assert message.endswith(
        "Nothing more was sent: 2 recipients had their message (fee 2); recipients already sent to are "
        "skipped when the task runs again."
    )


def test_max_fee_needs_an_estimate(sandbox):
    with pytest.raises(AirflowFailException, match="max_fee needs the template's content"):
        send(phone_numbers=numbers(3), max_fee=10, preflight=False).execute(
            {"task_state_store": InMemoryTaskState()}
        )
    assert sendsms_requests(sandbox) == 0


# -- exclusions ----------------------------------------------------------------------------------------


def test_excluded_numbers_in_any_format_are_not_sent_to(sandbox):
    summary = send(
        phone_numbers=["+8613800138001", "+8613800138002", "+8613800138003"],
        exclude="138-0013-8001\n0086 138 0013 8003\nnot a number",
    ).execute({"task_state_store": InMemoryTaskState()})
    assert (summary["sent"], summary["excluded"], summary["recipients"]) == (1, 2, 1)
    assert set(once_each(sandbox)) == {"+8613800138002"}


def test_excluding_everyone_fails_saying_so(sandbox):
    with pytest.raises(AirflowFailException, match="all 2 recipients are excluded"):
        send(phone_numbers=numbers(2), exclude=numbers(2)).execute({"task_state_store": InMemoryTaskState()})
    assert sendsms_requests(sandbox) == 0
