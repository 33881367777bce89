"""Writes the error-code page from the code's classification table, so docs and code cannot disagree."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from airflow_provider_tencent_sms.error_codes import ERROR_CODES, PREFIX_DEFAULTS, UNKNOWN_CODE, Disposition

_MEANING = {
    Disposition.TRANSIENT: "nothing was sent; retried later",
    Disposition.TERMINAL: "fails the task at once (no retry can help)",
    Disposition.RECIPIENT_TERMINAL: "this recipient is reported as failed; others are sent",
    Disposition.RECIPIENT_TRANSIENT: "this recipient is retried alone after a wait",
    Disposition.OUTSIDE_SEND_WINDOW: "marketing send deferred to the next window opening",
}


def render() -> str:
    lines = [
        "# Error codes",
        "",
        "Generated from `airflow_provider_tencent_sms.error_codes.ERROR_CODES`, the table the hook and",
        "the operator use. A code can come back for the whole request (`Response.Error`) or for one number",
        "(`SendStatusSet`); per number, anything not retryable counts as that recipient's failure.",
        "",
        "| Disposition | Meaning |",
        "|---|---|",
        *(f"| `{d.value}` | {m} |" for d, m in _MEANING.items()),
        "",
        "Codes not in the table: "
        + ", ".join(f"`{prefix}.*` is `{cls.disposition.value}`" for prefix, cls in PREFIX_DEFAULTS.items())
        + f"; anything else is `{UNKNOWN_CODE.disposition.value}`.",
        "",
        "| Code | Disposition | Retry after (s) | What to check |",
        "|---|---|---|---|",
    ]
    for code in sorted(ERROR_CODES):
        cls = ERROR_CODES[code]
        retry = f"{cls.retry_after:g}" if cls.retryable else ""
        lines.append(f"| `{code}` | `{cls.disposition.value}` | {retry} | {cls.hint} |")
    return "\n".join(lines) + "\n"


def _write(app: Any) -> None:
    target = Path(app.srcdir) / "error-codes.md"
    text = render()
    if not target.exists() or target.read_text() != text:
        target.write_text(text)


def setup(app: Any) -> dict[str, Any]:
    app.connect("builder-inited", _write)
    return {"parallel_read_safe": True}
