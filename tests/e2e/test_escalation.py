"""A deadline alert whose receipts never come: the triggerer escalates it to the manager, once."""

from __future__ import annotations

import time
from collections import Counter

import pytest

from airflow_provider_tencent_sms.sandbox import Sandbox

from .airflow_api import AirflowApi
from .dags.e2e_escalation import MANAGER, ON_CALL
from .waiting import wait_for

DAG_ID = "e2e_escalation"


def received(inbox: Sandbox) -> Counter[str]:
    return Counter(str(m["phone_number"]) for m in inbox.messages)


@pytest.mark.e2e
def test_an_undelivered_deadline_alert_is_escalated_from_the_triggerer(
    api: AirflowApi, inbox: Sandbox
) -> None:
    api.wait_for_dag(DAG_ID)
    api.unpause(DAG_ID)
    inbox.set_delivery("+86137001370*", status=None)  # the on-call phones' carrier never reports
    run_id = api.trigger(DAG_ID)

    first = wait_for(lambda: set(received(inbox)) >= set(ON_CALL), timeout=90, what="the deadline alert")
    primary_at = time.monotonic()
    wait_for(
        lambda: MANAGER in received(inbox),
        timeout=60,
        what="the escalation",
        describe=lambda: str(received(inbox)),
    )
    waited = time.monotonic() - primary_at
    run = api.wait_for_run(DAG_ID, run_id, timeout=90)
    api.pause(DAG_ID)

    assert first and run["state"] == "success"
    assert received(inbox) == {**dict.fromkeys(ON_CALL, 1), MANAGER: 1}
    # escalate_after is 8 s: the receipts were watched, not skipped.
    assert waited >= 6
    # Rendered in the triggerer from the deadline's context.
    assert {tuple(m["template_params"]) for m in inbox.messages} == {(DAG_ID, "not done after 3 s")}
