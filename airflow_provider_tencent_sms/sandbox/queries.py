"""The read-only actions: number lookup, delivery receipts, statistics, template and signature lists."""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from itertools import islice
from typing import Any

from . import phones, rules
from .context import Context
from .errors import ApiError
from .params import V2019, Params
from .store import Delivery, InboundReply
from .templates import ReviewStatus, Scope

MAX_LIMIT = 100
_HOUR = re.compile(r"[0-9]{10}")
#: PullSmsSendStatusByPhoneNumber reaches back this far.
HISTORY_SECONDS = 7 * 24 * 3600
#: CallbackStatusStatistics covers at most this long a range of hours.
MAX_STATISTICS_RANGE = timedelta(days=32)
#: How the sandbox files a FAIL receipt's description under CallbackStatusStatistics' counts (its own
#: convention: Tencent does not publish the mapping); anything else is an internal (carrier) error.
_FAILURE_COUNTS = (
    ("BLACK", "BlackListCount"),
    ("SHUTDOWN", "ShutdownErrorCount"),
    ("POWEROFF", "ShutdownErrorCount"),
    ("INVALID", "InvalidNumberCount"),
    ("EMPTY", "InvalidNumberCount"),
    ("FREQ", "FrequencyLimitCount"),
)


def _check_limit(version: str, limit: int, offset: int = 0) -> None:
    if not 0 <= limit <= MAX_LIMIT or offset < 0:
        # 2019-07-11 has no LimitVerifyFail code; it answers with its generic parameter error.
        code = (
            "InvalidParameter.InvalidParameters"
            if version == V2019
            else "InvalidParameterValue.LimitVerifyFail"
        )
        raise ApiError(code, f"Limit must be 0-{MAX_LIMIT} and Offset >= 0.")


def describe_phone_number_info(ctx: Context, version: str, params: Params) -> dict[str, Any]:
    numbers = params.strings("numbers")
    rules.check_number_count(numbers)
    infos = []
    for raw in numbers:
        number = phones.parse(raw)
        if number is None:
            infos.append(
                {
                    "Code": "InvalidParameterValue.IncorrectPhoneNumber",
                    "Message": f"{raw!r} is not a mobile number in E.164 format.",
                    "NationCode": "",
                    "SubscriberNumber": "",
                    "PhoneNumber": raw,
                    "IsoCode": phones.UNKNOWN_ISO_CODE,
                    "IsoName": "",
                }
            )
        else:
            infos.append(
                {
                    "Code": "Ok",
                    "Message": "",
                    "NationCode": number.nation_code,
                    "SubscriberNumber": number.subscriber,
                    "PhoneNumber": number.e164,
                    "IsoCode": number.iso_code,
                    "IsoName": number.iso_name,
                }
            )
    return {"PhoneNumberInfoSet": infos}


def _receipt(ctx: Context, version: str, delivery: Delivery) -> dict[str, Any]:
    batch = delivery.batch
    # Only valid numbers are ever delivered.
    number = phones.parse(delivery.phone_number)
    assert number is not None
    outcome = delivery.outcome
    received = int(delivery.receipt_time or batch.timestamp)
    if version == V2019:
        # 2019-07-11 names the E.164 form PurePhoneNumber and the national form PhoneNumber.
        return {
            "UserReceiveTime": datetime.fromtimestamp(received, ctx.settings.zone).strftime(
                "%Y-%m-%d %H:%M:%S"
            ),
            "UserReceiveUnixTime": received,
            "NationCode": number.nation_code,
            "PurePhoneNumber": number.e164,
            "PhoneNumber": number.subscriber,
            "SerialNo": delivery.serial_no,
            "ReportStatus": outcome.status,
            "Description": outcome.description,
        }
    return {
        "UserReceiveTime": received,
        "CountryCode": number.nation_code,
        "SubscriberNumber": number.subscriber,
        "PhoneNumber": number.e164,
        "SerialNo": delivery.serial_no,
        "ReportStatus": outcome.status,
        "Description": outcome.description,
        "SessionContext": batch.session_context,
    }


