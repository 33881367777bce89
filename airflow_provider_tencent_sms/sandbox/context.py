"""The sandbox's configuration and shared state, handed to the action handlers."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import tzinfo

from ..signing import Credentials
from .action_limits import ActionLimits
from .delivery import DeliveryRules
from .errors import ApiError
from .faults import FaultBook
from .frequency import FrequencyLimits, FrequencyTracker
from .params import V2019
from .store import Store
from .templates import Registry


@dataclass(frozen=True)
class Settings:
    credentials: Credentials
    sms_sdk_app_id: str
    registry: Registry
    #: Longest template parameter accepted (12 for individual accounts); None: no limit (enterprise accounts).
    param_length_limit: int | None
    frequency_limits: FrequencyLimits | None
    #: The time zone of the marketing window, of "daily" limits and of the statistics' hours.
    zone: tzinfo
    #: Added to every API answer.
    latency_ms: int
    max_messages: int
    #: Log one line per API request (the command line does; in tests it would only be noise).
    log_requests: bool = False
    #: Seconds from accepting a message to its delivery receipt (delivery rules may say otherwise).
    receipt_lag: float = 0.0
    #: Answer ``RequestLimitExceeded`` over each action's documented rate limit.
    action_rate_limits: bool = False
    #: Reported as the CreateTime of templates and signatures.
    created_at: int = field(default_factory=lambda: int(time.time()))


#: SerialNo values look like Tencent's ``2433:104571066915705365784949619``: this prefix, then a number.
SERIAL_PREFIX = "2433:"


class Serials:
    """Unique serial numbers, reserved in blocks (one per request) to keep the lock out of per-number work."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # Seeded from the clock so that serials stay unique across sandbox restarts.
        self._next = time.time_ns() * 1000

    def reserve(self, count: int) -> int:
        """The first of ``count`` consecutive serial numbers reserved for the caller."""
        with self._lock:
            first = self._next
            self._next += count
        return first


@dataclass
class Context:
    settings: Settings
    store: Store
    faults: FaultBook
    tracker: FrequencyTracker | None
    serials: Serials = field(default_factory=Serials)
    deliveries: DeliveryRules = field(default_factory=DeliveryRules)
    action_limits: ActionLimits | None = None

    @classmethod
    def create(cls, settings: Settings) -> Context:
        limits = settings.frequency_limits
        return cls(
            settings=settings,
            store=Store(settings.max_messages),
            faults=FaultBook(),
            tracker=None if limits is None else FrequencyTracker(limits, settings.zone),
            action_limits=ActionLimits() if settings.action_rate_limits else None,
        )

    def check_app(self, version: str, app_id: str) -> None:
        if app_id != self.settings.sms_sdk_app_id:
            # The two versions spell this code differently; 2019-07-11's is the one in its reference.
            code = (
                "InvalidParameterValue.SdkAppidNotExist"
                if version == V2019
                else "InvalidParameterValue.SdkAppIdNotExist"
            )
            raise ApiError(code, f"The SdkAppId {app_id!r} does not exist.")

    def clear(self) -> None:
        self.store.clear()
        if self.tracker is not None:
            self.tracker.clear()
