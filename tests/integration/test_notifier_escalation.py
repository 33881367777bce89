"""Escalation: an alert no receipt says was delivered goes on to the escalation list, once."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import timedelta

import pytest

from airflow_provider_tencent_sms.notifications.sms import TencentSmsNotifier
from tests.helpers import use_connection

ON_CALL = "+8613800138001"
DEPUTY = "+8613800138002"
MANAGER = "+8613900139003"


@pytest.fixture
def sandbox(tencent_sms_sandbox, monkeypatch):
    use_connection(monkeypatch, tencent_sms_sandbox)
    return tencent_sms_sandbox


def notifier(**kwargs) -> TencentSmsNotifier:
    options = {
        "phone_numbers": [ON_CALL, DEPUTY],
        "template_id": "1002",
        "template_params": ["etl", "late"],
        "escalate_to": [MANAGER],
        "escalate_after": timedelta(seconds=2),
        "retry_delays": (),
        "context": {"dag_id": "nightly_etl"},
    }
    return TencentSmsNotifier(**{**options, **kwargs})


def run(alert: TencentSmsNotifier) -> float:
    """Await the notifier as the triggerer does; the seconds it took."""
    started = time.monotonic()
    asyncio.run(_await(alert))
    return time.monotonic() - started


async def _await(alert: TencentSmsNotifier) -> None:
    await alert


def received(sandbox) -> Counter[str]:
    return Counter(str(m["phone_number"]) for m in sandbox.messages)


def logged(capfd) -> str:
    out, err = capfd.readouterr()
    return out + err


def test_a_delivered_alert_is_not_escalated(sandbox, capfd):
    sandbox.set_delivery(ON_CALL, status=None)  # the carrier never reports for this one
    run(notifier())
    assert received(sandbox) == {ON_CALL: 1, DEPUTY: 1}
    assert "SMS alert delivered to +86138****8002: no escalation" in logged(capfd)


def test_no_success_receipt_in_time_sends_the_alert_to_the_escalation_list_once(sandbox, capfd):
    sandbox.set_delivery("+86138001380*", status=None)
    took = run(notifier())
    assert received(sandbox) == {ON_CALL: 1, DEPUTY: 1, MANAGER: 1}
    assert took >= 2
    text = logged(capfd)
    assert "escalated: no receipt says SUCCESS after 2 s (2 recipients)" in text
    escalation = sandbox.messages[-1]
    assert escalation["template_params"] == ["etl", "late"]


def test_fail_receipts_for_everyone_escalate_without_waiting_the_whole_time(sandbox, capfd):
    sandbox.set_delivery("+86138001380*", status="FAIL", description="UNDELIV")
    took = run(notifier(escalate_after=timedelta(minutes=10)))
    assert received(sandbox) == {ON_CALL: 1, DEPUTY: 1, MANAGER: 1}
    assert took < 60  # the first look for receipts comes after 5 s: the FAIL receipts are there
    assert "escalated: every receipt says FAIL (2 recipients)" in logged(capfd)


def test_an_alert_tencent_refused_is_escalated_at_once(sandbox, capfd):
    # The escalation goes out with the same template, so refuse only the first request.
    sandbox.add_fault(code="FailedOperation.TemplateIncorrectOrUnapproved", count=1)
    took = run(notifier(escalate_after=timedelta(minutes=10)))
    assert received(sandbox) == {MANAGER: 1}
    assert took < 30
    assert "escalated: the alert reached none of its recipients" in logged(capfd)


def test_an_earlier_alerts_receipts_do_not_count(sandbox, capfd):
    run(notifier(escalate_to=None))  # delivered, with SUCCESS receipts in the last minute
    sandbox.set_delivery("+86138001380*", status="FAIL")
    run(notifier())
    assert received(sandbox) == {ON_CALL: 2, DEPUTY: 2, MANAGER: 1}


def test_a_lost_answer_is_settled_by_the_receipt_that_carries_the_alerts_tag(sandbox, capfd):
    # The request is processed, then the connection closes: no SerialNo comes back, only the receipt.
    sandbox.add_fault(drop_connection=True, count=1)
    run(notifier())
    assert received(sandbox) == {ON_CALL: 1, DEPUTY: 1}
    text = logged(capfd)
    assert "outcome unknown, not sent again" in text
    assert "no escalation" in text


def test_a_request_lost_before_it_was_processed_is_escalated_at_the_deadline(sandbox, capfd):
    sandbox.add_fault(drop_before_send=True, count=1)
    run(notifier())
    assert received(sandbox) == {MANAGER: 1}
    assert "escalated: no receipt says SUCCESS after 2 s (2 recipients)" in logged(capfd)


def test_someone_on_both_lists_gets_the_alert_once(sandbox):
    sandbox.set_delivery("*", status=None)
    run(notifier(escalate_to=[MANAGER, "138 0013 8001"]))
    assert received(sandbox) == {ON_CALL: 1, DEPUTY: 1, MANAGER: 1}


def test_someone_on_both_lists_whose_first_alert_failed_gets_the_escalation(sandbox):
    sandbox.add_fault(code="InternalError.Timeout", count=1)  # the first request, not sent
    run(notifier(escalate_to=[MANAGER, DEPUTY]))
    assert received(sandbox) == {MANAGER: 1, DEPUTY: 1}


def test_receipts_are_looked_up_in_the_notifiers_own_application(tencent_sms_sandbox, monkeypatch, capfd):
    # The connection names no application: only the notifier does.
    use_connection(monkeypatch, tencent_sms_sandbox, sms_sdk_app_id=None)
    run(notifier(sms_sdk_app_id=tencent_sms_sandbox.sms_sdk_app_id))
    assert received(tencent_sms_sandbox) == {ON_CALL: 1, DEPUTY: 1}
    text = logged(capfd)
    assert "no escalation" in text and "could not read the receipts" not in text


def test_an_escalation_list_that_does_not_render_leaves_the_alert_unharmed(sandbox, capfd):
    # The triggerer's context has no "var": the alert goes out, escalation is off.
    alert = notifier(escalate_to="{{ var.value.managers }}", escalate_after=timedelta(minutes=10))
    took = run(alert)
    assert received(sandbox) == {ON_CALL: 1, DEPUTY: 1}
    assert took < 30
    assert "escalate_to '{{ var.value.managers }}' failed to render" in logged(capfd)


def test_an_escalation_list_without_a_valid_number_is_reported_before_waiting(sandbox, capfd):
    sandbox.set_delivery("*", status=None)
    took = run(notifier(escalate_to=["12345"], escalate_after=timedelta(minutes=10)))
    assert received(sandbox) == {ON_CALL: 1, DEPUTY: 1}
    assert took < 30
    assert "escalate_to holds no valid phone number; the alert is not escalated" in logged(capfd)


def test_a_deadline_callback_checks_its_arguments_when_the_dag_is_parsed():
    callback = TencentSmsNotifier.deadline_callback(
        phone_numbers=[ON_CALL],
        template_id="1002",
        escalate_to=[MANAGER],
        escalate_after=timedelta(minutes=5),
    )
    assert callback.path == "airflow_provider_tencent_sms.notifications.sms.TencentSmsNotifier"
    assert callback.kwargs["escalate_to"] == [MANAGER]
    with pytest.raises(ValueError, match="escalate_after"):
        TencentSmsNotifier.deadline_callback(phone_numbers=[ON_CALL], template_id="1002", escalate_after=-5)
    with pytest.raises(TypeError, match="escalate_too"):
        TencentSmsNotifier.deadline_callback(
            phone_numbers=[ON_CALL], template_id="1002", escalate_too=[MANAGER]
        )


def test_the_watch_never_blocks_the_event_loop(sandbox):
    sandbox.set_delivery("*", status=None)
    gaps: list[float] = []

    async def ticker() -> None:
        last = time.monotonic()
        while True:
            await asyncio.sleep(0.01)
            now = time.monotonic()
            gaps.append(now - last)
            last = now

    async def main() -> None:
        beat = asyncio.create_task(ticker())
        await notifier()
        beat.cancel()

    asyncio.run(main())
    assert len(received(sandbox)) == 3
    # Blocking calls or sleeps would stop the ticker for whole seconds (the wait is 2 s).
    assert max(gaps) < 1.0


def test_in_a_callback_the_alert_is_escalated_only_when_it_reached_nobody(sandbox, capfd):
    context = {"dag": None, "dag_id": "x", "run_id": "r", "params": {}}
    notifier()(context)
    assert received(sandbox) == {ON_CALL: 1, DEPUTY: 1}
    assert "escalate_to is not watched here" in logged(capfd)

    sandbox.clear()
    sandbox.add_fault(code="FailedOperation.TemplateIncorrectOrUnapproved", count=1)
    notifier()(context)
    assert received(sandbox) == {MANAGER: 1}


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (0, ValueError),
        (timedelta(seconds=-1), ValueError),
        (timedelta(days=7), ValueError),  # longer than receipts can be looked up
        ("5m", TypeError),
        (True, TypeError),
    ],
)
def test_escalate_after_must_be_a_positive_duration(value, error):
    with pytest.raises(error, match="escalate_after"):
        notifier(escalate_after=value)


#: Run in a fresh interpreter, so that the imports the notifier needs really happen while it runs.
IMPORT_PROBE = """
import asyncio, importlib.abc, json, sys, threading
from datetime import timedelta