def pull_sms_send_status(ctx: Context, version: str, params: Params) -> dict[str, Any]:
    ctx.check_app(version, params.string("app_id"))
    limit = params.integer("limit")
    _check_limit(version, limit)
    receipts = ctx.store.pull_receipts(limit, time.time())
    return {"PullSmsSendStatusSet": [_receipt(ctx, version, d) for d in receipts]}


def pull_sms_send_status_by_phone_number(ctx: Context, version: str, params: Params) -> dict[str, Any]:
    ctx.check_app(version, params.string("app_id"))
    limit, offset = params.integer("limit"), params.integer("offset")
    _check_limit(version, limit, offset)
    now = time.time()
    begin, end = params.integer("begin"), params.optional_integer("end")
    if begin < now - HISTORY_SECONDS:
        raise ApiError(
            "InvalidParameterValue.BeginTimeVerifyFail", "BeginTime must be within the last 7 days."
        )
    if end is not None and end < begin:
        raise ApiError("InvalidParameterValue.EndTimeVerifyFail", "EndTime must not be before BeginTime.")
    history = ctx.store.history(params.string("number"), begin, end, now)
    page = islice(history, offset, offset + limit)
    return {"PullSmsSendStatusSet": [_receipt(ctx, version, d) for d in page]}


def _reply_item(reply: InboundReply) -> dict[str, Any]:
    number = phones.parse(reply.phone_number)
    return {
        "ExtendCode": reply.extend_code,
        "CountryCode": number.nation_code if number else "",
        "PhoneNumber": reply.phone_number,
        "SignName": reply.sign_name,
        "ReplyContent": reply.content,
        "ReplyTime": reply.reply_time,
        "SubscriberNumber": number.subscriber if number else "",
    }


def pull_sms_reply_status(ctx: Context, version: str, params: Params) -> dict[str, Any]:
    ctx.check_app(version, params.string("app_id"))
    limit = params.integer("limit")
    _check_limit(version, limit)
    return {"PullSmsReplyStatusSet": [_reply_item(r) for r in ctx.store.pull_replies(limit)]}


def pull_sms_reply_status_by_phone_number(ctx: Context, version: str, params: Params) -> dict[str, Any]:
    ctx.check_app(version, params.string("app_id"))
    limit, offset = params.integer("limit"), params.integer("offset")
    _check_limit(version, limit, offset)
    history = ctx.store.reply_history(
        params.string("number"), params.integer("begin"), params.optional_integer("end")
    )
    return {"PullSmsReplyStatusSet": [_reply_item(r) for r in history[offset : offset + limit]]}


def _hours(version: str, params: Params) -> tuple[str, str]:
    """The checked ``yyyymmddhh`` range of a statistics action."""
    # 2021-01-11 sends the hours as strings, 2019-07-11 as integers.
    begin = str(params.string("begin") if version != V2019 else params.integer("begin"))
    end = str(params.string("end") if version != V2019 else params.integer("end"))
    if not _is_hour(begin):
        raise ApiError("InvalidParameterValue.BeginTimeVerifyFail", "The begin time must be yyyymmddhh.")
    if not _is_hour(end) or end < begin:
        raise ApiError(
            "InvalidParameterValue.EndTimeVerifyFail",
            "The end time must be yyyymmddhh, not before the begin time.",
        )
    return begin, end


def send_status_statistics(ctx: Context, version: str, params: Params) -> dict[str, Any]:
    ctx.check_app(version, params.string("app_id"))
    begin, end = _hours(version, params)
    fees, requests, successes = ctx.store.statistics(begin, end)
    return {
        "SendStatusStatistics": {"FeeCount": fees, "RequestCount": requests, "RequestSuccessCount": successes}
    }


