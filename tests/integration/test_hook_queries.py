"""The hook's read-only calls for templates and inbound replies, over HTTP against the sandbox."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest

from airflow_provider_tencent_sms.exceptions import TencentSmsApiError
from airflow_provider_tencent_sms.hooks.sms import TencentSmsHook
from airflow_provider_tencent_sms.sandbox import Sandbox
from airflow_provider_tencent_sms.templates import TemplateStatus
from tests.helpers import REVIEW_STATES, use_connection

NUMBER = "+8613800138000"


@pytest.fixture
def sandbox(monkeypatch):
    with Sandbox(templates=REVIEW_STATES) as sandbox:
        use_connection(monkeypatch, sandbox)
        yield sandbox


def actions(sandbox: Sandbox, action: str) -> list[float]:
    return [r.monotonic for r in sandbox.requests if r.action == action]


def test_describe_templates_reports_status_review_reply_and_content(sandbox):
    found = TencentSmsHook().describe_templates([2001, "2002", "2003", "2004", "2005", "9999"])
    templates = {t.id: t for t in found}
    assert sorted(templates) == ["2001", "2002", "2003", "2004"]  # unknown and global ones left out
    hello = templates["2001"]
    assert (hello.approved, hello.status, hello.name, hello.param_count) == (True, "approved", "Hello", 2)
    assert hello.content == "Hello {1}, see you at {2}"
    assert [templates[i].status for i in ("2002", "2003", "2004")] == [
        "in review",
        "rejected",
        "approved but not yet active",
    ]
    assert templates["2003"].status_code == TemplateStatus.REJECTED
    assert templates["2003"].review_reply == "Marketing templates must end with an unsubscribe instruction"
    (global_template,) = TencentSmsHook().describe_templates([2005], international=True)
    assert (global_template.id, global_template.international) == ("2005", 1)


def test_describe_templates_asks_in_pages_of_100(sandbox):
    found = TencentSmsHook().describe_templates([*range(3000, 3149), 2001])
    assert [t.id for t in found] == ["2001"]
    assert len(actions(sandbox, "DescribeSmsTemplateList")) == 2


def test_describe_templates_needs_numeric_ids(sandbox):
    with pytest.raises(ValueError, match="Template ids are numbers"):
        TencentSmsHook().describe_templates(["SMS_1"])
    assert sandbox.requests == []


def test_an_individual_account_gets_tencents_refusal(sandbox):
    sandbox.add_fault(code="FailedOperation.NotEnterpriseCertification", action="DescribeSmsTemplateList")
    with pytest.raises(TencentSmsApiError) as raised:
        TencentSmsHook().describe_templates([2001])
    assert raised.value.code == "FailedOperation.NotEnterpriseCertification"


def test_template_queries_keep_to_20_per_second(sandbox):
    hook = TencentSmsHook()
    for _ in range(5):
        hook.describe_templates([2001])
    starts = actions(sandbox, "DescribeSmsTemplateList")
    # Starts are 1/20 s apart at least; arrival times jitter by a few ms, so the span is compared.
    assert starts[-1] - starts[0] >= 4 / 20 - 0.01


def test_pull_replies_takes_each_reply_once_in_pages(sandbox):
    base = int(time.time()) - 60
    for i in range(230):
        sandbox.add_reply(f"+86138{i:08d}", "退订" if i % 2 else "TD", reply_time=base + i)
    hook = TencentSmsHook()
    replies = hook.pull_replies(250)
    assert len(replies) == 230
    assert len(actions(sandbox, "PullSmsReplyStatus")) == 3  # 100, 100, then 30 < 100: the queue is empty
    first = replies[0]
    assert (first.phone_number, first.content, first.sign_name, first.country_code) == (
        "+8613800000000",
        "TD",
        "Airflow",
        "86",
    )
    assert first.reply_time == datetime.fromtimestamp(base, timezone.utc)
    assert "13800000000" not in repr(first) and "TD" not in repr(first)
    assert hook.pull_replies() == []


def test_pull_replies_stops_at_the_limit(sandbox):
    for i in range(5):
        sandbox.add_reply(NUMBER, f"r{i}")
    hook = TencentSmsHook()
    assert [r.content for r in hook.pull_replies(3)] == ["r0", "r1", "r2"]
    assert [r.content for r in hook.pull_replies(3)] == ["r3", "r4"]
    with pytest.raises(ValueError, match="positive"):
        hook.pull_replies(0)


def test_replies_by_phone_number_read_every_page_of_the_range(sandbox):
    now = datetime.now(timezone.utc)
    start = int((now - timedelta(hours=3)).timestamp())
    for i in range(205):
        sandbox.add_reply(NUMBER, f"r{i}", reply_time=start + i)
    sandbox.add_reply("+8613900139000", "other", reply_time=start)
    hook = TencentSmsHook()
    replies = hook.pull_replies_by_phone_number(NUMBER, now - timedelta(days=1))
    assert [r.content for r in replies] == [f"r{i}" for i in range(205)]
    assert len(actions(sandbox, "PullSmsReplyStatusByPhoneNumber")) == 3
    begin = datetime.fromtimestamp(start + 10, timezone.utc)
    window = hook.pull_replies_by_phone_number(NUMBER, begin, begin + timedelta(seconds=2))
    assert [r.content for r in window] == ["r10", "r11", "r12"]
    # Reading by number consumes nothing from the queue.
    assert len(hook.pull_replies(300)) == 206


def test_replies_by_phone_number_refuse_what_tencent_cannot_answer(sandbox):
    hook = TencentSmsHook()
    with pytest.raises(
        ValueError, match="more than 7 days ago: PullSmsReplyStatusByPhoneNumber only reaches back 7 days"
    ):
        hook.pull_replies_by_phone_number(NUMBER, datetime.now(timezone.utc) - timedelta(days=8))
    with pytest.raises(ValueError, match="timezone-aware"):
        hook.pull_replies_by_phone_number(NUMBER, datetime.now() - timedelta(days=1))
    assert sandbox.requests == []
