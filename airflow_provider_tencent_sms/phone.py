"""Phone numbers as people's data: masking for logs and messages."""

from __future__ import annotations

#: Digits always hidden: the four before the last four, wherever the country code or separators are.
_HIDDEN = 4
_SHOWN_END = 4
_MAX_SHOWN_START = 5


def mask(number: str) -> str:
    """Hide the middle of a number for logs: ``+8613800138000`` becomes ``+86138****8000``.

    Only the digits count, so separators change nothing: ``138-0013-8000``, ``138 0013 8000`` and
    ``13800138000`` all become ``138****8000``, hiding the same digits (``0013``) as the E.164 form.
    At most five leading and the last four digits are shown, and never more than all but eight, so
    a short or garbled entry shows less, down to ``****`` alone.
    """
    digits = "".join(c for c in str(number) if c.isdigit())
    plus = "+" if str(number).lstrip().startswith("+") else ""
    count = len(digits)
    if count < _HIDDEN + _SHOWN_END:
        return f"****{digits[-2:]}" if count > _SHOWN_END else "****"
    start = min(_MAX_SHOWN_START, count - _HIDDEN - _SHOWN_END)
    return f"{plus}{digits[:start]}****{digits[-_SHOWN_END:]}"
