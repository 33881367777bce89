"""Each action's wire parameters per API version, and type checking of request bodies against them.

Handlers read parameters by meaning (``app_id``), so one handler serves both versions' wire names
(``SmsSdkAppId`` in 2021-01-11, ``SmsSdkAppid`` in 2019-07-11).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from .errors import ApiError

V2021 = "2021-01-11"
V2019 = "2019-07-11"
VERSIONS = (V2021, V2019)


class Kind(enum.Enum):
    STRING = "String"
    INTEGER = "Integer"
    STRINGS = "Array of String"
    INTEGERS = "Array of Integer"


@dataclass(frozen=True)
class Field:
    wire: str
    name: str
    kind: Kind
    required: bool = False


_S, _I, _SS, _IS = Kind.STRING, Kind.INTEGER, Kind.STRINGS, Kind.INTEGERS


def _send_sms(app: str, template: str, sign: str) -> tuple[Field, ...]:
    return (
        Field("PhoneNumberSet", "numbers", _SS, True),
        Field(app, "app_id", _S, True),
        Field(template, "template_id", _S, True),
        Field(sign, "sign_name", _S),
        Field("TemplateParamSet", "template_params", _SS),
        Field("ExtendCode", "extend_code", _S),
        Field("SessionContext", "session_context", _S),
        Field("SenderId", "sender_id", _S),
    )


# Receipts and replies are pulled with the same parameters.
_PULL_2021 = (Field("Limit", "limit", _I, True), Field("SmsSdkAppId", "app_id", _S, True))
_PULL_BY_NUMBER_2021 = (
    Field("BeginTime", "begin", _I, True),
    Field("Offset", "offset", _I, True),
    Field("Limit", "limit", _I, True),
    Field("PhoneNumber", "number", _S, True),
    Field("SmsSdkAppId", "app_id", _S, True),
    Field("EndTime", "end", _I),
)
#: The statistics actions (SendStatusStatistics, CallbackStatusStatistics) take the same parameters.
_STATISTICS_2021 = (
    Field("BeginTime", "begin", _S, True),
    Field("EndTime", "end", _S, True),
    Field("SmsSdkAppId", "app_id", _S, True),
    Field("Limit", "limit", _I, True),
    Field("Offset", "offset", _I, True),
)

SCHEMAS: Mapping[str, Mapping[str, tuple[Field, ...]]] = {
    "SendSms": {
        V2021: _send_sms("SmsSdkAppId", "TemplateId", "SignName"),
        V2019: _send_sms("SmsSdkAppid", "TemplateID", "Sign"),
    },
    "DescribePhoneNumberInfo": {V2021: (Field("PhoneNumberSet", "numbers", _SS, True),)},
    "PullSmsSendStatus": {
        V2021: _PULL_2021,
        V2019: (Field("Limit", "limit", _I, True), Field("SmsSdkAppid", "app_id", _S, True)),
    },
    "PullSmsSendStatusByPhoneNumber": {
        V2021: _PULL_BY_NUMBER_2021,
        V2019: (
            Field("SendDateTime", "begin", _I, True),
            Field("Offset", "offset", _I, True),
            Field("Limit", "limit", _I, True),
            Field("PhoneNumber", "number", _S, True),
            Field("SmsSdkAppid", "app_id", _S, True),
            Field("EndDateTime", "end", _I),
        ),
    },
    "PullSmsReplyStatus": {V2021: _PULL_2021},
    "PullSmsReplyStatusByPhoneNumber": {V2021: _PULL_BY_NUMBER_2021},
    "SendStatusStatistics": {
        # 2021-01-11 sends the yyyymmddhh hours as strings, 2019-07-11 as integers.
        V2021: _STATISTICS_2021,
        V2019: (
            Field("StartDateTime", "begin", _I, True),
            Field("EndDataTime", "end", _I, True),
            Field("SmsSdkAppid", "app_id", _S, True),
            Field("Limit", "limit", _I, True),
            Field("Offset", "offset", _I, True),
        ),
    },
    "CallbackStatusStatistics": {V2021: _STATISTICS_2021},
    "DescribeSmsTemplateList": {
        V2021: (
            Field("International", "international", _I, True),
            Field("TemplateIdSet", "ids", _IS),
            Field("Limit", "limit", _I),
            Field("Offset", "offset", _I),
        ),
        V2019: (Field("TemplateIdSet", "ids", _IS, True), Field("International", "international", _I, True)),
    },
    "DescribeSmsSignList": {
        V2021: (
            Field("International", "international", _I, True),
            Field("SignIdSet", "ids", _IS),
            Field("Limit", "limit", _I),
            Field("Offset", "offset", _I),
        ),
        V2019: (Field("SignIdSet", "ids", _IS, True), Field("International", "international", _I, True)),
    },
}


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_str(value: object) -> bool:
    return isinstance(value, str)


def _is_strs(value: object) -> bool:
    # map(type, ...) runs in C: this is checked for up to 200 numbers per SendSms.
    return isinstance(value, list) and set(map(type, value)) <= {str}


def _is_ints(value: object) -> bool:
    return isinstance(value, list) and all(_is_int(x) for x in value)


_CHECKS: Mapping[Kind, Callable[[object], bool]] = {
    Kind.STRING: _is_str,
    Kind.INTEGER: _is_int,
    Kind.STRINGS: _is_strs,
    Kind.INTEGERS: _is_ints,
}


class Params:
    """A request's parameters by meaning, already type-checked against the schema."""

    def __init__(self, values: dict[str, object]) -> None:
        self._values = values

    def string(self, name: str, default: str = "") -> str:
        value = self._values.get(name, default)
        assert isinstance(value, str)
        return value

    def optional_string(self, name: str) -> str | None:
        value = self._values.get(name)
        assert value is None or isinstance(value, str)
        return value

    def integer(self, name: str, default: int = 0) -> int:
        value = self._values.get(name, default)
        assert isinstance(value, int)
        return value

    def optional_integer(self, name: str) -> int | None:
        value = self._values.get(name)
        assert value is None or isinstance(value, int)
        return value

    def strings(self, name: str) -> list[str]:
        value = self._values.get(name, [])
        assert isinstance(value, list)
        return value

    def integers(self, name: str) -> list[int]:
        value = self._values.get(name, [])
        assert isinstance(value, list)
        return value


def check(fields: tuple[Field, ...], body: object) -> Params:
    """Check a parsed JSON body: an object with known keys, required ones present, each of the right type."""
    if not isinstance(body, dict):
        raise ApiError("InvalidParameter", "The request body must be a JSON object.")
    by_wire = {f.wire: f for f in fields}
    for key in body:
        if key not in by_wire:
            raise ApiError("UnknownParameter", f"The parameter `{key}` is not recognized.")
    values: dict[str, object] = {}
    for f in fields:
        value = body.get(f.wire)
        if value is None:
            if f.required:
                raise ApiError("MissingParameter", f"The request is missing a required parameter `{f.wire}`.")
            continue
        if not _CHECKS[f.kind](value):
            raise ApiError("InvalidParameter", f"The parameter `{f.wire}` must be of type {f.kind.value}.")
        values[f.name] = value
    return Params(values)
