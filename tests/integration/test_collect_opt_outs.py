"""collect_opt_outs against the sandbox: replies in, a merged opt-out file out."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from airflow_provider_tencent_sms.hooks.sms import TencentSmsHook
from airflow_provider_tencent_sms.operators.opt_outs import collect_opt_outs, read_opt_outs
from tests.helpers import use_connection


@pytest.fixture
def sandbox(tencent_sms_sandbox, monkeypatch):
    use_connection(monkeypatch, tencent_sms_sandbox)
    return tencent_sms_sandbox


def test_opt_out_replies_are_merged_into_the_file(sandbox, tmp_path):
    path = tmp_path / "lists" / "opt_outs.txt"
    sandbox.add_reply("+8613800138001", "退订")
    sandbox.add_reply("+8613800138002", "Thanks!")
    sandbox.add_reply("+8613800138003", "ｔｄ")
    sandbox.add_reply("+8613800138001", "TD")  # the same person twice
    result = collect_opt_outs(TencentSmsHook(), path=path)
    assert result == {
        "opt_outs": ["+8613800138001", "+8613800138003"],
        "new": 2,
        "replies": 4,
        "opt_out_replies": 3,
    }
    assert path.read_text() == "+8613800138001\n+8613800138003\n"
    # The next run keeps what the file has and adds only new numbers.
    sandbox.add_reply("+8613800138003", "R")
    sandbox.add_reply("+14155550100", "N")
    again = collect_opt_outs(TencentSmsHook(), path=path)
    assert again["new"] == 1
    assert read_opt_outs(path) == ["+8613800138001", "+8613800138003", "+14155550100"]


def test_a_file_with_a_bad_line_is_refused_before_any_reply_is_taken(sandbox, tmp_path):
    path = tmp_path / "opt_outs.txt"
    path.write_text("+8613800138001\n\nnot a number\n")
    sandbox.add_reply("+8613800138002", "退订")
    with pytest.raises(ValueError, match="line 3: not a phone number"):
        collect_opt_outs(TencentSmsHook(), path=path)
    assert path.read_text() == "+8613800138001\n\nnot a number\n"
    assert [r.action for r in sandbox.requests] == []  # the reply is still on the queue
    path.write_text("13800138001\n")  # fixed (any accepted format)
    assert collect_opt_outs(TencentSmsHook(), path=path)["opt_outs"] == ["+8613800138001", "+8613800138002"]


def test_without_a_file_the_list_is_returned(sandbox):
    sandbox.add_reply("+8613800138001", "拒收")
    assert collect_opt_outs(TencentSmsHook())["opt_outs"] == ["+8613800138001"]


def test_by_phone_number_reads_without_consuming_the_queue(sandbox):
    now = datetime.now(timezone.utc).timestamp()
    sandbox.add_reply("+8613800138001", "退订", reply_time=now - 3600)
    sandbox.add_reply("+8613800138002", "TD", reply_time=now - 3600)
    hook = TencentSmsHook()
    result = collect_opt_outs(hook, phone_numbers=["+8613800138001"], keywords=["退订"])
    assert result["opt_outs"] == ["+8613800138001"]
    since = datetime.now(timezone.utc) - timedelta(minutes=5)
    assert collect_opt_outs(hook, phone_numbers=["+8613800138001"], since=since)["opt_outs"] == []
    assert len(hook.pull_replies()) == 2
