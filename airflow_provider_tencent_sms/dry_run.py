"""The report of a dry run: what a send would do, as plain data for XCom and as text for the log (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from .batching import Batch
from .compact import CompactAudience
from .cost import Estimate
from .send_window import SendWindow
from .wording import plural


def window_report(window: SendWindow | None, now: datetime) -> dict[str, Any] | None:
    """For marketing sends: whether the window is open now, and when it next opens if not."""
    if window is None:
        return None
    is_open = window.is_open(now)
    return {
        "open": is_open,
        "next_opening": None if is_open else window.next_opening(now).astimezone(timezone.utc).isoformat(),
        "describe": window.describe(now if is_open else window.next_opening(now)),
    }


def plan_report(audience: CompactAudience, batches: Sequence[Batch]) -> dict[str, Any]:
    """Recipients (sent to, duplicates, invalid, excluded) and the requests they make."""
    mainland = sum(1 for batch in batches if batch.mainland_china)
    return {
        "recipients": sum(len(batch.numbers) for batch in batches),
        "duplicates": audience.duplicates,
        "invalid": audience.invalid_count,
        "excluded": audience.excluded,
        "requests": len(batches),
        "mainland_requests": mainland,
        "global_requests": len(batches) - mainland,
        "parameter_sets": len(audience.params),
    }


def estimate_report(estimate: Estimate | None, max_fee: int | None, why_not: str | None) -> dict[str, Any]:
    """The estimated fee in billed SMS, and whether it is within ``max_fee``."""
    if estimate is None:
        return {"billed_sms": None, "why_not": why_not, "max_fee": max_fee}
    return {
        "billed_sms": estimate.billed_sms,
        # XCom is JSON: keys are strings.
        "recipients_by_segments": {str(k): v for k, v in estimate.recipients_by_segments.items()},
        "max_fee": max_fee,
        "within_max_fee": None if max_fee is None else estimate.billed_sms <= max_fee,
    }


def describe(report: Mapping[str, Any]) -> str:
    """The report as lines a person reads in the task log."""
    lines = ["Dry run: nothing is sent."]
    connection = report["connection"]
    lines.append(f"  Connection: {'ok' if connection['ok'] else 'FAILED'}: {connection['message']}")
    window = report.get("window")
    if window is not None:
        state = "open now, at" if window["open"] else "closed; the send would wait until"
        lines.append(f"  Marketing window: {state} {window['describe']}")
    lines.append(
        f"  Recipients: {report['recipients']} to send to; {report['duplicates']} duplicates, "
        f"{report['invalid']} invalid, {report['excluded']} excluded"
    )
    lines.append(
        f"  Requests: {report['requests']} ({report['mainland_requests']} Mainland China, "
        f"{report['global_requests']} global) for {report['parameter_sets']} parameter sets"
    )
    template = report["template"]
    if template["checked"]:
        lines.append(
            f"  Template {template['id']} ({template['name'] or 'unnamed'}): {template['status']}, "
            f"{plural(template['placeholders'], 'placeholder')}: {template['content']!r}"
        )
    else:
        lines.append(f"  Template: {template['notice']}")
    cost = report["estimate"]
    if cost["billed_sms"] is None:
        lines.append(f"  Estimated fee: unknown ({cost['why_not']})")
    else:
        parts = ", ".join(
            f"{plural(count, 'recipient')} x {segments} SMS"
            for segments, count in cost["recipients_by_segments"].items()
        )
        cap = ""
        if cost["max_fee"] is not None:
            cap = f"; max_fee {cost['max_fee']}: {'within' if cost['within_max_fee'] else 'EXCEEDED'}"
        lines.append(f"  Estimated fee: {cost['billed_sms']} billed SMS ({parts or 'none'}){cap}")
    problems = report["problems"]
    if problems:
        lines.append(f"  The send would fail: {plural(len(problems), 'problem')}:")
        lines.extend(f"  - {problem}" for problem in problems)
    else:
        lines.append("  The send would go ahead.")
    return "\n".join(lines)
