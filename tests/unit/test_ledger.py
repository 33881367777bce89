"""The send ledger: what counts as sent, failed, unknown or waiting, across tries."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from airflow_provider_tencent_sms.ledger import (
    Ledger,
    LedgerMismatchError,
    SendUnit,
    Watch,
    decode_ranges,
    encode_ranges,
)

LIMITS = {"now": 1000.0, "max_attempts": 3, "max_wait": 300.0}
OK = ("Ok", "send success", 1)


def _reload(ledger: Ledger) -> Ledger:
    """Round-trip through JSON, as the task state store does."""
    return Ledger.load(json.loads(json.dumps(ledger.dump())), ledger.plan)


@given(st.sets(st.integers(min_value=0, max_value=5000)))
def test_ranges_round_trip(values):
    assert set(decode_ranges(encode_ranges(values))) == values


def test_ranges_are_compact():
    assert encode_ranges(range(5000)) == "0-4999"
    assert encode_ranges({0, 1, 2, 5, 7, 8}) == "0-2,5,7-8"


def test_fresh_ledger_has_every_batch_to_send():
    ledger = Ledger.load(None, "plan")
    assert ledger.new_batches(3) == [SendUnit(0), SendUnit(1), SendUnit(2)]


def test_answered_batches_are_never_offered_again_after_reload():
    ledger = Ledger.load(None, "plan")
    ledger.start([SendUnit(0), SendUnit(1)])
    ledger.record_statuses(SendUnit(0), [0, 1], [OK, OK], **LIMITS)
    ledger.release(SendUnit(1))  # refused before processing: nothing sent
    again = _reload(ledger)
    assert again.new_batches(3) == [SendUnit(1), SendUnit(2)]
    assert (again.sent, again.fee, again.requests) == (2, 2, 1)


def test_a_crash_with_requests_in_flight_makes_them_unknown_not_pending():
    ledger = Ledger.load(None, "plan")
    ledger.start([SendUnit(0), SendUnit(1)])
    ledger.record_statuses(SendUnit(0), [0, 1], [OK, OK], **LIMITS)
    stored = ledger.dump()  # the process dies here, batch 1 on the wire
    again = Ledger.load(stored, "plan")
    assert again.recover([2, 3]) == 3
    assert again.new_batches(2) == []
    assert list(again.unknown_positions()) == [(1, 0), (1, 1), (1, 2)]


def test_a_crash_during_a_retry_makes_those_positions_unknown():
    ledger = Ledger.load(None, "plan")
    thirty = ("LimitExceeded.PhoneNumberThirtySecondLimit", "too soon", 0)
    ledger.record_statuses(SendUnit(0), [0, 1], [OK, thirty], **LIMITS)
    ledger.start([SendUnit(0, (1,))])
    again = Ledger.load(ledger.dump(), "plan")
    assert again.recover([2]) == 1
    assert not again.has_retries
    assert list(again.unknown_positions()) == [(0, 1)]


def test_recipient_outcomes_are_filed_by_disposition():
    ledger = Ledger.load(None, "plan")
    outcomes = [
        OK,
        ("FailedOperation.PhoneNumberInBlacklist", "blocked", 0),
        ("LimitExceeded.PhoneNumberThirtySecondLimit", "too soon", 0),
        ("FailedOperation.MarketingSendTimeConstraint", "night", 0),
        ("LimitExceeded.PhoneNumberOneHourLimit", "hourly", 0),  # 3600 s > max_wait: a failure
        None,  # the answer did not mention this number
    ]
    ledger.record_statuses(SendUnit(0), range(6), outcomes, **LIMITS)
    assert ledger.sent == 1
    assert {(p, f.code) for _, p, f in ledger.failures()} == {
        (1, "FailedOperation.PhoneNumberInBlacklist"),
        (4, "LimitExceeded.PhoneNumberOneHourLimit"),
    }
    assert ledger.retry[0][2].not_before == 1030.0
    assert ledger.window_units() == [SendUnit(0, (3,))]
    assert list(ledger.unknown_positions()) == [(0, 5)]


def test_rate_limited_recipients_are_retried_alone_then_given_up():
    ledger = Ledger.load(None, "plan")
    thirty = ("LimitExceeded.PhoneNumberThirtySecondLimit", "too soon", 0)
    ledger.record_statuses(SendUnit(0), [0, 1], [OK, thirty], **LIMITS)
    assert ledger.due_retries(1029.0, 200) == []
    assert ledger.next_retry_time() == 1030.0
    (unit,) = ledger.due_retries(1030.0, 200)
    assert unit == SendUnit(0, (1,))
    ledger.record_statuses(unit, [1], [thirty], **{**LIMITS, "now": 1030.0})
    assert ledger.retry[0][1].attempts == 2
    (unit,) = ledger.due_retries(1060.0, 200)
    ledger.record_statuses(unit, [1], [thirty], **{**LIMITS, "now": 1060.0})
    assert not ledger.has_retries
    assert [(p, f.code) for _, p, f in ledger.failures()] == [
        (1, "LimitExceeded.PhoneNumberThirtySecondLimit")
    ]
    assert ledger.sent == 1


def test_retry_delay_override():
    ledger = Ledger.load(None, "plan")
    thirty = ("LimitExceeded.PhoneNumberThirtySecondLimit", "too soon", 0)
    ledger.record_statuses(SendUnit(0), [0], [thirty], **LIMITS, retry_delay=2.0)
    assert ledger.next_retry_time() == 1002.0


def test_window_waiters_are_sent_when_it_opens_and_then_settled():
    ledger = Ledger.load(None, "plan")
    night = ("FailedOperation.MarketingSendTimeConstraint", "night", 0)
    ledger.record_request_error(SendUnit(0), [0, 1, 2], *night[:2], **LIMITS)
    (unit,) = ledger.window_units()
    ledger.record_statuses(unit, [0, 1, 2], [OK, OK, OK], **LIMITS)
    assert not ledger.has_window_waiters
    assert ledger.sent == 3


def test_unknown_outcomes_are_final():
    ledger = Ledger.load(None, "plan")
    ledger.start([SendUnit(0)])
    ledger.record_unknown(SendUnit(0), [0, 1])
    again = _reload(ledger)
    assert again.recover([2]) == 0
    assert again.new_batches(1) == []
    assert again.unknown_count == 2


def test_a_ledger_for_another_plan_is_refused_once_anything_may_have_been_sent():
    sent = Ledger.load(None, "old")
    sent.record_sent(SendUnit(0), 1, 1)
    with pytest.raises(LedgerMismatchError):
        Ledger.load(sent.dump(), "new")
    in_flight = Ledger.load(None, "old")
    in_flight.start([SendUnit(0)])
    with pytest.raises(LedgerMismatchError):
        Ledger.load(in_flight.dump(), "new")
    with pytest.raises(LedgerMismatchError):
        Ledger.load({"v": 99}, "new")


def test_a_plan_may_change_when_nothing_was_sent_under_the_old_one():
    # E.g. the first try failed on a wrong template id, which the user then fixed.
    untouched = Ledger.load(None, "old")
    untouched.note_deferral("2026-11-25T00:00:00+00:00", "window")
    assert Ledger.load(untouched.dump(), "new") == Ledger(plan="new")


def test_the_ledger_holds_no_phone_numbers_and_stays_small():
    ledger = Ledger.load(None, "plan")
    for batch in range(5000):  # a million recipients
        ledger.record_statuses(SendUnit(batch), [0], [OK], **LIMITS)
    text = json.dumps(ledger.dump())
    assert len(text) < 300
    assert "+86" not in text


def test_receipt_state_survives_a_reload_and_settles_unknown_recipients_as_sent():
    ledger = Ledger.load(None, "plan")
    ledger.start([SendUnit(0), SendUnit(1)])
    ledger.record_sent(SendUnit(0), 3, 3)
    ledger.record_unknown(SendUnit(1), [0, 1, 2])
    ledger.note_first_send(1000.0)
    ledger.note_first_send(2000.0)
    ledger.reconcile = Watch(1000.0, 2)
    ledger.settle_unknown(1, 2, False, "UNDELIV")
    ledger.record_receipt(0, 1, True, "DELIVRD")
    reloaded = _reload(ledger)
    assert reloaded == ledger
    assert (reloaded.first_send, reloaded.reconcile) == (1000.0, Watch(1000.0, 2))
    assert (reloaded.sent, reloaded.unknown_count) == (4, 2)
    assert reloaded.receipt(1, 2) == (False, "UNDELIV")
    assert reloaded.receipt(0, 1) == (True, "DELIVRD")
    assert reloaded.receipt(0, 0) is None
    assert list(reloaded.sent_positions([3, 3])) == [(0, 0), (0, 1), (0, 2), (1, 2)]


def resending() -> tuple[Ledger, list[SendUnit]]:
    """A batch of three whose first two recipients' outcome stayed unknown, marked to be sent once more."""
    ledger = Ledger.load(None, "plan")
    ledger.start([SendUnit(0)])
    ledger.record_statuses(SendUnit(0), [0, 1, 2], [None, None, OK], **LIMITS)
    return ledger, ledger.resend_unknown()


