"""The opt-out examples end to end with dag.test(): a reply of 退订 keeps that customer out of the next campaign."""

from __future__ import annotations

import pytest

from tests.clock import clock_at_task_start
from tests.examples.runs import example, run_example
from tests.examples.test_example_dags import CAMPAIGN, OFFERS, texts_by_number, tomorrow_in_beijing
from tests.helpers import use_connection

COLLECT = "tencent_sms_collect_opt_outs.py"
BOB = "+8613800138001"


@pytest.fixture
def sandbox(tencent_sms_sandbox, monkeypatch, airflow_db, tmp_path):
    use_connection(monkeypatch, tencent_sms_sandbox)
    # Where both examples keep the list: the Airflow Variable, set here through the environment.
    monkeypatch.setenv("AIRFLOW_VAR_TENCENT_SMS_OPT_OUT_FILE", str(tmp_path / "opt_outs.txt"))
    return tencent_sms_sandbox


def campaign_run():
    with clock_at_task_start("send_offers", tomorrow_in_beijing(10)):
        return run_example(example(CAMPAIGN))


def test_a_number_that_replied_tuiding_is_excluded_from_the_next_campaign_run(sandbox, tmp_path):
    first = campaign_run()
    assert texts_by_number(sandbox) == OFFERS
    assert first.tasks["send_offers"].return_value["excluded"] == 0

    sandbox.add_reply(BOB, "退订")
    sandbox.add_reply("+8613800138000", "谢谢")  # a thank-you is not an opt-out
    collected = run_example(example(COLLECT))
    assert collected.states == {"collect_opt_outs": ("success", 1)}
    assert collected.tasks["collect_opt_outs"].return_value == {
        "opt_outs": 1,
        "new": 1,
        "replies": 2,
        "opt_out_replies": 1,
        "path": str(tmp_path / "opt_outs.txt"),
    }
    assert (tmp_path / "opt_outs.txt").read_text() == f"{BOB}\n"

    sandbox.clear()
    second = campaign_run()
    assert second.states["send_offers"] == ("success", 1)
    assert texts_by_number(sandbox) == {number: text for number, text in OFFERS.items() if number != BOB}
    summary = second.tasks["send_offers"].return_value
    assert (summary["sent"], summary["excluded"]) == (2, 1)


def test_collecting_again_keeps_the_list_and_adds_nothing_twice(sandbox, tmp_path):
    (tmp_path / "opt_outs.txt").write_text(f"{BOB}\n")
    sandbox.add_reply(BOB, "TD")
    run = run_example(example(COLLECT))
    assert run.tasks["collect_opt_outs"].return_value["new"] == 0
    assert (tmp_path / "opt_outs.txt").read_text() == f"{BOB}\n"
