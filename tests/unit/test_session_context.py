"""The SessionContext that traces each request back to its task instance and batch."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from airflow_provider_tencent_sms.session_context import (
    MAX_CONTEXT_BYTES,
    MAX_USER_BYTES,
    SessionTag,
    check_user_context,
    compose,
    is_from,
    parse,
    task_instance_tag,
    user_part,
)

ids = st.text(min_size=1, max_size=300)
user_contexts = st.none() | st.text(max_size=60).filter(lambda s: len(s.encode()) <= MAX_USER_BYTES)


@given(ids, ids, ids, st.integers(-1, 10_000), st.integers(0, 9_999_999), user_contexts)
def test_round_trip_within_tencents_limit_whatever_the_ids(dag, run, task, map_index, batch, user):
    tag = task_instance_tag(dag, run, task, map_index)
    context = compose(tag, batch, user)
    assert len(context.encode()) <= MAX_CONTEXT_BYTES
    assert parse(context) == SessionTag(tag, batch, user or None)
    assert user_part(context) == (user or None)
    assert is_from(context, tag, batch)


def test_the_longest_user_part_still_fits():
    user = "é" * (MAX_USER_BYTES // 2)
    context = compose(task_instance_tag("d", "r", "t"), 9_999_999, user)
    assert len(context.encode()) <= MAX_CONTEXT_BYTES
    assert user_part(context) == user


def test_a_user_part_that_cannot_fit_is_refused_saying_how_much_fits():
    with pytest.raises(ValueError, match=rf"{MAX_USER_BYTES + 1} bytes.*at most {MAX_USER_BYTES}"):
        check_user_context("x" * (MAX_USER_BYTES + 1))


def test_task_instances_get_different_tags():
    tags = {
        task_instance_tag("dag", "run", "task", -1),
        task_instance_tag("dag", "run", "task", 0),
        task_instance_tag("dag", "run2", "task"),
        task_instance_tag("da", "grun", "task"),
        task_instance_tag("dag", "run", "other"),
    }
    assert len(tags) == 5
    assert task_instance_tag("dag", "run", "task") == task_instance_tag("dag", "run", "task")


def test_other_tasks_and_batches_are_not_ours():
    mine, theirs = task_instance_tag("d", "r", "mine"), task_instance_tag("d", "r", "theirs")
    context = compose(mine, 3)
    assert is_from(context, mine) and is_from(context, mine, 3)
    assert not is_from(context, mine, 4)
    assert not is_from(context, theirs)


@pytest.mark.parametrize(
    "context",
    [
        None,
        "",
        "order-42",
        "tsms1:abc:1",
        "tsms1:0123456789ab:",
        "tsms1:0123456789AB:1",
        "xtsms1:0123456789ab:1",
    ],
)
def test_anything_else_is_not_ours_and_is_all_user_part(context):
    assert parse(context) is None
    assert user_part(context) == (context or None)
    assert not is_from(context, "0123456789ab")


def test_a_user_part_may_itself_contain_the_separator():
    tag = task_instance_tag("d", "r", "t")
    assert user_part(compose(tag, 1, "a|b\nc")) == "a|b\nc"