def test_unresolved_recipients_are_resent_once_as_position_units():
    ledger, units = resending()
    assert units == [SendUnit(0, (0, 1))] and ledger.resent
    # Until a re-send is answered they may still have had the first message: unknown, and to be re-sent.
    assert (ledger.unknown_count, ledger.resend_count) == (2, 2)
    assert _reload(ledger) == ledger
    assert list(ledger.sent_positions([3])) == [(0, 2)]
    ledger.start(units)
    ledger.record_sent(units[0], 2, 2)
    assert (ledger.sent, ledger.unknown_count, ledger.resend_count) == (3, 0, 0)
    assert list(ledger.sent_positions([3])) == [(0, 0), (0, 1), (0, 2)]


def test_a_resend_that_is_not_sent_stays_unknown_and_to_be_resent():
    # release() is what every way of not sending a started unit ends in: refused before processing (a
    # transient or terminal error, the rate limit every time), the fee cap, the window's end, a stop.
    ledger, units = resending()
    ledger.start(units)
    ledger.release(units[0])
    assert ledger.inflight_positions == {}
    assert (ledger.unknown_count, ledger.resend_count, ledger.sent) == (2, 2, 1)
    # Also for a later try: it finds them still to be sent once more.
    reloaded = _reload(ledger)
    assert reloaded.resend_units() == units and reloaded.resent
    reloaded.start(units)
    reloaded.record_sent(units[0], 2, 2)
    assert (reloaded.sent, reloaded.unknown_count, reloaded.resend_count) == (3, 0, 0)


