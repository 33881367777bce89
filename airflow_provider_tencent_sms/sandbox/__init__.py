"""A local Tencent-Cloud-SMS-compatible API server, for tests, demos and development.

Run it with ``tencent-sms-sandbox`` (or ``python -m airflow_provider_tencent_sms.sandbox``), or in-process
with :class:`Sandbox`. It does not import Airflow.
"""

from __future__ import annotations

from .faults import Fault
from .frequency import FrequencyLimits
from .sandbox import Sandbox
from .store import RequestRecord
from .templates import Registry, Template, TemplateKind

__all__ = ["Fault", "FrequencyLimits", "Registry", "RequestRecord", "Sandbox", "Template", "TemplateKind"]
