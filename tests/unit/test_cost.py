"""Fee estimates per batch and the fee cap."""

from __future__ import annotations

import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from airflow_provider_tencent_sms.batching import plan_batches
from airflow_provider_tencent_sms.cost import FeeBudget, estimate, message_fees, units_fee
from airflow_provider_tencent_sms.ledger import SendUnit


def test_message_fees_per_batch_follow_each_batchs_text_and_class() -> None:
    groups = {
        ("short",): ("+8613800138000", "+14155550100"),
        ("x" * 70,): ("+8613800138001",),
    }
    batches = plan_batches(groups)
    assert [(b.template_params, b.mainland_china) for b in batches] == [
        (("short",), True),
        (("short",), False),
        (("x" * 70,), True),
    ]
    # "【Airflow】Hi short" fits one SMS; with 70 x's the Mainland text is 82 characters: two parts.
    assert message_fees(batches, "Hi {1}", "Airflow") == [1, 1, 2]
    # Without the signature the global text is GSM-7 and the Mainland one is 73 characters.
    assert message_fees(batches, "Hi {1}", None) == [1, 1, 2]
    assert message_fees(batches, "{1}", None) == [1, 1, 1]


def test_estimate_sums_segments_over_recipients() -> None:
    groups = {(str(i), "x" * (70 if i % 10 == 0 else 5)): (f"+8613800{i:06d}",) for i in range(1000)}
    batches = plan_batches(groups)
    fees = message_fees(batches, "{1} {2}", "Airflow")
    result = estimate(batches, fees)
    # One recipient in ten has the long parameter: two SMS each.
    assert result.recipients_by_segments == {1: 900, 2: 100}
    assert result.billed_sms == 1100
    assert estimate([], []).billed_sms == 0


def test_units_fee_counts_whole_batches_and_positions() -> None:
    batches = plan_batches({("a",): tuple(f"+86138{i:08d}" for i in range(250))})
    fees = [2, 3]  # 200 numbers at 2 SMS, then 50 at 3
    assert units_fee([SendUnit(0), SendUnit(1)], batches, fees) == 400 + 150
    assert units_fee([SendUnit(1, (0, 4, 9))], batches, fees) == 9
    assert units_fee([], batches, fees) == 0


def test_budget_reserves_until_the_cap_and_settles_with_the_reported_fee() -> None:
    budget = FeeBudget(10)
    assert budget.reserve("a", 4)
    assert budget.reserve("b", 6)
    assert not budget.reserve("c", 1)  # 4 + 6 reserved: nothing more may start
    budget.settle("a", 3)  # answered, Tencent billed 3
    assert (budget.spent, budget.reserved) == (3, 6)
    assert budget.reserve("c", 1)
    assert not budget.reserve("d", 1)
    budget.settle("b", 0)  # refused: nothing sent, nothing billed
    assert budget.reserve("d", 6)
    assert not budget.reserve("e", 1)


def test_billed_more_than_estimated_scales_later_reservations() -> None:
    budget = FeeBudget(1000)
    assert budget.reserve(1, 200)
    budget.settle(1, 400)  # Tencent counts twice what the estimate said
    assert budget.scale == 2
    assert budget.reserve(2, 200)  # reserves 400: 800 in all
    assert budget.reserved == 400
    budget.settle(2, 400)
    assert not budget.reserve(3, 200)  # 800 + 400 would pass the cap
    assert budget.spent == 800
    budget.settle(99, 0)  # an unknown key settles nothing
    assert budget.spent == 800


def test_requests_in_flight_are_rescaled_too() -> None:
    budget = FeeBudget(1000)
    assert budget.reserve(1, 200)
    assert budget.reserve(2, 200)
    budget.settle(1, 400)
    # Request 2, still in flight, now counts 400: 400 + 400 + 400 would pass the cap.
    assert budget.reserved == 400
    assert not budget.reserve(3, 200)
    budget.settle(2, 400)
    assert budget.spent == 800


def test_an_unknown_outcome_counts_as_billed_at_the_estimate() -> None:
    budget = FeeBudget(10)
    assert budget.reserve("a", 4)
    budget.settle("a", None)
    assert (budget.spent, budget.reserved) == (4, 0)


def test_a_key_reserves_once() -> None:
    budget = FeeBudget(10)
    assert budget.reserve("a", 1)
    with pytest.raises(ValueError, match="already holds"):
        budget.reserve("a", 1)


def test_budget_counts_what_earlier_tries_spent() -> None:
    budget = FeeBudget(10, spent=8)
    assert not budget.reserve("a", 3)
    assert budget.reserve("a", 2)


@pytest.mark.parametrize("bad", [-1, 1.5, "10", True, None])
def test_budget_needs_a_whole_number(bad: object) -> None:
    with pytest.raises(ValueError, match="max_fee"):
        FeeBudget(bad)  # type: ignore[arg-type]


@given(
    st.integers(0, 50),
    st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5)), max_size=40),
)
def test_settled_fees_never_pass_the_cap_when_requests_cost_at_most_their_estimate(
    cap: int, requests: list[tuple[int, int]]
) -> None:
    budget = FeeBudget(cap)
    for key, (guess, billed) in enumerate(requests):
        if budget.reserve(key, guess):
            budget.settle(key, min(guess, billed))
        assert budget.spent <= cap
    assert budget.reserved == 0


def test_budget_is_safe_across_threads() -> None:
    budget = FeeBudget(1000)
    granted = []

    def work(thread: int) -> None:
        for i in range(500):
            if budget.reserve((thread, i), 1):
                granted.append(1)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(granted) == 1000 == budget.reserved
