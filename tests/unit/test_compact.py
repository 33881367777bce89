"""Compact audiences and plans: the same recipients and batches as the list path, in a fraction of the memory."""

from __future__ import annotations

import io
from array import array

import pytest
from hypothesis import given
from hypothesis import strategies as st

from airflow_provider_tencent_sms.batching import MAX_BATCH_SIZE, plan_batches
from airflow_provider_tencent_sms.compact import BatchPlan, CompactAudience, Part, compact_audience
from airflow_provider_tencent_sms.recipients import Audience, audience_for_numbers, normalise, personalised
from airflow_provider_tencent_sms.shards import Shard
from airflow_provider_tencent_sms.sources import read_rows

from .test_batching import global_, mainland, plans

local = st.builds(lambda p, n: f"1{p}{n:04d} {n:04d}", st.sampled_from("3456789"), st.integers(0, 9999))
junk = st.sampled_from(["12345", "abc", "+86123", "138-0013", "+1 800 FLOWERS"])
entries = st.lists(st.one_of(mainland, global_, local, junk), max_size=300)


def text_audience(numbers: list[str], shard: Shard | None = None) -> CompactAudience:
    return compact_audience(read_rows(io.StringIO("".join(f"{n}\n" for n in numbers)), "text"), shard=shard)


def e164s(audience: CompactAudience) -> list[str]:
    return [f"+{n}" for part in audience.parts for n in part.numbers]


@given(entries, st.lists(mainland, max_size=5))
def test_a_file_holds_the_same_recipients_as_the_same_list(numbers, repeated):
    numbers = numbers + repeated * 3
    from_file = text_audience(numbers)
    from_list = normalise(numbers)
    assert sorted(e164s(from_file)) == sorted(from_list.valid)
    assert from_file.duplicates == from_list.duplicates
    assert from_file.invalid_count == len(from_list.invalid)
    for part in from_file.parts:
        assert {f"+{n}".startswith("+86") for n in part.numbers} == {part.mainland_china}


def test_the_plan_of_a_file_is_the_same_every_time():
    numbers = [f"+86138{i:08d}" for i in range(5000)] + ["+16502530000"]
    assert (
        BatchPlan(text_audience(numbers).parts).digest() == BatchPlan(text_audience(numbers).parts).digest()
    )


@given(plans(), st.integers(1, MAX_BATCH_SIZE))
def test_a_list_plans_the_batches_plan_batches_does(groups, max_size):
    compact = CompactAudience.from_audience(Audience(groups, 0, ()))
    plan = BatchPlan(compact.parts, max_size)
    expected = plan_batches(groups, max_size)
    assert [(b.numbers, b.template_params, b.mainland_china) for b in plan] == [
        (b.numbers, b.template_params, b.mainland_china) for b in expected
    ]
    assert len(plan) == len(expected)
    assert plan.sizes() == [len(b.numbers) for b in expected]
    assert plan.recipients == sum(len(b.numbers) for b in expected)
    for index, batch in enumerate(expected):
        assert plan.number(index, len(batch.numbers) - 1) == batch.numbers[-1]
        assert plan[index].key == batch.key


def test_indexing_like_a_sequence():
    plan = BatchPlan([Part((), True, array("q", range(8613800000000, 8613800000450)))])
    assert len(plan) == 3
    assert plan[-1].numbers == plan[2].numbers == tuple(f"+{n}" for n in range(8613800000400, 8613800000450))
    assert [len(b.numbers) for b in plan[1:]] == [200, 50]
    with pytest.raises(IndexError):
        plan[3]
    with pytest.raises(ValueError, match="max_size"):
        BatchPlan([], 201)


def test_the_digest_changes_with_numbers_parameters_order_and_class():
    numbers = array("q", [8613800138000, 8613800138001])
    base = BatchPlan([Part(("1",), True, numbers)]).digest()
    assert BatchPlan([Part(("1",), True, array("q", numbers))]).digest() == base
    assert BatchPlan([Part(("2",), True, numbers)]).digest() != base
    assert BatchPlan([Part(("1",), True, array("q", reversed(numbers)))]).digest() != base
    assert BatchPlan([Part(("1",), True, numbers[:1])]).digest() != base
    assert BatchPlan([Part(("1",), True, numbers)], 1).digest() != base
    # Two parts whose numbers run together differently are different plans.
    split = [Part(("1",), True, numbers[:1]), Part(("1",), True, numbers[1:])]
    assert BatchPlan(split).digest() != base


@given(st.lists(st.one_of(mainland, global_), max_size=200), st.integers(1, 6))
def test_shards_split_a_file_into_disjoint_parts_that_cover_it(numbers, count):
    whole = sorted(e164s(text_audience(numbers)))
    shards = [sorted(e164s(text_audience(numbers, Shard(i, count)))) for i in range(count)]
    assert sorted(n for shard in shards for n in shard) == whole


def test_a_shard_of_a_list_keeps_its_order():
    numbers = [f"+86138{i:08d}" for i in range(100)]
    shard = Shard(1, 3)
    audience = CompactAudience.from_audience(normalise_audience(numbers), shard)
    assert e164s(audience) == [n for n in numbers if shard.holds(n)]


def normalise_audience(numbers: list[str]) -> Audience:
    valid = normalise(numbers).valid
    return Audience({(): valid}, 0, ())


def test_the_digest_is_pinned():
    # The digest outlives the process (the ledger stores it between tries): its encoding must not drift.
    plan = BatchPlan([Part(("1234", "5"), True, array("q", [8613800138000, 8613900139000]))])
    assert plan.digest() == "8f7b346a850135fd66380acc"


# -- exclusion (opt-out lists) -------------------------------------------------------------------------


def _numbers(audience: CompactAudience) -> list[str]:
    return [f"+{n}" for part in audience.parts for n in part.numbers]


def test_without_removes_excluded_numbers_from_every_part_and_counts_them():
    rows = [
        {"phone_number": "13800138000", "template_params": ["a"]},
        {"phone_number": "13800138001", "template_params": ["b"]},
        {"phone_number": "13800138002", "template_params": ["a"]},
        {"phone_number": "13800138002", "template_params": ["a"]},
        {"phone_number": "junk", "template_params": ["a"]},
    ]
    listed = CompactAudience.from_audience(personalised(rows))
    audience = listed.without({"+8613800138001", "+8613800138002", "+8613900139000"})
    assert _numbers(audience) == ["+8613800138000"] and audience.params == [("a",)]  # "b" is gone entirely
    assert (audience.excluded, audience.duplicates, audience.invalid_count) == (2, 1, 1)
    assert "excluded=2" in repr(audience)
    assert listed.without(set()) is listed


@given(st.lists(st.integers(0, 60), max_size=40), st.data())
def test_counts_still_add_up_after_exclusion(indices, data):
    numbers = [f"+86138{i:08d}" for i in indices]
    audience = CompactAudience.from_audience(audience_for_numbers(numbers, ["x"]))
    recipients = _numbers(audience)
    excluded = set(data.draw(st.lists(st.sampled_from(recipients), max_size=10))) if recipients else set()
    left = audience.without(excluded)
    assert not excluded & set(_numbers(left))
    assert left.recipients + left.duplicates + left.invalid_count + left.excluded == len(numbers)
