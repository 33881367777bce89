"""Counts in messages people read: "1 recipient", "2 recipients"."""

from __future__ import annotations


def plural(count: int, noun: str, many: str | None = None) -> str:
    """``plural(1, "request")`` is ``"1 request"``; ``plural(2, "request")`` is ``"2 requests"``."""
    return f"{count} {noun if count == 1 else many or noun + 's'}"
