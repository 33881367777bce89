"""Delivery receipts and their statistics as typed values, and the checked parameters of their queries.

Pure: the hook sends what these functions build and parses what comes back with them. The receipt actions
are always called in API version 2021-01-11 (2019-07-11 names the fields differently and has no
SessionContext in receipts); any account can call either version.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from ..phone import mask

#: Tencent's documented limits, requests per second per account, of the receipt actions.
RECEIPT_RATE_LIMITS = {
    "PullSmsSendStatus": 100.0,
    "PullSmsSendStatusByPhoneNumber": 20.0,
    "CallbackStatusStatistics": 10.0,
}
#: The hook starts requests at this share of the documented rate, so that jitter between its starts and
#: Tencent's count of arrivals does not cross the limit.
RATE_MARGIN = 0.9
PAGE_SIZE = 100
#: The by-number actions (receipts and replies) reach back at most this far.
HISTORY_WINDOW = timedelta(days=7)
MAX_STATISTICS_RANGE = timedelta(days=32)
#: Statistics are kept by Beijing hour.
TENCENT_ZONE = ZoneInfo("Asia/Shanghai")
SUCCESS = "SUCCESS"
FAIL = "FAIL"


@dataclass(frozen=True)
class Receipt:
    """Tencent's report of what became of one message."""

    phone_number: str
    serial_no: str
    #: ``SUCCESS`` (delivered) or ``FAIL``.
    report_status: str
    #: The carrier's status, e.g. ``DELIVRD`` or ``UNDELIV``.
    description: str
    user_receive_time: datetime
    #: The request's SessionContext, as sent (empty unless Tencent support enabled it in receipts).
    session_context: str
    country_code: str
    subscriber_number: str

    @property
    def delivered(self) -> bool:
        return self.report_status == SUCCESS

    @classmethod
    def from_api(cls, item: dict[str, Any]) -> Receipt:
        return cls(
            phone_number=str(item.get("PhoneNumber", "")),
            serial_no=str(item.get("SerialNo", "")),
            report_status=str(item.get("ReportStatus", "")),
            description=str(item.get("Description") or ""),
            user_receive_time=datetime.fromtimestamp(int(item.get("UserReceiveTime") or 0), timezone.utc),
            session_context=str(item.get("SessionContext") or ""),
            country_code=str(item.get("CountryCode") or ""),
            subscriber_number=str(item.get("SubscriberNumber") or ""),
        )

    def __repr__(self) -> str:
        return (
            f"Receipt(phone_number={mask(self.phone_number)!r}, serial_no={self.serial_no!r}, "
            f"report_status={self.report_status!r}, description={self.description!r})"
        )


@dataclass(frozen=True)
class CallbackStatistics:
    """``CallbackStatusStatistics``: receipt counts of the whole SMS application over some hours."""

    begin_hour: str
    end_hour: str
    callback_count: int = 0
    request_success_count: int = 0
    callback_success_count: int = 0
    callback_fail_count: int = 0
    internal_error_count: int = 0
    invalid_number_count: int = 0
    shutdown_error_count: int = 0
    black_list_count: int = 0
    frequency_limit_count: int = 0

    @classmethod
    def from_api(cls, begin_hour: str, end_hour: str, item: dict[str, Any]) -> CallbackStatistics:
        counts = {
            f.name: int(item.get(_camel(f.name)) or 0)
            for f in fields(cls)
            if f.name not in ("begin_hour", "end_hour")
        }
        return cls(begin_hour, end_hour, **counts)

    def to_json(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def check_limit(limit: int) -> None:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= PAGE_SIZE:
        raise ValueError(f"limit must be between 1 and {PAGE_SIZE}, got {limit!r}")


def _aware(moment: datetime, name: str) -> datetime:
    if not isinstance(moment, datetime) or moment.tzinfo is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {moment!r}")
    return moment


def history_range(
    begin: datetime, end: datetime | None, now: datetime, action: str = "PullSmsSendStatusByPhoneNumber"
) -> tuple[int, int | None]:
    """Unix seconds of a by-number query's range, checked against Tencent's 7-day window."""
    begin = _aware(begin, "begin")
    if begin < now - HISTORY_WINDOW:
        raise ValueError(
            f"begin {begin.isoformat()} is more than 7 days ago: {action} only reaches back 7 days"
        )
    if end is not None and _aware(end, "end") < begin:
        raise ValueError(f"end {end.isoformat()} is before begin {begin.isoformat()}")
    return int(begin.timestamp()), None if end is None else int(end.timestamp())


def hour_range(begin: datetime, end: datetime) -> tuple[str, str]:
    """Beijing hours ``yyyymmddhh`` covering ``begin``..``end``, at most 32 days apart."""
    first = _aware(begin, "begin").astimezone(TENCENT_ZONE).replace(minute=0, second=0, microsecond=0)
    last = _aware(end, "end").astimezone(TENCENT_ZONE).replace(minute=0, second=0, microsecond=0)
    if last < first:
        raise ValueError(f"end {end.isoformat()} is before begin {begin.isoformat()}")
    if last - first > MAX_STATISTICS_RANGE:
        raise ValueError("CallbackStatusStatistics covers at most 32 days; ask for a shorter range")
    return f"{first:%Y%m%d%H}", f"{last:%Y%m%d%H}"


def receipts_of(items: list[dict[str, Any]]) -> list[Receipt]:
    return [Receipt.from_api(item) for item in items]
