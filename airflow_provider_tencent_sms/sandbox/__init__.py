"""A local Tencent-Cloud-SMS-compatible API server, for tests, demos and development.

Run it with ``tencent-sms-sandbox`` (or ``python -m airflow_provider_tencent_sms.sandbox``), or in-process
with :class:`Sandbox`. It does not import Airflow.

The names below are imported on first use: the pytest plugin lives in this package and is loaded by every
pytest run, which should not pay for importing the server.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .delivery import DeliveryRule
    from .faults import Fault
    from .frequency import FrequencyLimits
    from .sandbox import Sandbox
    from .store import RequestRecord
    from .templates import Registry, Template, TemplateKind

_EXPORTS = {
    "DeliveryRule": ".delivery",
    "Fault": ".faults",
    "FrequencyLimits": ".frequency",
    "Registry": ".templates",
    "RequestRecord": ".store",
    "Sandbox": ".sandbox",
    "Template": ".templates",
    "TemplateKind": ".templates",
}

__all__ = [
    "DeliveryRule",
    "Fault",
    "FrequencyLimits",
    "Registry",
    "RequestRecord",
    "Sandbox",
    "Template",
    "TemplateKind",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module, __name__), name)
