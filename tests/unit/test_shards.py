"""The shard of a number: stable across processes and releases, exactly one per number, evenly spread."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from airflow_provider_tencent_sms.shards import Shard, shard_of

from .test_batching import global_, mainland

numbers = st.one_of(mainland, global_)


@given(numbers, st.integers(1, 64))
def test_every_number_is_in_exactly_one_shard(number, count):
    holders = [index for index in range(count) if Shard(index, count).holds(number)]
    assert holders == [shard_of(number, count)]
    assert Shard(0, count).holds_int(int(number)) == Shard(0, count).holds(number)


@given(st.lists(numbers, unique=True, max_size=50), st.integers(1, 8), st.randoms())
def test_the_shard_does_not_depend_on_order(batch, count, rng):
    shuffled = list(batch)
    rng.shuffle(shuffled)
    assert {n: shard_of(n, count) for n in batch} == {n: shard_of(n, count) for n in shuffled}


def test_the_same_shard_in_another_process_whatever_its_hash_seed():
    sample = [f"+86138{i:08d}" for i in range(0, 1000, 37)]
    code = f"from airflow_provider_tencent_sms.shards import shard_of; print([shard_of(n, 7) for n in {sample!r}])"
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    there = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert there.stdout.strip() == str([shard_of(n, 7) for n in sample])


def test_the_definition_is_pinned():
    # Changing it would move numbers between the shards of a campaign whose shards are half sent.
    # The first 8 bytes of BLAKE2b over the E.164 text, big-endian, as documented.
    assert shard_of("+8613800138000", 2**64) == 0x0E546A7FF582C5A6
    assert shard_of("+8613800138000", 4) == 0x0E546A7FF582C5A6 % 4


def test_shards_are_even():
    counts = Counter(shard_of(f"+86139{i:08d}", 4) for i in range(40_000))
    assert all(9_500 < count < 10_500 for count in counts.values()), counts


@pytest.mark.parametrize(
    ("index", "count", "error"),
    [
        (4, 4, "between 0 and shards - 1 = 3"),
        (-1, 4, "between 0"),
        (0, 0, "at least 1"),
        (True, 2, "must be an int"),
    ],
)
def test_a_wrong_shard_is_refused(index, count, error):
    with pytest.raises((ValueError, TypeError), match=error):
        Shard(index, count)
