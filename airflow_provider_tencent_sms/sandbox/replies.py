"""Replies injected by tests (``Sandbox.add_reply``, ``POST /_sandbox/replies``), checked like API input."""

from __future__ import annotations

from typing import Any

from . import phones
from .store import InboundReply

_KEYS = {"phone_number", "content", "reply_time", "sign_name", "extend_code"}


def new_reply(
    phone_number: object, content: object, *, reply_time: object, sign_name: object, extend_code: object = ""
) -> InboundReply:
    """A reply, or ValueError saying which value is wrong."""
    if not isinstance(phone_number, str) or phones.parse(phone_number) is None:
        raise ValueError(
            f"phone_number must be a valid number in E.164 form, e.g. +8613800138000; got {phone_number!r}"
        )
    if not isinstance(content, str):
        raise ValueError("content must be a string")
    if isinstance(reply_time, bool) or not isinstance(reply_time, int | float) or reply_time < 0:
        raise ValueError("reply_time must be Unix seconds")
    if sign_name is not None and not isinstance(sign_name, str):
        raise ValueError("sign_name must be a string")
    if not isinstance(extend_code, str):
        raise ValueError("extend_code must be a string")
    return InboundReply(phone_number, content, int(reply_time), sign_name or "", extend_code)


def replies_from_json(document: Any, now: float, sign_name: str | None) -> list[InboundReply]:
    """The replies of a ``POST /_sandbox/replies`` body: one object or a list of them."""
    items = document if isinstance(document, list) else [document]
    replies = []
    for item in items:
        if not isinstance(item, dict):
            raise ValueError("a reply must be a JSON object with phone_number and content")
        unknown = set(item) - _KEYS
        if unknown:
            raise ValueError(f"unknown keys: {', '.join(sorted(unknown))}")
        replies.append(
            new_reply(
                item.get("phone_number"),
                item.get("content"),
                reply_time=item.get("reply_time", now),
                sign_name=item.get("sign_name", sign_name),
                extend_code=item.get("extend_code", ""),
            )
        )
    return replies
