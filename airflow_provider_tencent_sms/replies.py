"""Inbound SMS replies as PullSmsReplyStatus and PullSmsReplyStatusByPhoneNumber report them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from .phone import mask


@dataclass(frozen=True)
class Reply:
    """One reply a recipient sent to the account's messages."""

    #: E.164, e.g. ``+8613800138000``.
    phone_number: str
    content: str
    reply_time: datetime
    sign_name: str
    extend_code: str
    country_code: str
    subscriber_number: str

    @classmethod
    def from_api(cls, item: Mapping[str, Any]) -> Reply:
        return cls(
            phone_number=str(item.get("PhoneNumber") or ""),
            content=str(item.get("ReplyContent") or ""),
            reply_time=datetime.fromtimestamp(int(item.get("ReplyTime") or 0), timezone.utc),
            sign_name=str(item.get("SignName") or ""),
            extend_code=str(item.get("ExtendCode") or ""),
            country_code=str(item.get("CountryCode") or ""),
            subscriber_number=str(item.get("SubscriberNumber") or ""),
        )

    def __repr__(self) -> str:
        # What people write back is as personal as their number: neither belongs in logs in full.
        return f"Reply(phone_number={mask(self.phone_number)!r}, reply_time={self.reply_time.isoformat()!r})"
