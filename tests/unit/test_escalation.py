"""The escalation decision over an alert's receipts, without Airflow or HTTP."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from airflow_provider_tencent_sms.escalation import (
    Delivered,
    Escalate,
    KeepWatching,
    SentAlert,
    check_interval,
    decide,
    describe,
    unsettled,
)
from airflow_provider_tencent_sms.hooks.receipts import Receipt
from airflow_provider_tencent_sms.session_context import compose

START = datetime(2026, 12, 3, 9, 0, tzinfo=timezone.utc)
AFTER = timedelta(minutes=5)
A, B, C = "+8613800000001", "+8613800000002", "+8613800000003"
ALERT = SentAlert(tag="0123456789ab", started=START, accepted={A: "sn-a", B: "sn-b"}, unknown=frozenset({C}))


def receipt(number: str, serial: str, status: str = "SUCCESS", context: str = "") -> Receipt:
    return Receipt(
        phone_number=number,
        serial_no=serial,
        report_status=status,
        description="DELIVRD" if status == "SUCCESS" else "UNDELIV",
        user_receive_time=START + timedelta(seconds=5),
        session_context=context,
        country_code="86",
        subscriber_number=number[3:],
    )


def at(minutes: float) -> datetime:
    return START + timedelta(minutes=minutes)


def test_one_success_receipt_is_enough_and_stops_the_watch():
    step = decide(ALERT, [receipt(A, "sn-a", "FAIL"), receipt(B, "sn-b")], at(1), AFTER)
    assert step == Delivered(B)


def test_without_receipts_the_watch_goes_on_until_the_deadline_then_escalates():
    assert decide(ALERT, [], at(0), AFTER) == KeepWatching(at(0) + timedelta(seconds=5))
    assert decide(ALERT, [], at(0.5), AFTER) == KeepWatching(at(1))
    # The last look is at the deadline itself, not past it.
    assert decide(ALERT, [], at(4.9), AFTER) == KeepWatching(at(5))
    step = decide(ALERT, [], at(5), AFTER)
    assert isinstance(step, Escalate)
    assert step.reason == "no receipt says SUCCESS after 5 min (3 recipients)"


def test_an_alert_that_reached_nobody_is_escalated_at_once():
    refused = SentAlert(tag="0123456789ab", started=START)
    assert decide(refused, [], at(0), AFTER) == Escalate("the alert reached none of its recipients")


def test_fail_receipts_for_everyone_escalate_before_the_deadline():
    receipts = [
        receipt(A, "sn-a", "FAIL"),
        receipt(B, "sn-b", "FAIL"),
        receipt(C, "sn-c", "FAIL", compose("0123456789ab", 1)),
    ]
    assert decide(ALERT, receipts, at(1), AFTER) == Escalate("every receipt says FAIL (3 recipients)")
    # While one recipient may still get it, the watch goes on.
    assert isinstance(decide(ALERT, receipts[:2], at(1), AFTER), KeepWatching)


def test_receipts_of_other_messages_to_the_same_people_prove_nothing():
    others = [
        receipt(A, "sn-earlier-alert"),  # another message to an accepted number: another SerialNo
        receipt(C, "sn-x"),  # an unknown-outcome number, but no context at all
        receipt(C, "sn-y", context=compose("ffffffffffff", 0)),  # another alert's or task's context
    ]
    assert isinstance(decide(ALERT, others, at(1), AFTER), KeepWatching)
    assert unsettled(ALERT, others) == [A, B, C]


def test_fail_receipts_of_other_messages_do_not_make_everyone_failed():
    others = [
        receipt(A, "sn-earlier", "FAIL"),
        receipt(B, "sn-earlier-too", "FAIL"),
        receipt(C, "sn-z", "FAIL", compose("ffffffffffff", 0)),
    ]
    assert isinstance(decide(ALERT, others, at(1), AFTER), KeepWatching)


def test_an_alert_shows_its_numbers_masked():
    assert "13800000001" not in repr(ALERT) and "+86138****0001" in repr(ALERT)


def test_an_unknown_outcome_is_settled_by_a_receipt_carrying_the_alerts_tag():
    found = receipt(C, "sn-c", context=compose("0123456789ab", 3))
    assert decide(ALERT, [found], at(1), AFTER) == Delivered(C)
    assert unsettled(ALERT, [found]) == [A, B]


@pytest.mark.parametrize(
    ("watched_for", "interval"),
    [(0, 5), (3, 5), (20, 20), (59, 59), (600, 60)],
)
def test_looks_for_receipts_come_soon_then_about_once_a_minute(watched_for, interval):
    assert check_interval(timedelta(seconds=watched_for)) == timedelta(seconds=interval)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (10, "10 s"),
        (90, "90 s"),
        (120, "2 min"),
        (300, "5 min"),
        (3600, "1 h"),
        (5400, "1 h 30 min"),
        (3630, "3630 s"),
    ],
)
def test_waits_are_described_as_people_write_them(seconds, text):
    assert describe(timedelta(seconds=seconds)) == text
