"""Fee estimates per batch and the fee cap."""

from __future__ import annotations

import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from airflow_provider_tencent_sms.batching import plan_batches
from airflow_provider_tencent_sms.cost import FeeBudget, Prices, Room, estimate, message_fees, scaled
from airflow_provider_tencent_sms.ledger import Ledger, SendUnit


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


def test_prices_count_whole_batches_and_positions() -> None:
    batches = plan_batches({("a",): tuple(f"+86138{i:08d}" for i in range(250))})
    prices = Prices.of(batches, [2, 3])  # 200 numbers at 2 SMS, then 50 at 3
    assert prices.units([SendUnit(0), SendUnit(1)]) == 400 + 150
    assert prices.units([SendUnit(1, (0, 4, 9))]) == 9
    assert prices.units([]) == 0
    assert prices.positions({0: [1, 2], 1: [0]}) == 2 + 2 + 3


def test_spent_counts_unpriced_requests_at_their_estimate_times_the_rate_billed() -> None:
    prices = Prices([200, 200], [1, 2])
    ledger = Ledger(plan="p")
    ledger.start([SendUnit(0), SendUnit(1)])
    ledger.record_sent(SendUnit(0), 200, 400)
    ledger.record_unknown(SendUnit(1), range(200))
    assert prices.spent(ledger) == 400 + 400
    ledger.fee_scale = 2.0
    assert prices.spent(ledger) == 400 + 800
    # A receipt settles them as sent, at no reported fee: they stay counted.
    for position in range(200):
        ledger.settle_unknown(1, position, True, "DELIVRD")
    assert prices.spent(ledger) == 400 + 800


def test_scaled_never_scales_down() -> None:
    assert scaled(10, None) == 10
    assert scaled(10, 0.5) == 10
    assert scaled(10, 1.25) == 13


def priced(max_fee: int, **kwargs: object) -> FeeBudget:
    """A budget that has seen Tencent bill as estimated: no waiting for a first answer."""
    return FeeBudget(max_fee, scale=1.0, **kwargs)  # type: ignore[arg-type]


def test_budget_reserves_until_the_cap_and_settles_with_the_reported_fee() -> None:
    budget = priced(10)
    assert budget.reserve("a", 4) is Room.START
    assert budget.reserve("b", 6) is Room.START
    assert budget.reserve("c", 1) is Room.FULL  # 4 + 6 reserved: nothing more may start
    budget.settle("a", 3, billed_estimate=4)  # answered, Tencent billed 3
    assert (budget.spent, budget.reserved) == (3, 6)
    assert budget.reserve("c", 1) is Room.START
    assert budget.reserve("d", 1) is Room.FULL
    budget.settle("b", 0)  # refused: nothing sent, nothing billed
    assert budget.reserve("d", 6) is Room.START
    assert budget.reserve("e", 1) is Room.FULL


def test_before_a_first_answer_one_request_is_in_flight_at_a_time() -> None:
    budget = FeeBudget(1000)
    assert budget.reserve(1, 200) is Room.START
    assert budget.reserve(2, 200) is Room.WAIT  # its price is not known yet
    assert budget.reserve(3, 900) is Room.FULL  # would not fit even at the estimate
    budget.settle(1, 400, billed_estimate=200)  # Tencent counts twice what the estimate said
    assert budget.scale == 2
    assert budget.reserve(2, 200) is Room.START
    assert budget.reserve(3, 200) is Room.FULL  # 400 spent + 400 reserved + 400 would pass 1000


def test_an_answer_that_billed_nobody_does_not_set_the_price() -> None:
    budget = FeeBudget(1000)
    assert budget.reserve(1, 200) is Room.START
    budget.settle(1, 0)  # every recipient refused
    assert budget.scale is None
    assert budget.reserve(2, 200) is Room.START
    assert budget.reserve(3, 200) is Room.WAIT


def test_the_price_is_set_from_the_recipients_billed_not_the_whole_request() -> None:
    budget = FeeBudget(1000)
    assert budget.reserve(1, 200) is Room.START
    budget.settle(1, 200, billed_estimate=100)  # half the recipients sent, each billed 2 for 1 estimated
    assert budget.scale == 2


