"""The dry-run report's parts and its text for the log."""

from __future__ import annotations

from datetime import datetime, timezone

from airflow_provider_tencent_sms.compact import BatchPlan, CompactAudience
from airflow_provider_tencent_sms.cost import estimate, message_fees
from airflow_provider_tencent_sms.dry_run import describe, estimate_report, plan_report, window_report
from airflow_provider_tencent_sms.recipients import personalised
from airflow_provider_tencent_sms.send_window import SendWindow

ROWS = [
    *({"phone_number": f"+86138{i:08d}", "template_params": [f"offer {i % 3}"]} for i in range(450)),
    {"phone_number": "+14155550100", "template_params": ["offer 0"]},
    {"phone_number": "+86138000000001", "template_params": ["x"]},  # invalid
    {"phone_number": "+8613800000000", "template_params": ["offer 0"]},  # duplicate
]


def report() -> dict:
    audience = CompactAudience.from_audience(personalised(ROWS)).without({"+8613800000001"})
    batches = BatchPlan(audience.parts)
    fees = message_fees(batches, "{1} Reply TD to unsubscribe.", "Airflow")
    return {
        "connection": {"ok": True, "message": "Connected to http://127.0.0.1 as SecretId AKID..."},
        "window": None,
        **plan_report(audience, batches),
        "template": {
            "checked": True,
            "id": "1003",
            "name": "Marketing",
            "status": "approved",
            "content": "{1} Reply TD to unsubscribe.",
            "placeholders": 1,
        },
        "estimate": estimate_report(estimate(batches, fees), 500, None),
        "problems": [],
    }


def test_plan_report_counts_recipients_and_requests() -> None:
    result = report()
    assert {k: result[k] for k in ("recipients", "duplicates", "invalid", "excluded")} == {
        "recipients": 450,
        "duplicates": 1,
        "invalid": 1,
        "excluded": 1,
    }
    # 150 Mainland numbers per offer: one request each; the global number needs its own.
    assert (result["requests"], result["mainland_requests"], result["global_requests"]) == (4, 3, 1)
    assert result["parameter_sets"] == 3


def test_estimate_report_and_the_cap() -> None:
    result = report()["estimate"]
    assert result == {
        "billed_sms": 450,
        "recipients_by_segments": {"1": 450},
        "max_fee": 500,
        "within_max_fee": True,
    }
    assert estimate_report(None, 10, "the template could not be read")["why_not"] == (
        "the template could not be read"
    )


def test_describe_reads_as_a_summary() -> None:
    text = describe(report())
    assert text.splitlines() == [
        "Dry run: nothing is sent.",
        "  Connection: ok: Connected to http://127.0.0.1 as SecretId AKID...",
        "  Recipients: 450 to send to; 1 duplicates, 1 invalid, 1 excluded",
        "  Requests: 4 (3 Mainland China, 1 global) for 3 parameter sets",
        "  Template 1003 (Marketing): approved, 1 placeholder: '{1} Reply TD to unsubscribe.'",
        "  Estimated fee: 450 billed SMS (450 recipients x 1 SMS); max_fee 500: within",
        "  The send would go ahead.",
    ]
    unknown = {**report(), "template": {"checked": False, "notice": "not checked"}}
    unknown["estimate"] = estimate_report(None, None, "no template content")
    assert "Estimated fee: unknown (no template content)" in describe(unknown)
    assert "  Template: not checked" in describe(unknown)
    failing = {**report(), "problems": ["1 invalid phone number", "the estimate is over max_fee"]}
    assert describe(failing).splitlines()[-3:] == [
        "  The send would fail: 2 problems:",
        "  - 1 invalid phone number",
        "  - the estimate is over max_fee",
    ]


def test_window_report_says_when_a_closed_window_opens() -> None:
    window = SendWindow.parse(("08:00", "22:00"), "Asia/Shanghai")
    closed = window_report(window, datetime(2026, 3, 2, 23, 0, tzinfo=timezone.utc))  # 07:00 Beijing
    assert closed is not None and closed["open"] is False
    assert closed["next_opening"] == "2026-03-03T00:00:00+00:00"
    opened = window_report(window, datetime(2026, 3, 3, 2, 0, tzinfo=timezone.utc))
    assert opened is not None and (opened["open"], opened["next_opening"]) == (True, None)
    assert window_report(None, datetime.now(timezone.utc)) is None
