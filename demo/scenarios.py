"""What the demo runs, and what each run must show to count as "as expected"."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from .fast_forward import Jump
from .runs import DagRunResult

Message = dict[str, Any]
#: (the run, the messages the sandbox received during it, the clock jump if any) -> problems or notes.
Judge = Callable[[DagRunResult, list[Message], Jump | None], list[str]]

REPORT_NUMBERS = {"+8613800138000", "+8613900139000", "+16502530000"}
CAMPAIGN_NUMBERS = {"+8613800138000", "+8613800138001", "+8613800138002"}
RETRY_ALERT = "【Airflow】[extract] retrying after: source database not reachable"
FAILURE_ALERT = "【Airflow】[extract] failed: source database not reachable"
DAG_CALLBACK_ISSUE = (
    "under dag.test() Airflow 3.3.2 hands DAG-level callbacks a SerializedDAG that notifiers cannot render "
    "templates with ('Callback failed' in the log; apache/airflow#64649). A scheduler sends it: `make airflow`."
)


@dataclass(frozen=True)
class Scenario:
    title: str
    dag_id: str
    check: Judge
    conf: dict[str, Any] | None = None
    #: The task whose returned summary (sent, failed, fee, deferrals…) is shown.
    send_task: str | None = None
    #: Skip the wait for the send window (see fast_forward.py).
    fast_forward: bool = False
    notes: Judge | None = None
    #: Faults (``Sandbox.add_fault`` options) in force during the run.
    faults: tuple[dict[str, Any], ...] = ()


def _states(run: DagRunResult, expected: dict[str, tuple[str, int]]) -> list[str]:
    problems = []
    for task, (state, tries) in expected.items():
        result = run.tasks.get(task)
        if result is None:
            problems.append(f"{task} did not run")
        elif (result.state, result.try_number) != (state, tries):
            problems.append(
                f"{task} ended {result.state} after try {result.try_number}, expected {state} after try {tries}"
            )
    return problems


def _once_each(messages: list[Message], numbers: set[str]) -> list[str]:
    counts = Counter(str(m["phone_number"]) for m in messages)
    if counts == Counter(dict.fromkeys(numbers, 1)):
        return []
    return [f"expected one message to each of {sorted(numbers)}, got {dict(counts)}"]


def _texts(messages: list[Message], *required: str) -> list[str]:
    texts = [m["text"] for m in messages]
    return [f"no message {text!r}" for text in required if texts.count(text) != 1]


def _summary(run: DagRunResult, task: str, **expected: Any) -> list[str]:
    summary = run.tasks[task].returned if task in run.tasks else None
    if not isinstance(summary, dict):
        return [f"{task} returned no summary"]
    return [
        f"{task} returned {key}={summary.get(key)!r}, expected {value!r}"
        for key, value in expected.items()
        if summary.get(key) != value
    ]


def check_report(run: DagRunResult, messages: list[Message], jump: Jump | None) -> list[str]:
    tasks = ("count_orders", "sum_revenue", "on_call_team", "send_report")
    bad_text = [m["text"] for m in messages if not m["text"].endswith("] orders=1284 revenue=56789.5")]
    return [
        *_states(run, dict.fromkeys(tasks, ("success", 1))),
        *_once_each(messages, REPORT_NUMBERS),
        *[f"unexpected text {text!r}" for text in bad_text],
        *_summary(run, "send_report", sent=3, failed=0, unknown=0),
    ]


def check_alerts(run: DagRunResult, messages: list[Message], jump: Jump | None) -> list[str]:
    return [
        *_states(run, {"extract": ("success", 2), "load": ("success", 1)}),
        *_texts(messages, RETRY_ALERT),
    ]


def check_outage(run: DagRunResult, messages: list[Message], jump: Jump | None) -> list[str]:
    problems = _states(run, {"extract": ("failed", 2), "load": ("upstream_failed", 0)})
    if run.state != "failed":
        problems.append(f"the run ended {run.state}, expected failed")
    return [*problems, *_texts(messages, RETRY_ALERT, FAILURE_ALERT)]


def _dag_callback_note(outcome: str) -> Judge:
    def note(run: DagRunResult, messages: list[Message], jump: Jump | None) -> list[str]:
        if any(m["text"].endswith(f"{run.run_id} {outcome}") for m in messages):
            return []
        return [
            f"The run's own summary SMS (the DAG's on_{'success' if outcome == 'succeeded' else 'failure'}"
            f"_callback) is missing: {DAG_CALLBACK_ISSUE}"
        ]

    return note


def _utc(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat()


def check_campaign(run: DagRunResult, messages: list[Message], jump: Jump | None) -> list[str]:
    problems = [*_states(run, {"send_offers": ("success", 1)}), *_once_each(messages, CAMPAIGN_NUMBERS)]
    if jump is None:
        return [*problems, *_summary(run, "send_offers", sent=3, failed=0, deferrals=[])]
    deferral = {"until": _utc(jump.opening), "reason": "the marketing window is closed"}
    early = [m for m in messages if datetime.fromisoformat(str(m["received_at"])) < jump.opening]
    return [
        *problems,
        *_summary(run, "send_offers", sent=3, failed=0, deferrals=[deferral]),
        *[f"{m['phone_number']} got its message before the window opened" for m in early],
    ]


def campaign_notes(run: DagRunResult, messages: list[Message], jump: Jump | None) -> list[str]:
    if jump is None:
        return ["It is inside the 08:00-22:00 Beijing window: the offers went out at once, no deferral."]
    wait = jump.opening - jump.real
    hours, minutes = divmod(round(wait.total_seconds() / 60), 60)
    zone = jump.real.tzinfo
    summary = run.tasks["send_offers"].returned if "send_offers" in run.tasks else None
    deferrals = summary.get("deferrals", []) if isinstance(summary, dict) else []
    why = (
        "inside the window; as asked (--show-deferral)"
        if jump.forced
        else f"outside the window. Rather than wait {hours} h {minutes:02d} min,"
    )
    notes = [
        f"It was {jump.real:%H:%M} in Beijing, {why} the demo moved the clock (time-machine) to "
        f"{jump.to:%Y-%m-%d %H:%M:%S} Beijing time, just before the next opening, as send_offers started."
    ]
    for deferral in deferrals:
        until = datetime.fromisoformat(deferral["until"]).astimezone(zone)
        notes.append(f"send_offers deferred until {until:%Y-%m-%d %H:%M:%S} ({deferral['reason']}).")
    if messages:
        first = min(datetime.fromisoformat(str(m["received_at"])) for m in messages).astimezone(zone)
        notes.append(
            f"The trigger fired, the task resumed, and the sandbox received the offers at {first:%H:%M:%S}."
        )
    return notes


NOTICE_NUMBERS = {"+8613800138000", "+8613900139000", "+8613700137000", "+16502530000", "+447911123456"}


def check_delivery(run: DagRunResult, messages: list[Message], jump: Jump | None) -> list[str]:
    problems = [*_states(run, {"send_notice": ("success", 1)}), *_once_each(messages, NOTICE_NUMBERS)]
    problems += _summary(run, "send_notice", sent=5, unknown=0, reconciled=2)
    summary = run.tasks["send_notice"].returned if "send_notice" in run.tasks else None
    delivery = summary.get("delivery") if isinstance(summary, dict) else None
    if not isinstance(delivery, dict) or (delivery.get("delivered"), delivery.get("exact")) != (5, True):
        problems.append(f"expected an exact delivery report of 5 delivered, got {delivery!r}")
    return problems


def delivery_notes(run: DagRunResult, messages: list[Message], jump: Jump | None) -> list[str]:
    summary = run.tasks["send_notice"].returned if "send_notice" in run.tasks else None
    if not isinstance(summary, dict):
        return []
    delivery = summary.get("delivery") or {}
    return [
        "The answer to the global numbers' request was dropped after the sandbox accepted it: outcome unknown.",
        f"The task deferred, looked their receipts up by number, and settled {summary.get('reconciled')} "
        "recipients as sent: nobody was sent a second message.",
        f"Delivery report: {delivery.get('delivered')} delivered, {delivery.get('failed')} failed, "
        f"{delivery.get('no_receipt')} without a receipt (exact: {delivery.get('exact')}).",
    ]


SCENARIOS = (
    Scenario("Daily report", "tencent_sms_daily_report", check_report, send_task="send_report"),
    Scenario(
        "Pipeline alerts: a retry, then success",
        "tencent_sms_pipeline_alerts",
        check_alerts,
        notes=_dag_callback_note("succeeded"),
    ),
    Scenario(
        'Pipeline alerts: an outage (conf {"outage": true})',
        "tencent_sms_pipeline_alerts",
        check_outage,
        conf={"outage": True},
        notes=_dag_callback_note("FAILED"),
    ),
    Scenario(
        "Marketing campaign",
        "tencent_sms_marketing_campaign",
        check_campaign,
        send_task="send_offers",
        fast_forward=True,
        notes=campaign_notes,
    ),
    Scenario(
        "Delivery receipts: a lost answer reconciled, a delivery report",
        "tencent_sms_delivery_report",
        check_delivery,
        send_task="send_notice",
        notes=delivery_notes,
        # The request of the global numbers is processed, then its answer is lost.
        faults=({"drop_connection": True, "phone_numbers": ["+16502530000"], "count": 1},),
    ),
)
