"""Provider metadata, found by Airflow through the ``apache_airflow_provider`` entry point."""

from __future__ import annotations

from typing import Any

from . import __version__
from .provider_ui import CONN_FIELDS, UI_FIELD_BEHAVIOUR

INTEGRATION = "Tencent Cloud SMS"


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "airflow-provider-tencent-sms",
        "name": "Tencent Cloud SMS",
        "description": "Send SMS through Tencent Cloud SMS: hook, operator, notifier and a local sandbox.",
        "versions": [__version__],
        "integrations": [
            {
                "integration-name": INTEGRATION,
                "external-doc-url": "https://www.tencentcloud.com/products/sms",
                "tags": ["service"],
            }
        ],
        "hooks": [
            {"integration-name": INTEGRATION, "python-modules": ["airflow_provider_tencent_sms.hooks.sms"]},
        ],
        "operators": [
            {
                "integration-name": INTEGRATION,
                "python-modules": [
                    "airflow_provider_tencent_sms.operators.sms",
                    "airflow_provider_tencent_sms.operators.opt_outs",
                ],
            },
        ],
        "notifications": ["airflow_provider_tencent_sms.notifications.sms.TencentSmsNotifier"],
        "connection-types": [
            {
                "hook-class-name": "airflow_provider_tencent_sms.hooks.sms.TencentSmsHook",
                "hook-name": "Tencent Cloud SMS",
                "connection-type": "tencent_sms",
                "conn-fields": CONN_FIELDS,
                "ui-field-behaviour": UI_FIELD_BEHAVIOUR,
            }
        ],
    }
