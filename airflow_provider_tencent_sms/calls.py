"""Tencent Cloud API calls as plain data: SendSms parameters, request headers, answers and failures.

The hook (``requests``, one call at a time) and the bulk engine (libcurl, thousands in flight) both build
their requests and read their answers through these functions, so that both mean the same thing by every
status, error and network failure. No I/O here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from operator import attrgetter
from typing import Any, Literal, NamedTuple

import msgspec
import orjson
import pycurl
import requests
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError, SSLError

from . import __version__
from .connection import ConnectionConfig
from .error_codes import HTTP_ERROR_PREFIX, INVALID_RESPONSE
from .exceptions import OutcomeUnknownError, RequestNotSentError, TencentSmsApiError, TencentSmsError
from .phone import mask
from .signing import JSON_CONTENT_TYPE

MAX_NUMBERS_PER_REQUEST = 200
_EXCERPT_CHARS = 200

#: Wire names of SendSms parameters that differ between the two API versions.
_SEND_SMS_NAMES = {
    "2021-01-11": {"app": "SmsSdkAppId", "template": "TemplateId", "sign": "SignName"},
    "2019-07-11": {"app": "SmsSdkAppid", "template": "TemplateID", "sign": "Sign"},
}

#: libcurl failures that happen before any byte of the request is written: nothing reached Tencent.
_CURL_NOT_SENT = frozenset(
    {
        pycurl.E_COULDNT_RESOLVE_PROXY,
        pycurl.E_COULDNT_RESOLVE_HOST,
        pycurl.E_COULDNT_CONNECT,
        pycurl.E_SSL_CONNECT_ERROR,
        pycurl.E_PEER_FAILED_VERIFICATION,
        pycurl.E_SSL_CERTPROBLEM,
        pycurl.E_SSL_CACERT_BADFILE,
        pycurl.E_SSL_CIPHER,
    }
)

_TLS_HINT = (
    " (the server's certificate could not be verified: set the connection extra 'ca_bundle' or "
    "REQUESTS_CA_BUNDLE to the PEM file of the CA that issued it)"
)

_new_tuple = tuple.__new__


class SendStatus(NamedTuple):
    """The outcome of one number in a SendSms request.

    A named tuple rather than a dataclass: a bulk send may build many of them, and a tuple is several
    times cheaper to create.
    """

    phone_number: str
    code: str
    message: str
    serial_no: str
    fee: int
    iso_code: str
    session_context: str

    @property
    def ok(self) -> bool:
        return self.code == "Ok"

    @classmethod
    def from_api(cls, item: dict[str, Any]) -> SendStatus:
        get = item.get
        # tuple.__new__ skips the named tuple's keyword handling: this runs once per recipient.
        return _new_tuple(
            cls,
            (
                str(get("PhoneNumber", "")),
                str(get("Code", "")),
                str(get("Message", "")),
                str(get("SerialNo", "")),
                int(get("Fee") or 0),
                str(get("IsoCode", "")),
                str(get("SessionContext", "")),
            ),
        )

    def __repr__(self) -> str:
        return f"SendStatus(phone_number={mask(self.phone_number)!r}, code={self.code!r}, fee={self.fee})"


# -- requests --------------------------------------------------------------------------------------------


def send_sms_params(
    config: ConnectionConfig,
    numbers: Sequence[str],
    template_id: str | int,
    template_params: Sequence[object] = (),
    *,
    sign_name: str | None = None,
    sms_sdk_app_id: str | None = None,
    session_context: str | None = None,
    extend_code: str | None = None,
    sender_id: str | None = None,
) -> dict[str, Any]:
    """The SendSms parameters, with their wire names for the connection's API version."""
    if not numbers:
        raise ValueError("send_sms needs at least one phone number")
    if len(numbers) > MAX_NUMBERS_PER_REQUEST:
        raise ValueError(
            f"send_sms takes at most {MAX_NUMBERS_PER_REQUEST} numbers per request, got {len(numbers)}; "
            "SendSmsOperator batches larger sends"
        )
    app_id = sms_sdk_app_id or config.sms_sdk_app_id
    if not app_id:
        raise ValueError(
            "No SMS application id: pass sms_sdk_app_id or set the connection extra 'sms_sdk_app_id'"
        )
    names = _SEND_SMS_NAMES[config.api_version]
    params: dict[str, Any] = {
        "PhoneNumberSet": list(numbers),
        names["app"]: str(app_id),
        names["template"]: str(template_id),
        "TemplateParamSet": [str(p) for p in template_params],
    }
    sign = sign_name or config.sign_name
    if sign:
        params[names["sign"]] = sign
    for key, value in (
        ("SessionContext", session_context),
        ("ExtendCode", extend_code),
        ("SenderId", sender_id),
    ):
        if value:
            params[key] = value
    return params


def encode(params: dict[str, Any]) -> bytes:
    """The request body: compact UTF-8 JSON (orjson: about a tenth of ``json.dumps``' time)."""
    return orjson.dumps(params)


def api_headers(config: ConnectionConfig, action: str, version: str | None = None) -> dict[str, str]:
    """The unsigned headers of one call (the signer adds the signed ones)."""
    version = version or config.api_version
    headers = {
        "Content-Type": JSON_CONTENT_TYPE,
        "X-TC-Action": action,
        "X-TC-Version": version,
        "X-TC-RequestClient": f"airflow-provider-tencent-sms/{__version__}",
    }
    if version != "2019-07-11":
        headers["X-TC-Region"] = config.region
    if config.language:
        headers["X-TC-Language"] = config.language
    return headers


# -- answers ---------------------------------------------------------------------------------------------