def callback_status_statistics(ctx: Context, version: str, params: Params) -> dict[str, Any]:
    """Receipts that have arrived for messages accepted in the hours asked for (the app's, all senders')."""
    ctx.check_app(version, params.string("app_id"))
    begin, end = _hours(version, params)
    zone = ctx.settings.zone
    first = datetime.strptime(begin, "%Y%m%d%H").replace(tzinfo=zone)
    last = datetime.strptime(end, "%Y%m%d%H").replace(tzinfo=zone)
    if last - first > MAX_STATISTICS_RANGE:
        raise ApiError("InvalidParameterValue.EndTimeVerifyFail", "The range may cover at most 32 days.")
    now = time.time()
    counts: Counter[str] = Counter()
    for batch in ctx.store.accepted_between(first.timestamp(), (last + timedelta(hours=1)).timestamp()):
        counts["RequestSuccessCount"] += len(batch.phone_numbers)
        for delivery in batch.deliveries():
            if not delivery.receipt_due(now):
                continue
            counts["CallbackCount"] += 1
            outcome = delivery.outcome
            if outcome.status == "SUCCESS":
                counts["CallbackSuccessCount"] += 1
                continue
            counts["CallbackFailCount"] += 1
            upper = outcome.description.upper()
            counts[next((name for word, name in _FAILURE_COUNTS if word in upper), "InternalErrorCount")] += 1
    names = (
        "CallbackCount",
        "RequestSuccessCount",
        "CallbackFailCount",
        "CallbackSuccessCount",
        "InternalErrorCount",
        "InvalidNumberCount",
        "ShutdownErrorCount",
        "BlackListCount",
        "FrequencyLimitCount",
    )
    return {"CallbackStatusStatistics": {name: counts[name] for name in names}}


def _is_hour(value: str) -> bool:
    if not _HOUR.fullmatch(value):
        return False
    try:
        datetime.strptime(value, "%Y%m%d%H")
    except ValueError:
        return False
    return True


def _international(params: Params) -> int:
    international = params.integer("international")
    if international not in (0, 1):
        raise ApiError("InvalidParameterValue.InvalidInternational", "International must be 0 or 1.")
    return international


def _select(version: str, params: Params, by_id: Mapping[int, Any]) -> Iterable[Any]:
    """The items asked for by id, or (2021-01-11, no ids) the page Limit/Offset selects."""
    ids = params.integers("ids")
    if ids or version == V2019:
        return [by_id[i] for i in ids if i in by_id]
    limit, offset = params.integer("limit", MAX_LIMIT), params.integer("offset")
    _check_limit(version, limit, offset)
    return list(by_id.values())[offset : offset + limit]


def describe_sms_template_list(ctx: Context, version: str, params: Params) -> dict[str, Any]:
    international = _international(params)
    wanted = (Scope.MAINLAND, Scope.BOTH) if international == 0 else (Scope.GLOBAL, Scope.BOTH)
    settings = ctx.settings
    by_id = {int(t.id): t for t in settings.registry.templates.values() if t.scope in wanted}
    items = []
    for template in _select(version, params, by_id):
        item = {
            "TemplateId": int(template.id),
            # 2019-07-11 documents only 0 and 1, so it is told the International it asked about.
            "International": international if version == V2019 else template.scope.international,
            "StatusCode": template.status.status_code,
            "ReviewReply": template.review_reply,
            "TemplateName": template.name,
            "CreateTime": settings.created_at,
        }
        if version != V2019:
            item["TemplateContent"] = template.content
        items.append(item)
    return {"DescribeTemplateStatusSet": items}


def describe_sms_sign_list(ctx: Context, version: str, params: Params) -> dict[str, Any]:
    international = _international(params)
    registry = ctx.settings.registry
    statuses = registry.all_signatures()
    by_id = {registry.sign_id(name): name for name in statuses}
    items = [
        {
            "SignId": registry.sign_id(name),
            "International": international,
            "StatusCode": statuses[name].status_code,
            "ReviewReply": "Rejected in the sandbox's registry"
            if statuses[name] is ReviewStatus.REJECTED
            else "",
            "SignName": name,
            "CreateTime": ctx.settings.created_at,
            "QualificationId": 0,
            "QualificationName": "",
            # Qualifications concern Mainland signatures only; 1 is "approved".
            "QualificationStatusCode": 1 if international == 0 else 0,
        }
        for name in _select(version, params, by_id)
    ]
    return {"DescribeSignListStatusSet": items}
