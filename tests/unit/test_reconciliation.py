"""What receipts prove, when to look for them, and the delivery report's figures."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from airflow_provider_tencent_sms.delivery_report import build_report, sample_indices, wilson_interval
from airflow_provider_tencent_sms.hooks.receipts import Receipt
from airflow_provider_tencent_sms.reconciliation import Settlement, check_offsets, next_check, settle
from airflow_provider_tencent_sms.session_context import compose, task_instance_tag

MINE = task_instance_tag("dag", "run", "send")
THEIRS = task_instance_tag("dag", "run", "other")
T0 = datetime(2026, 5, 1, tzinfo=timezone.utc)


def receipt(
    context: str, status: str = "SUCCESS", serial: str = "1", description: str = "DELIVRD", at: int = 0
):
    return Receipt(
        phone_number="+8613800138000",
        serial_no=serial,
        report_status=status,
        description=description,
        user_receive_time=T0 + timedelta(seconds=at),
        session_context=context,
        country_code="86",
        subscriber_number="13800138000",
    )


def test_a_receipt_of_this_task_and_batch_settles_the_recipient():
    assert settle([receipt(compose(MINE, 3))], MINE, 3) == Settlement(True, "DELIVRD")
    failed = receipt(compose(MINE, 3, "user"), "FAIL", description="UNDELIV")
    assert settle([failed], MINE, 3) == Settlement(False, "UNDELIV")


@pytest.mark.parametrize("context", [compose(THEIRS, 3), compose(MINE, 4), "", "order-7"])
def test_receipts_of_other_tasks_batches_or_senders_prove_nothing(context):
    assert settle([receipt(context)], MINE, 3) is None
    assert settle([], MINE, 3) is None


def test_one_delivered_message_among_several_settles_as_delivered():
    receipts = [
        receipt(compose(MINE, 0), "FAIL", "1", "UNDELIV", at=5),
        receipt(compose(MINE, 0), "SUCCESS", "2", "DELIVRD", at=1),
        receipt(compose(MINE, 0), "FAIL", "1", "UNDELIV", at=5),  # the same receipt twice
    ]
    assert settle(receipts, MINE, 0) == Settlement(True, "DELIVRD")
    only_failures = [
        receipt(compose(MINE, 0), "FAIL", "1", "EARLY", 1),
        receipt(compose(MINE, 0), "FAIL", "2", "LATE", 9),
    ]
    assert settle(only_failures, MINE, 0) == Settlement(False, "LATE")


def test_checks_start_after_the_first_wait_and_grow_until_the_timeout():
    assert check_offsets(120, 3600) == [120, 240, 480, 960, 1920, 3600]
    assert check_offsets(60, 60) == [60]
    with pytest.raises(ValueError, match="by the timeout"):
        check_offsets(120, 60)


@given(st.floats(1, 1000), st.floats(1, 100_000))
def test_the_schedule_grows_strictly_and_ends_at_the_timeout(first, extra):
    timeout = first + extra
    offsets = check_offsets(first, timeout)
    assert offsets[0] == first and offsets[-1] == timeout
    assert all(b > a for a, b in pairwise(offsets))
    # Every wait but the last (cut at the timeout) is longer than the one before.
    gaps = [b - a for a, b in pairwise(offsets[:-1])]
    assert all(b >= a for a, b in pairwise(gaps))


def test_next_check_counts_the_checks_made():
    assert next_check(1000.0, 0, 10, 35) == 1010.0
    assert next_check(1000.0, 2, 10, 35) == 1035.0
    assert next_check(1000.0, 3, 10, 35) is None


def test_sample_is_everyone_up_to_the_limit_then_a_stable_uniform_sample():
    assert sample_indices(5, 10, "seed") == [0, 1, 2, 3, 4]
    sample = sample_indices(20_000, 1000, "seed")
    assert len(sample) == len(set(sample)) == 1000 and all(0 <= i < 20_000 for i in sample)
    assert sample == sample_indices(20_000, 1000, "seed")
    assert sample != sample_indices(20_000, 1000, "other seed")
    # Uniform: each tenth of the population holds about a tenth of the sample.
    tenths = [sum(1 for i in sample if i // 2000 == t) for t in range(10)]
    assert all(60 <= count <= 140 for count in tenths), tenths


@given(st.integers(1, 10_000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_wilson_interval_contains_the_observed_rate_within_zero_and_one(pair):
    successes, trials = pair
    low, high = wilson_interval(successes, trials)
    assert 0.0 <= low <= successes / trials <= high <= 1.0


def test_wilson_interval_covers_the_true_rate_about_95_percent_of_the_time():
    rng = random.Random(7)
    covered = 0
    for _ in range(400):
        successes = sum(1 for _ in range(500) if rng.random() < 0.95)
        low, high = wilson_interval(successes, 500)
        covered += low <= 0.95 <= high
    assert 0.92 <= covered / 400 <= 0.98


def test_report_is_exact_up_to_the_limit():
    settlements = (
        [Settlement(True, "DELIVRD")] * 7 + [Settlement(False, "UNDELIV")] * 2 + [Settlement(False, "")]
    )
    report = build_report(12, 12, settlements)
    assert (report.delivered, report.failed, report.no_receipt, report.exact) == (7, 3, 2, True)
    assert report.failed_by_reason == {"UNDELIV": 2, "FAIL": 1}
    document = report.to_json()
    assert document["delivered_rate"] == 7 / 12
    assert "confidence_interval_95" not in document and "app_wide_callback_statistics" not in document


def test_sampled_report_carries_the_estimate_and_the_app_wide_statistics():
    report = build_report(20_000, 1000, [Settlement(True, "DELIVRD")] * 950, {"callback_count": 5})
    document = report.to_json()
    assert document["exact"] is False
    assert document["estimated_delivery_rate"] == 0.95
    low, high = document["confidence_interval_95"]
    assert low < 0.95 < high and high - low < 0.03
    assert document["app_wide_callback_statistics"] == {"callback_count": 5}