def test_a_resend_answered_without_an_outcome_or_lost_in_a_crash_is_never_sent_a_third_time():
    ledger, units = resending()
    ledger.start(units)
    # Write-ahead: a crash now reports them unknown for good.
    crashed = _reload(ledger)
    assert crashed.recover([3]) == 2
    assert (crashed.unknown_count, crashed.resend_count, crashed.resend_units()) == (2, 0, [])
    ledger.record_unknown(units[0], [0, 1])
    assert (ledger.unknown_count, ledger.resend_count, ledger.resend_units()) == (2, 0, [])
    assert list(ledger.sent_positions([3])) == [(0, 2)]


def test_a_resend_answered_per_recipient_files_each_by_its_code():
    ledger, units = resending()
    ledger.start(units)
    ledger.record_statuses(
        units[0],
        [0, 1],
        [
            ("LimitExceeded.PhoneNumberThirtySecondLimit", "30 s", 0),
            ("FailedOperation.MarketingSendTimeConstraint", "hours", 0),
        ],
        **LIMITS,
    )
    assert (ledger.unknown_count, ledger.resend_count) == (0, 0)
    assert (list(ledger.retry[0]), ledger.window[0]) == ([0], [1])
    # Sent again as retries and window waiters, which settle like any other.
    retry = ledger.due_retries(2000.0, 200) + ledger.window_units()
    ledger.start(retry)
    for unit in retry:
        ledger.record_sent(unit, 1, 1)
    assert (ledger.sent, ledger.waiting_count, ledger.unknown_count) == (3, 0, 0)