def test_billed_less_than_estimated_keeps_the_estimate() -> None:
    budget = FeeBudget(1000)
    assert budget.reserve(1, 200) is Room.START
    budget.settle(1, 100, billed_estimate=200)
    assert budget.scale == 1
    assert budget.reserve(2, 400) is Room.START
    assert budget.reserved == 400


def test_requests_in_flight_are_rescaled_too() -> None:
    budget = priced(1000)
    assert budget.reserve(1, 200) is Room.START
    assert budget.reserve(2, 200) is Room.START
    budget.settle(1, 400, billed_estimate=200)
    # Request 2, still in flight, now counts 400: 400 + 400 + 400 would pass the cap.
    assert budget.reserved == 400
    assert budget.reserve(3, 200) is Room.FULL
    budget.settle(2, 400, billed_estimate=200)
    assert budget.spent == 800


def test_an_unknown_outcome_stays_counted_at_the_scaled_estimate() -> None:
    budget = priced(100)
    assert budget.reserve("a", 4) is Room.START
    budget.settle("a", 0, held=4)
    assert (budget.spent, budget.reserved) == (4, 0)
    assert budget.reserve("b", 10) is Room.START
    budget.settle("b", 20, billed_estimate=10)
    assert budget.spent == 20 + 8  # the unknown request may have been billed at the new rate too


def test_a_key_reserves_once() -> None:
    budget = FeeBudget(10)
    assert budget.reserve("a", 1) is Room.START
    with pytest.raises(ValueError, match="already holds"):
        budget.reserve("a", 1)


def test_budget_counts_what_earlier_tries_spent() -> None:
    budget = FeeBudget(20, reported=8, held=2, scale=2.0)  # 8 reported, 2 unpriced at twice: 12
    assert budget.spent == 12
    assert budget.reserve("a", 5) is Room.FULL
    assert budget.reserve("a", 4) is Room.START


@pytest.mark.parametrize("bad", [-1, 1.5, "10", True, None])
def test_budget_needs_a_whole_number(bad: object) -> None:
    with pytest.raises(ValueError, match="max_fee"):
        FeeBudget(bad)  # type: ignore[arg-type]


@given(
    st.integers(0, 50),
    st.lists(st.tuples(st.integers(1, 5), st.integers(0, 3), st.integers(0, 2)), max_size=40),
)
def test_past_the_first_answer_settled_fees_never_pass_the_cap_while_tencent_bills_one_rate(
    cap: int, requests: list[tuple[int, int, int]]
) -> None:
    """Whatever one rate Tencent bills (up to 3 times the estimate), requests started together and answered
    in any order bill past the cap by at most what the first billed request cost over its estimate: it is
    sent alone, and its answer sets the rate before a second request starts."""
    rate = max(1, requests[0][1]) if requests else 1
    budget = FeeBudget(cap)
    in_flight: list[tuple[int, int]] = []
    first_excess: list[int] = []

    def answer(key: int, guessed: int) -> None:
        budget.settle(key, guessed * rate, billed_estimate=guessed)
        first_excess.append(guessed * (rate - 1))

    for key, (guess, _, answered) in enumerate(requests):
        if budget.reserve(key, guess) is Room.START:
            in_flight.append((key, guess))
        for done, guessed in in_flight[:answered]:
            answer(done, guessed)
        del in_flight[:answered]
        assert budget.spent <= cap + (first_excess[0] if first_excess else 0)
    for done, guessed in in_flight:
        answer(done, guessed)
    assert budget.spent <= cap + (first_excess[0] if first_excess else 0)
    assert budget.reserved == 0


def test_budget_is_safe_across_threads() -> None:
    budget = priced(1000)
    granted = []

    def work(thread: int) -> None:
        for i in range(500):
            if budget.reserve((thread, i), 1) is Room.START:
                granted.append(1)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(granted) == 1000 == budget.reserved
