"""A marketing send whose window opens a minute or so after the e2e test triggers it.

``send_window`` is not templated and has minute resolution, so the test writes the window to
``e2e_marketing_window.json`` next to this file before triggering. The dag-processor and the worker
(when the task starts and again when it resumes) each parse this file and read the same window.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from airflow.sdk import DAG

from airflow_provider_tencent_sms.operators.sms import SendSmsOperator

WINDOW_FILE = Path(__file__).with_name("e2e_marketing_window.json")
RECIPIENTS = ["+8613700137001", "+8613700137002", "+86 137 0013 7001"]


def _window() -> dict[str, str]:
    if WINDOW_FILE.exists():
        return dict(json.loads(WINDOW_FILE.read_text()))
    return {"opens": "08:00", "closes": "22:00", "timezone": "Asia/Shanghai"}


window = _window()

with DAG("e2e_marketing_window", schedule=None, start_date=datetime(2026, 1, 1), catchup=False):
    SendSmsOperator(
        task_id="send_offer",
        phone_numbers=RECIPIENTS,
        template_id="1003",
        template_params=["E2E offer: 20% off"],
        sms_type="marketing",
        send_window=(window["opens"], window["closes"]),
        send_window_timezone=window["timezone"],
    )