WATCHED = ("phonenumbers", "requests", "airflow_provider_tencent_sms.hooks.sms", "airflow_provider_tencent_sms.recipients")
seen = {}

class Probe(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name in WATCHED:
            seen.setdefault(name, threading.current_thread().name)
        return None

from airflow_provider_tencent_sms.notifications.sms import TencentSmsNotifier

already = [name for name in WATCHED if name in sys.modules]
sys.meta_path.insert(0, Probe())
alert = TencentSmsNotifier(
    phone_numbers=["+8613800138001"], template_id="1002", template_params=["etl", "late"],
    escalate_to=["+8613900139003"], escalate_after=timedelta(seconds=1), context={},
)

async def main():
    await alert

asyncio.run(main())
print(json.dumps({"already": already, "seen": seen, "loop": threading.main_thread().name}))
"""


def test_what_the_notifier_imports_and_parses_happens_off_the_event_loop(sandbox):
    import json
    import os
    import subprocess
    import sys

    sandbox.set_delivery("*", status=None)  # so that the watch and the escalation run too
    out = subprocess.run(
        [sys.executable, "-c", IMPORT_PROBE], capture_output=True, text=True, check=True, env=dict(os.environ)
    ).stdout
    probe = json.loads(out.strip().splitlines()[-1])
    assert probe["already"] == [], "imported before the notifier ran: the probe would prove nothing"
    assert set(probe["seen"]) == {
        "phonenumbers",
        "requests",
        "airflow_provider_tencent_sms.hooks.sms",
        "airflow_provider_tencent_sms.recipients",
    }
    # The loop runs in the main thread: a blocking import there would stop every other trigger.
    assert probe["loop"] not in probe["seen"].values(), probe["seen"]
    assert len(received(sandbox)) == 2
