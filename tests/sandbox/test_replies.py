"""Replies from recipients (injected by tests) and template review states, read with the official SDK."""

from __future__ import annotations

import time

import pytest
import requests
from tencentcloud.sms.v20210111 import models

from airflow_provider_tencent_sms.sandbox import Registry, Sandbox
from tests.helpers import REVIEW_STATES

from .client import GLOBAL, MAINLAND, MAINLAND_2, call, common_client, sdk_2021, sdk_error, send_params


def pull(sandbox: Sandbox, limit: int) -> list[models.PullSmsReplyStatus]:
    request = models.PullSmsReplyStatusRequest()
    request.SmsSdkAppId = sandbox.sms_sdk_app_id
    request.Limit = limit
    return list(sdk_2021(sandbox).PullSmsReplyStatus(request).PullSmsReplyStatusSet)


def by_number(
    sandbox: Sandbox, number: str, begin: int, *, end: int | None = None, offset: int = 0, limit: int = 100
) -> list[models.PullSmsReplyStatus]:
    request = models.PullSmsReplyStatusByPhoneNumberRequest()
    request.SmsSdkAppId = sandbox.sms_sdk_app_id
    request.PhoneNumber = number
    request.BeginTime = begin
    request.EndTime = end
    request.Offset = offset
    request.Limit = limit
    return list(sdk_2021(sandbox).PullSmsReplyStatusByPhoneNumber(request).PullSmsReplyStatusSet)


def test_the_reply_queue_hands_out_each_reply_once(sandbox: Sandbox) -> None:
    sandbox.add_reply(MAINLAND, "退订", reply_time=1_700_000_000)
    sandbox.add_reply(MAINLAND_2, "TD")
    sandbox.add_reply(GLOBAL, "STOP", sign_name="", extend_code="12")
    (first,) = pull(sandbox, 1)
    assert (first.PhoneNumber, first.ReplyContent, first.ReplyTime) == (MAINLAND, "退订", 1_700_000_000)
    assert (first.CountryCode, first.SubscriberNumber, first.SignName) == ("86", "13800138000", "Airflow")
    rest = pull(sandbox, 100)
    assert [(r.PhoneNumber, r.ReplyContent) for r in rest] == [(MAINLAND_2, "TD"), (GLOBAL, "STOP")]
    assert (rest[1].CountryCode, rest[1].ExtendCode, rest[1].SignName) == ("1", "12", "")
    assert pull(sandbox, 100) == []
    # Pulled replies stay listed for tests.
    assert [r["content"] for r in sandbox.replies] == ["退订", "TD", "STOP"]


def test_pull_limit_is_checked(sandbox: Sandbox) -> None:
    request = models.PullSmsReplyStatusRequest()
    request.SmsSdkAppId = sandbox.sms_sdk_app_id
    request.Limit = 101
    assert sdk_error(lambda: sdk_2021(sandbox).PullSmsReplyStatus(request)) == (
        "InvalidParameterValue.LimitVerifyFail"
    )
    request.Limit, request.SmsSdkAppId = 10, "1400000001"
    assert sdk_error(lambda: sdk_2021(sandbox).PullSmsReplyStatus(request)) == (
        "InvalidParameterValue.SdkAppIdNotExist"
    )


def test_replies_by_number_page_and_keep_to_the_time_range(sandbox: Sandbox) -> None:
    start = 1_700_000_000
    for i in range(250):
        sandbox.add_reply(MAINLAND, f"reply {i}", reply_time=start + i)
    sandbox.add_reply(MAINLAND_2, "someone else", reply_time=start)
    pages = [by_number(sandbox, MAINLAND, start, offset=offset) for offset in (0, 100, 200)]
    assert [len(page) for page in pages] == [100, 100, 50]
    assert [r.ReplyContent for page in pages for r in page] == [f"reply {i}" for i in range(250)]
    window = by_number(sandbox, MAINLAND, start + 10, end=start + 12)
    assert [r.ReplyContent for r in window] == ["reply 10", "reply 11", "reply 12"]
    # Queries by number consume nothing.
    assert len(pull(sandbox, 100)) == 100


def test_replies_are_injected_over_http(sandbox: Sandbox) -> None:
    url = sandbox.url + "/_sandbox/replies"
    answer = requests.post(url, json={"phone_number": MAINLAND, "content": "TD"}, timeout=10)
    assert answer.status_code == 201
    assert answer.json()[0]["sign_name"] == "Airflow"
    batch = [{"phone_number": MAINLAND_2, "content": "R", "reply_time": 1_700_000_000}]
    assert requests.post(url, json=batch, timeout=10).status_code == 201
    listed = requests.get(url, timeout=10).json()
    assert [(r["phone_number"], r["content"]) for r in listed] == [(MAINLAND, "TD"), (MAINLAND_2, "R")]
    assert abs(listed[0]["reply_time"] - time.time()) < 60
    assert [r.ReplyContent for r in pull(sandbox, 10)] == ["TD", "R"]
    requests.delete(sandbox.url + "/_sandbox/messages", timeout=10)
    assert requests.get(url, timeout=10).json() == []


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"phone_number": "13800138000", "content": "TD"}, "E.164"),
        ({"phone_number": MAINLAND}, "content"),
        ({"phone_number": MAINLAND, "content": "TD", "when": 1}, "unknown keys: when"),
        ({"phone_number": MAINLAND, "content": "TD", "reply_time": "today"}, "Unix seconds"),
        (["TD"], "JSON object"),
    ],
)
def test_bad_injected_replies_are_refused_saying_why(sandbox: Sandbox, body: object, error: str) -> None:
    answer = requests.post(sandbox.url + "/_sandbox/replies", json=body, timeout=10)
    assert answer.status_code == 400
    assert error in answer.json()["error"]
    assert sandbox.replies == []
    with pytest.raises(ValueError, match=r"E\.164"):
        sandbox.add_reply("not a number", "TD")


def test_templates_report_their_review_state_and_only_approved_ones_send(make_sandbox) -> None:
    sandbox = make_sandbox(templates=REVIEW_STATES)
    request = models.DescribeSmsTemplateListRequest()
    request.International = 0
    request.TemplateIdSet = [1003, 2002, 2003, 2004]
    found = sdk_2021(sandbox).DescribeSmsTemplateList(request).DescribeTemplateStatusSet
    assert [(t.TemplateId, t.StatusCode) for t in found] == [(1003, 0), (2002, 1), (2003, -1), (2004, 2)]
    assert found[2].ReviewReply == "Marketing templates must end with an unsubscribe instruction"
    assert found[0].ReviewReply == ""
    client = common_client(sandbox)
    assert call(client, "SendSms", send_params(template_id="1003", params=["x"]))["SendStatusSet"]
    for template_id in ("2002", "2003", "2004"):
        code = sdk_error(
            lambda t=template_id: client.call_json("SendSms", send_params(template_id=t, params=["x"]))
        )
        assert code == "FailedOperation.TemplateIncorrectOrUnapproved"


def test_a_template_file_with_an_unknown_status_is_refused() -> None:
    with pytest.raises(ValueError, match='"status" must be one of'):
        Registry.from_json({"templates": {"1": {"type": "notification", "content": "x", "status": "ok"}}})
