"""Batch planning: at most 200 numbers, never mixed, fewest requests, stable keys."""

from __future__ import annotations

import math
import os
import pickle
import subprocess
import sys
import textwrap
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from airflow_provider_tencent_sms.batching import MAX_BATCH_SIZE, Batch, plan_batches

mainland = st.builds(lambda p, n: f"+861{p}{n:09d}", st.sampled_from("3456789"), st.integers(0, 10**9 - 1))
global_ = st.one_of(
    st.integers(2_000_000_000, 9_999_999_999).map(lambda n: f"+1{n}"),
    st.integers(7_000_000_000, 7_999_999_999).map(lambda n: f"+44{n}"),
    st.integers(10_000_000, 99_999_999).map(lambda n: f"+852{n}"),
)
params = st.lists(st.text(max_size=6), max_size=3).map(tuple)


@st.composite
def plans(draw: st.DrawFn) -> dict[tuple[str, ...], list[str]]:
    """Groups of unique numbers, sizes around the 200 boundary, classes interleaved."""
    keys = draw(st.lists(params, unique=True, max_size=4))
    if not keys:
        return {}
    numbers = draw(st.lists(st.one_of(mainland, global_), unique=True, max_size=900))
    cut_count = len(keys) - 1
    cuts = sorted(draw(st.lists(st.integers(0, len(numbers)), min_size=cut_count, max_size=cut_count)))
    bounds = [0, *cuts, len(numbers)]
    return {key: numbers[bounds[i] : bounds[i + 1]] for i, key in enumerate(keys)}


def _by_class(numbers: list[str]) -> tuple[list[str], list[str]]:
    return [n for n in numbers if n.startswith("+86")], [n for n in numbers if not n.startswith("+86")]


@given(plans(), st.integers(1, MAX_BATCH_SIZE))
def test_every_number_exactly_once_in_small_unmixed_batches(groups, max_size):
    batches = plan_batches(groups, max_size)
    sent = [(batch.template_params, number) for batch in batches for number in batch.numbers]
    expected = [(key, number) for key, numbers in groups.items() for number in numbers]
    assert sorted(sent) == sorted(expected)
    for batch in batches:
        assert 1 <= len(batch.numbers) <= max_size
        assert {n.startswith("+86") for n in batch.numbers} == {batch.mainland_china}


@given(plans(), st.integers(1, MAX_BATCH_SIZE))
def test_the_fewest_requests(groups, max_size):
    expected = sum(
        math.ceil(len(part) / max_size) for numbers in groups.values() for part in _by_class(numbers)
    )
    assert len(plan_batches(groups, max_size)) == expected


@given(plans(), st.integers(1, MAX_BATCH_SIZE))
def test_input_order_is_kept(groups, max_size):
    batches = plan_batches(groups, max_size)
    # Groups in mapping order; within one, the class of its first number first.
    expected_runs = []
    for key, numbers in groups.items():
        cn, other = _by_class(numbers)
        runs = [(key, True, cn), (key, False, other)]
        if numbers and not numbers[0].startswith("+86"):
            runs.reverse()
        expected_runs += [(k, flag, part) for k, flag, part in runs if part]
    actual_runs: list[tuple[tuple[str, ...], bool, list[str]]] = []
    for batch in batches:
        if actual_runs and actual_runs[-1][:2] == (batch.template_params, batch.mainland_china):
            actual_runs[-1][2].extend(batch.numbers)
        else:
            actual_runs.append((batch.template_params, batch.mainland_china, list(batch.numbers)))
    assert actual_runs == expected_runs
    # Only the last batch of a run may be short.
    for previous, current in pairwise(batches):
        same_run = (previous.template_params, previous.mainland_china) == (
            current.template_params,
            current.mainland_china,
        )
        assert not same_run or len(previous.numbers) == max_size


@given(plans())
def test_planning_is_deterministic_and_keys_are_unique(groups):
    first = plan_batches(groups)
    again = plan_batches({key: list(numbers) for key, numbers in groups.items()})
    assert first == again
    assert [b.key for b in first] == [b.key for b in again]
    assert len({b.key for b in first}) == len(first)


def test_a_thousand_mainland_numbers_and_one_global():
    numbers = [f"+86138{i:08d}" for i in range(1000)] + ["+16502530000"]
    batches = plan_batches({("1234",): numbers})
    assert [len(b.numbers) for b in batches] == [200] * 5 + [1]
    assert [b.mainland_china for b in batches] == [True] * 5 + [False]
    assert all(b.template_params == ("1234",) for b in batches)