def test_a_ledger_written_before_resends_were_kept_loads():
    # As 0.2.0.dev0 (5d8e0e5) stored a ledger with unknown outcomes being looked up: no "resend" key.
    raw = {
        "v": 1,
        "plan": "plan",
        "done": "0",
        "inflight": "",
        "inflight_positions": {},
        "unknown": {"0": [0, 1]},
        "failed": {},
        "retry": {},
        "messages": {},
        "window": {},
        "sent": 1,
        "fee": 1,
        "requests": 1,
        "rate_limited": 0,
        "deferrals": [],
        "first_send": 1000.0,
        "reconcile": [1000.0, 2],
    }
    ledger = Ledger.load(raw, "plan")
    assert (ledger.unknown_count, ledger.resend, ledger.resent) == (2, {}, False)
    assert ledger.resend_unknown() == [SendUnit(0, (0, 1))]
    assert "resend" not in Ledger.load(raw, "plan").dump()


@pytest.mark.parametrize("cap", [None, 0, 500])
def test_the_fee_cap_a_send_stopped_at_survives_a_reload(cap):
    ledger = Ledger.load(None, "plan")
    ledger.capped_at = cap
    assert _reload(ledger).capped_at == cap
    assert ("capped_at" in ledger.dump()) == (cap is not None)


def test_the_template_text_the_try_read_survives_a_reload():
    ledger = Ledger.load(None, "plan")
    assert "template_content" not in ledger.dump()
    ledger.template_content = "Your code is {1}"
    assert _reload(ledger).template_content == "Your code is {1}"


def test_a_stored_cap_is_read_as_a_whole_number():
    raw = {**Ledger.load(None, "plan").dump(), "capped_at": "500"}  # as a store that turned it to text would
    assert Ledger.load(raw, "plan").capped_at == 500


def test_the_rate_tencent_billed_survives_a_reload():
    ledger = Ledger.load(None, "plan")
    assert "fee_scale" not in ledger.dump()
    ledger.fee_scale = 2.0
    assert _reload(ledger).fee_scale == 2.0


def test_unpriced_requests_stay_unpriced_when_receipts_settle_them_and_across_reloads():
    ledger = Ledger(plan="plan")
    ledger.start([SendUnit(0), SendUnit(1, (3, 4))])
    ledger.record_unknown(SendUnit(0), [0, 1])
    ledger.record_statuses(SendUnit(1, (3, 4)), [3, 4], [OK, None], **LIMITS)
    assert ledger.unpriced == {0: [0, 1], 1: [4]}
    ledger.settle_unknown(0, 1, True, "DELIVRD")
    reloaded = _reload(ledger)
    assert (reloaded.unknown_count, reloaded.unpriced) == (2, {0: [0, 1], 1: [4]})
    # A crash with a re-send of position 4 in flight: that request may have been billed too, so the
    # position counts once for each request of it that went unanswered.
    reloaded.start([SendUnit(1, (4,))])
    reloaded.recover([2, 5])
    assert reloaded.unpriced == {0: [0, 1], 1: [4, 4]}


def test_a_ledger_written_before_unpriced_counts_its_unknown_outcomes():
    ledger = Ledger(plan="plan")
    ledger.start([SendUnit(0)])
    ledger.record_unknown(SendUnit(0), [0, 1])
    raw = ledger.dump()
    del raw["unpriced"]
    assert Ledger.load(raw, "plan").unpriced == {0: [0, 1]}


def test_a_re_send_left_unanswered_too_is_unknown_once_and_unpriced_twice():
    ledger = Ledger(plan="plan")
    ledger.start([SendUnit(0)])
    ledger.record_unknown(SendUnit(0), [0, 1])
    (again,) = ledger.resend_unknown()
    ledger.start([again])
    ledger.record_unknown(again, list(again.positions))
    # Still unknown once each (never a third message), but both requests may have been billed.
    assert (ledger.unknown_count, ledger.resend_count) == (2, 0)
    assert sorted(ledger.unpriced[0]) == [0, 0, 1, 1]