def read_answer(status: int, body: bytes) -> dict[str, Any]:
    """The ``Response`` object of an answer, or the error it stands for.

    :raises TencentSmsApiError: Tencent answered with an error, a non-200 status or a body that is not
        the API's JSON (``outcome_unknown`` when Tencent may have processed the request anyway).
    """
    try:
        answer = orjson.loads(body)["Response"]
        if not isinstance(answer, dict):
            raise TypeError("Response is not an object")
    except (ValueError, KeyError, TypeError):
        # Not Tencent's answer: a proxy or gateway's page. Its hint (error_codes) says what that implies.
        excerpt = " ".join(body[: _EXCERPT_CHARS * 4].decode("utf-8", "replace")[:_EXCERPT_CHARS].split())
        code = INVALID_RESPONSE if status == 200 else f"{HTTP_ERROR_PREFIX}{status}"
        raise TencentSmsApiError(
            code,
            f"HTTP {status} with a body that is not Tencent Cloud API JSON: {excerpt!r}",
            http_status=status,
            # A 5xx from a proxy may come after Tencent processed the request; a 4xx was refused.
            outcome_unknown=status >= 500 or status == 200,
        ) from None
    error = answer.get("Error")
    if error is not None:
        raise TencentSmsApiError(
            str(error.get("Code", "UnknownError")),
            str(error.get("Message", "")),
            answer.get("RequestId"),
            http_status=status,
        )
    if status != 200:
        raise TencentSmsApiError(
            INVALID_RESPONSE,
            f"HTTP {status} without an error in the body",
            answer.get("RequestId"),
            http_status=status,
            outcome_unknown=True,
        )
    return answer


def send_status_items(answer: dict[str, Any]) -> list[dict[str, Any]]:
    """SendSms's ``SendStatusSet``, as the API's objects (typed statuses are built only where read)."""
    items = answer.get("SendStatusSet")
    if not isinstance(items, list):
        raise TencentSmsApiError(
            INVALID_RESPONSE,
            "SendSms answer has no SendStatusSet list",
            answer.get("RequestId"),
            outcome_unknown=True,
        )
    return items


def statuses(items: Iterable[dict[str, Any]]) -> list[SendStatus]:
    return [SendStatus.from_api(item) for item in items]


class _SentStatus(msgspec.Struct, gc=False):
    PhoneNumber: str
    Code: Literal["Ok"]
    Fee: int


class _SentResponse(msgspec.Struct, gc=False):
    SendStatusSet: list[_SentStatus]
    #: Present only in a refusal, which then is not read as sent.
    Error: None = None


class _SentAnswer(msgspec.Struct, gc=False):
    Response: _SentResponse


#: Reads only the three fields the all-sent check needs, and checks every ``Code`` is ``Ok`` while reading,
#: in C: about half of ``orjson.loads``' time for a 33 KB answer, and no dict built per status.
_decode_sent = msgspec.json.Decoder(_SentAnswer).decode
_phone_number, _fee = attrgetter("PhoneNumber"), attrgetter("Fee")


def fee_if_all_sent(status: int, body: bytes, numbers: list[str]) -> int | None:
    """The total fee when a SendSms answer says every number was sent: HTTP 200, no error, one ``Ok``
    status with an integer fee per number, each number exactly once. None for anything else, which the
    caller reads with :func:`read_answer` and :func:`send_status_items`.

    The common case of a bulk send, kept cheap: checked while decoding, no status objects built.
    """
    if status != 200:
        return None
    try:
        items = _decode_sent(body).Response.SendStatusSet
    except (msgspec.ValidationError, msgspec.DecodeError):
        return None
    answered = list(map(_phone_number, items))
    # In request order (as Tencent answers) the lists are equal; in any other order, the same set.
    if answered != numbers and (len(answered) != len(numbers) or set(answered) != set(numbers)):
        return None
    return int(sum(map(_fee, items)))


# -- network failures ------------------------------------------------------------------------------------


def _unknown(action: str, cause: str) -> OutcomeUnknownError:
    return OutcomeUnknownError(
        f"{action} was sent but no answer came back ({cause}); "
        "Tencent may have processed it, so it is not re-sent blindly"
    )


def requests_failure(exc: requests.RequestException, action: str) -> TencentSmsError:
    """Tell "never reached the server" from "sent, but no answer" for a ``requests`` failure."""
    reason: BaseException | None = exc
    seen = set()
    while reason is not None and id(reason) not in seen:
        seen.add(id(reason))
        if isinstance(reason, NewConnectionError | NameResolutionError | ConnectTimeoutError | SSLError):
            hint = (
                _TLS_HINT
                if isinstance(reason, SSLError) and "CERTIFICATE_VERIFY_FAILED" in str(reason)
                else ""
            )
            return RequestNotSentError(f"{action} was not sent: {type(reason).__name__}: {reason}{hint}")
        reason = getattr(reason, "reason", None) or reason.__context__
    if isinstance(exc, requests.ConnectTimeout | requests.exceptions.SSLError):
        return RequestNotSentError(f"{action} was not sent: {type(exc).__name__}: {exc}")
    return _unknown(action, type(exc).__name__)


def curl_failure(errno: int, message: str, bytes_written: int, action: str) -> TencentSmsError:
    """The same distinction for a libcurl transfer that failed.

    :param bytes_written: libcurl's ``REQUEST_SIZE``, the request bytes it wrote; none written means
        nothing reached the server whatever the error (e.g. a connect timeout).
    """
    if errno in _CURL_NOT_SENT or bytes_written == 0:
        hint = _TLS_HINT if errno in (pycurl.E_PEER_FAILED_VERIFICATION, pycurl.E_SSL_CACERT_BADFILE) else ""
        return RequestNotSentError(f"{action} was not sent: curl error {errno}: {message}{hint}")
    return _unknown(action, f"curl error {errno}: {message}")
