"""The API endpoint (``POST /``) independent of HTTP plumbing: headers and body in, a reply out.

Order of checks: common parameters (action, version), signature, action, region, body, parameters; then
the faults that match the request, the action itself, and the answer (delayed by the configured latency).
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from . import auth, params, queries
from .context import Context
from .errors import ApiError
from .faults import FaultEffect
from .raw_json import dumps_object
from .send import send_sms
from .store import RequestRecord

log = logging.getLogger(__name__)

#: Tencent Cloud API 3.0 refuses POST bodies over 10 MB.
MAX_BODY_BYTES = 10 * 1024 * 1024
JSON_TYPE = "application/json"

_QUERIES: Mapping[str, Callable[[Context, str, params.Params], dict[str, Any]]] = {
    "DescribePhoneNumberInfo": queries.describe_phone_number_info,
    "PullSmsSendStatus": queries.pull_sms_send_status,
    "PullSmsSendStatusByPhoneNumber": queries.pull_sms_send_status_by_phone_number,
    "PullSmsReplyStatus": queries.pull_sms_reply_status,
    "PullSmsReplyStatusByPhoneNumber": queries.pull_sms_reply_status_by_phone_number,
    "SendStatusStatistics": queries.send_status_statistics,
    "CallbackStatusStatistics": queries.callback_status_statistics,
    "DescribeSmsTemplateList": queries.describe_sms_template_list,
    "DescribeSmsSignList": queries.describe_sms_sign_list,
}


@dataclass(frozen=True)
class Reply:
    status: int
    content_type: str
    body: bytes
    #: Close the connection without answering (the body is not sent).
    drop: bool = False


_DROPPED = Reply(0, "", b"", drop=True)


def envelope(request_id: str, response: Mapping[str, object]) -> Reply:
    body = '{"Response":' + dumps_object({**response, "RequestId": request_id}) + "}"
    return Reply(200, JSON_TYPE, body.encode())


def error_envelope(request_id: str, error: ApiError) -> Reply:
    return envelope(request_id, {"Error": {"Code": error.code, "Message": error.message}})


class Api:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def handle(self, headers: Mapping[str, str], body: bytes) -> Reply:
        """Answer one API request; ``headers`` have lower-case names. Never raises."""
        received = time.monotonic()
        request_id = str(uuid.uuid4())
        action = headers.get("x-tc-action", "")
        version = headers.get("x-tc-version", "")
        numbers: tuple[str, ...] = ()
        effect: FaultEffect | None = None
        try:
            fields = self._authenticate(headers, body, action, version)
            limits = self.ctx.action_limits
            if limits is not None and not limits.admit(action, received):
                raise ApiError("RequestLimitExceeded", f"Over the rate limit of {action} for this account.")
            checked = params.check(fields, _parse_json(body))
            numbers = tuple(checked.strings("numbers"))
            effect = self.ctx.faults.match(action, numbers)
            reply, outcome = self._run(action, version, checked, request_id, effect)
        except ApiError as error:
            reply, outcome = error_envelope(request_id, error), error.code
        except Exception:
            log.exception("the sandbox failed on a %s request", action or "(no action)")
            internal = ApiError("InternalError", "The sandbox failed on this request; see its log.")
            reply, outcome = error_envelope(request_id, internal), internal.code
        latency_ms = self.ctx.settings.latency_ms + (effect.latency_ms if effect else 0)
        if latency_ms:
            time.sleep(latency_ms / 1000)
        self._log(RequestRecord(action, version, len(numbers), received, outcome, request_id, numbers))
        return reply

    def refuse(self, headers: Mapping[str, str], error: ApiError) -> Reply:
        """Answer a request the HTTP layer could not take (too large, unreadable) with an API error."""
        request_id = str(uuid.uuid4())
        record = RequestRecord(
            headers.get("x-tc-action", ""),
            headers.get("x-tc-version", ""),
            0,
            time.monotonic(),
            error.code,
            request_id,
        )
        self._log(record)
        return error_envelope(request_id, error)

    def _authenticate(
        self, headers: Mapping[str, str], body: bytes, action: str, version: str
    ) -> tuple[params.Field, ...]:
        if not action:
            raise ApiError("MissingParameter", "The request is missing a required parameter `Action`.")
        if not version:
            raise ApiError("MissingParameter", "The request is missing a required parameter `Version`.")
        if version not in params.VERSIONS:
            raise ApiError("NoSuchVersion", f"The API version {version!r} does not exist.")
        auth.verify(headers, body, self.ctx.settings.credentials, time.time())
        fields = params.SCHEMAS.get(action, {}).get(version)
        if fields is None:
            raise ApiError("InvalidAction", f"The action {action!r} does not exist in version {version}.")
        if version == params.V2021 and not headers.get("x-tc-region"):
            raise ApiError("MissingParameter", "The request is missing a required parameter `Region`.")
        return fields

    def _run(
        self, action: str, version: str, checked: params.Params, request_id: str, effect: FaultEffect | None
    ) -> tuple[Reply, str]:
        fault = effect.answer if effect else None
        if fault is not None and fault.drop_before_send:
            return _DROPPED, "ConnectionDropped"
        if fault is not None and fault.code:
            message = fault.message or f"{fault.code} (injected by the sandbox)"
            return error_envelope(request_id, ApiError(fault.code, message)), fault.code
        if fault is not None and fault.http_status and not fault.process:
            return _http_fault(fault.http_status, fault.error_body())
        if action == "SendSms":
            result = send_sms(
                self.ctx,
                version,
                checked,
                request_id,
                effect.recipient_codes if effect else {},
                effect.fee if effect else None,
            )
        else:
            result = _QUERIES[action](self.ctx, version, checked)
        if fault is not None and fault.drop_connection:
            return _DROPPED, "ConnectionDropped"
        if fault is not None and fault.http_status:
            return _http_fault(fault.http_status, fault.error_body())
        return envelope(request_id, result), "Ok"

    def _log(self, record: RequestRecord) -> None:
        self.ctx.store.log(record)
        if self.ctx.settings.log_requests:
            log.info(
                "%s %s %s (%d numbers) %s",
                record.action or "-",
                record.api_version or "-",
                record.outcome,
                record.number_count,
                record.request_id,
            )


def _parse_json(body: bytes) -> object:
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        raise ApiError("FailedOperation.JsonParseFail", "The request body is not valid JSON.") from None


def _http_fault(status: int, body: str) -> tuple[Reply, str]:
    return Reply(status, "text/html; charset=utf-8", body.encode()), f"HTTP {status}"
