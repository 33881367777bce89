"""Templates as Tencent reports them and the preflight verdict on a send."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from airflow_provider_tencent_sms.replies import Reply
from airflow_provider_tencent_sms.templates import Template, preflight_problem


def template(status: int = 0, content: str | None = "Code {1}, valid {2} min", review: str = "") -> Template:
    return Template.from_api(
        {
            "TemplateId": 1234,
            "International": 0,
            "StatusCode": status,
            "ReviewReply": review,
            "TemplateName": "Code",
            "CreateTime": 1_700_000_000,
            **({} if content is None else {"TemplateContent": content}),
        }
    )


def test_from_api_reads_every_field() -> None:
    t = template()
    assert (t.id, t.status_code, t.name, t.content, t.international) == (
        "1234",
        0,
        "Code",
        "Code {1}, valid {2} min",
        0,
    )
    assert (t.approved, t.status, t.param_count) == (True, "approved", 2)
    assert template(content=None).param_count is None


def test_an_approved_template_with_matching_parameters_passes() -> None:
    assert preflight_problem(template(), [2]) is None
    assert preflight_problem(template(), []) is None  # nothing to send, nothing to contradict
    # Without content (2019-07-11), the count cannot be checked.
    assert preflight_problem(template(content=None), [3]) is None


@pytest.mark.parametrize(
    ("status", "words"),
    [(1, "is in review"), (2, "is approved but not yet active"), (7, "is not approved (StatusCode 7)")],
)
def test_a_template_not_approved_is_named_with_its_status(status: int, words: str) -> None:
    problem = preflight_problem(template(status), [2])
    assert problem is not None
    assert f"Template 1234 (Code) {words}" in problem
    assert "Only approved templates" in problem


def test_a_rejected_template_carries_tencents_review_reply() -> None:
    problem = preflight_problem(template(-1, review="Unsubscribe text missing"), [2])
    assert problem is not None
    assert "is rejected; Tencent's review reply: 'Unsubscribe text missing'" in problem


def test_a_parameter_count_mismatch_names_both_counts() -> None:
    problem = preflight_problem(template(), [3])
    assert problem == (
        "Template 1234 has 2 placeholders ('Code {1}, valid {2} min') but 3 template parameters were "
        "given: pass exactly 2."
    )
    mixed = preflight_problem(template(), [2, 1, 3, 2])
    assert mixed is not None and "but 1 or 3 template parameters" in mixed
    single = preflight_problem(template(content="Hi {1}"), [0])
    assert single is not None and "has 1 placeholder ('Hi {1}') but 0" in single


def test_reply_from_api_and_its_masked_repr() -> None:
    reply = Reply.from_api(
        {
            "ExtendCode": "",
            "CountryCode": "86",
            "PhoneNumber": "+8613800138000",
            "SignName": "Airflow",
            "ReplyContent": "退订",
            "ReplyTime": 1_700_000_000,
            "SubscriberNumber": "13800138000",
        }
    )
    assert reply.phone_number == "+8613800138000"
    assert reply.content == "退订"
    assert reply.reply_time == datetime(2023, 11, 14, 22, 13, 20, tzinfo=timezone.utc)
    assert "13800138000" not in repr(reply) and "退订" not in repr(reply)
