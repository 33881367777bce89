"""Phone numbers as people's data: masking for logs and messages."""

from __future__ import annotations


def mask(number: str) -> str:
    """Hide the middle of a number for logs: ``+8613800138000`` becomes ``+86138****8000``."""
    if len(number) >= 10:
        return f"{number[:6]}****{number[-4:]}"
    return f"****{number[-2:]}" if len(number) > 2 else "****"