def test_a_group_that_starts_with_a_global_number_sends_its_global_batch_first():
    batches = plan_batches({(): ["+16502530000", "+8613800138000", "+442079460958"]})
    assert [(b.numbers, b.mainland_china) for b in batches] == [
        (("+16502530000", "+442079460958"), False),
        (("+8613800138000",), True),
    ]


def test_empty_groups_and_plans():
    assert plan_batches({}) == []
    assert plan_batches({("a",): [], ("b",): ()}) == []


def test_the_key_is_pinned():
    # The key outlives the process (it is stored between retries): its encoding must not drift.
    batch = Batch(("+8613800138000", "+8613900139000"), ("1234", "5"), True)
    assert batch.key == "62657a4bae8e099178580fb3"


def test_keys_are_the_same_in_another_process_with_another_hash_seed():
    groups = {
        ("1234",): [f"+86138{i:08d}" for i in range(450)] + ["+16502530000"],
        ("x", "y"): ["+442079460958"],
    }
    here = [b.key for b in plan_batches(groups)]
    script = textwrap.dedent(
        f"""
        from airflow_provider_tencent_sms.batching import plan_batches
        print(",".join(b.key for b in plan_batches({groups!r})))
        """
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    there = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    assert there.stdout.strip().split(",") == here


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (Batch(("+8613800138000",), ("1",), True), Batch(("+8613800138000",), ("2",), True)),
        (Batch(("+8613800138000",), ("1",), True), Batch(("+8613900139000",), ("1",), True)),
        (Batch(("+8613800138000",), ("1", "2"), True), Batch(("+8613800138000",), ("1,2",), True)),
        (Batch(("+8613800138000",), ("a", ""), True), Batch(("+8613800138000",), ("a",), True)),
        (
            Batch(("+8613800138000", "+8613900139000"), (), True),
            Batch(("+8613900139000", "+8613800138000"), (), True),
        ),
    ],
)
def test_different_batches_have_different_keys(a, b):
    assert a.key != b.key


def test_a_number_twice_is_refused_with_the_number_masked():
    with pytest.raises(ValueError, match=r"\+86138\*\*\*\*8000 appears more than once") as caught:
        plan_batches({("1",): ["+8613800138000"], ("2",): ["+8613900139000", "+8613800138000"]})
    assert "8613800138000" not in str(caught.value)
    with pytest.raises(ValueError, match="appears more than once"):
        plan_batches({(): ["+16502530000", "+16502530000"]})


@pytest.mark.parametrize("max_size", [0, -1, 201])
def test_max_size_is_between_1_and_200(max_size):
    with pytest.raises(ValueError, match="max_size must be between 1 and 200"):
        plan_batches({(): ["+8613800138000"]}, max_size)


@pytest.mark.parametrize(
    ("groups", "message"),
    [
        ({"1": ["+8613800138000"]}, "tuple of strings, not a str"),
        ({(1,): ["+8613800138000"]}, "must be strings, not int"),
        ({(): "+8613800138000"}, "not one string"),
    ],
)
def test_malformed_groups(groups, message):
    with pytest.raises(TypeError, match=message):
        plan_batches(groups)


def test_numbers_with_line_breaks_are_refused():
    with pytest.raises(ValueError, match="line break"):
        plan_batches({(): ["+8613800138000\n+8613900139000"]})
    with pytest.raises(ValueError, match="line break"):
        Batch(("+8613800138000\n",), (), True)


@pytest.mark.parametrize("size", [0, 201])
def test_a_batch_has_1_to_200_numbers(size):
    with pytest.raises(ValueError, match=f"1 to 200 numbers, not {size}"):
        Batch(tuple(f"+86138{i:08d}" for i in range(size)), (), True)


def test_repr_shows_neither_numbers_nor_params():
    batch = Batch(("+8613800138000",), ("123456",), True)
    assert repr(batch) == f"Batch(key='{batch.key}', size=1, mainland_china=True)"


def test_batches_survive_pickling_with_their_key():
    batch = Batch(("+8613800138000",), ("1234",), True)
    copied = pickle.loads(pickle.dumps(batch))
    assert copied == batch
    assert copied.key == batch.key


def test_batches_are_frozen_and_slotted():
    batch = Batch(("+8613800138000",), (), True)
    with pytest.raises(AttributeError):
        batch.numbers = ()  # type: ignore[misc]
    assert not hasattr(batch, "__dict__")
