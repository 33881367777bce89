"""The demo's report: what each run did, in a few readable lines."""

from __future__ import annotations

import textwrap
from typing import Any, TextIO

from airflow_provider_tencent_sms.phone import mask

from .runs import DagRunResult
from .scenarios import Message, Scenario

WIDTH = 110
INDENT = "    "


def _wrap(out: TextIO, text: str, label: str = "") -> None:
    """Print ``text`` after ``label``, continuation lines indented under it."""
    hang = INDENT + " " * (len(label) or 2)
    print(textwrap.fill(text, WIDTH, initial_indent=INDENT + label, subsequent_indent=hang), file=out)


def header(out: TextIO, index: int, total: int, scenario: Scenario, description: str) -> None:
    print(f"\n[{index}/{total}] {scenario.title}  ({scenario.dag_id})", file=out)
    if description:
        _wrap(out, description)


def _task_line(task_id: str, state: str, try_number: int) -> str:
    return f"{task_id:<16}{state:<17}try {try_number}"


def summary_text(summary: Any) -> str:
    """The operator's returned summary as one line; failures listed with masked numbers."""
    if not isinstance(summary, dict):
        return repr(summary)
    parts = [
        f"{summary.get(key)} {label}"
        for key, label in (
            ("sent", "sent"),
            ("failed", "failed"),
            ("unknown", "outcome unknown"),
            ("pending", "pending"),
            ("fee", "fee (billed units)"),
            ("requests", "requests"),
            ("duplicates", "duplicates removed"),
            ("invalid", "invalid skipped"),
            ("reconciled", "settled by receipts"),
        )
    ]
    deferrals = summary.get("deferrals") or []
    parts.append(f"{len(deferrals)} deferral{'s' if len(deferrals) != 1 else ''}")
    failures = [f"{mask(f['phone_number'])}: {f['code']}" for f in summary.get("failures") or []]
    if failures:
        parts.append("failures: " + ", ".join(failures))
    return ", ".join(parts)


def run(out: TextIO, scenario: Scenario, result: DagRunResult, messages: list[Message]) -> None:
    print(f"{INDENT}run {result.run_id}: {result.state} in {result.seconds:.1f} s", file=out)
    for task_id, task in result.tasks.items():
        print(f"{INDENT}  {_task_line(task_id, task.state, task.try_number)}", file=out)
    send = result.tasks.get(scenario.send_task or "")
    if send is not None and send.returned is not None:
        _wrap(out, f"{scenario.send_task} returned: {summary_text(send.returned)}")
    elif send is not None and send.failure_summary is not None:
        _wrap(out, f"{scenario.send_task} failed; its summary in XCom: {summary_text(send.failure_summary)}")
    print(
        f"{INDENT}the sandbox received {len(messages)} message{'s' if len(messages) != 1 else ''}:", file=out
    )
    for message in messages:
        print(f"{INDENT}  {mask(str(message['phone_number'])):<16} {message['text']}", file=out)


def verdict(out: TextIO, notes: list[str], problems: list[str]) -> None:
    for note in notes:
        _wrap(out, note, "note: ")
    if not problems:
        print(f"{INDENT}=> as expected", file=out)
    for problem in problems:
        _wrap(out, problem, "=> NOT AS EXPECTED: ")
