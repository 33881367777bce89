"""The inbox as an HTML page, for reading sent messages in a browser."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from .store import Delivery

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; width: 100%; }
th, td { border-bottom: 1px solid #ddd; padding: .4em .6em; text-align: left; vertical-align: top; }
th { background: #f4f4f4; }
td.text { white-space: pre-wrap; max-width: 40em; }
.muted { color: #777; font-size: .9em; }
"""


def inbox_page(newest: Sequence[Delivery], total: int) -> str:
    """A page of the ``newest`` messages (newest first) out of ``total``; every value is escaped."""
    rows = "".join(_row(d) for d in newest)
    shown = f"{len(newest)} of {total}" if total > len(newest) else str(total)
    body = (
        f"<table><thead><tr><th>Received (UTC)</th><th>To</th><th>Message</th><th>Template</th>"
        f"<th>Fee</th><th>SerialNo</th></tr></thead><tbody>{rows}</tbody></table>"
        if newest
        else "<p>No messages yet.</p>"
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Tencent SMS sandbox inbox</title><style>{_STYLE}</style></head><body>"
        f"<h1>Tencent SMS sandbox inbox</h1>"
        f'<p class="muted">{shown} messages, newest first. Reload to update. '
        'JSON: <a href="/_sandbox/messages">/_sandbox/messages</a></p>'
        f"{body}</body></html>"
    )


def _row(delivery: Delivery) -> str:
    message = delivery.to_json()
    params = ", ".join(delivery.batch.template_params)
    cells = (
        escape(str(message["received_at"])),
        escape(delivery.phone_number),
        escape(delivery.batch.text),
        f"{escape(delivery.batch.template_id)}<br><span class=muted>{escape(params)}</span>",
        str(delivery.batch.fee),
        f'<span class="muted">{escape(delivery.serial_no)}</span>',
    )
    return (
        "<tr>"
        + "".join(f'<td class="text">{c}</td>' if i == 2 else f"<td>{c}</td>" for i, c in enumerate(cells))
        + "</tr>"
    )
