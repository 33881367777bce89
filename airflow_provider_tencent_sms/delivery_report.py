"""Delivery reports: exact counts for small sends, a sampled estimate with a confidence interval for large
ones. Pure: no I/O, no clock.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .reconciliation import Settlement

#: z for a two-sided 95 % interval.
Z_95 = 1.959963984540054


def sample_indices(population: int, limit: int, seed: str) -> list[int]:
    """Which of ``population`` recipients (numbered in plan order) to check: all up to ``limit``, else a
    uniform random sample of ``limit``, the same for the same seed (a resumed try checks the same ones)."""
    if limit < 1:
        raise ValueError(f"the check limit must be at least 1, got {limit}")
    if population <= limit:
        return list(range(population))
    # A str seed is hashed with SHA-512: the same sample in every process, whatever PYTHONHASHSEED.
    return sorted(random.Random(seed).sample(range(population), limit))


def wilson_interval(successes: int, trials: int, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval for a proportion (sound near 0 and 1, unlike the normal approximation)."""
    if trials <= 0 or not 0 <= successes <= trials:
        raise ValueError(f"need 0 <= successes <= trials and trials > 0, got {successes}/{trials}")
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    # At 0 and at every trial the bounds are exactly 0 and 1; rounding must not move them inside.
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == trials else min(1.0, centre + half)
    return min(low, p), max(high, p)


@dataclass(frozen=True)
class DeliveryReport:
    """What the receipts of the checked recipients say.

    ``delivered_rate`` counts recipients without a receipt as not delivered: once the wait is over, that is
    what can be relied on. When ``exact`` is false the checked recipients are a uniform sample of
    ``recipients`` and the rate comes with its 95 % confidence interval.
    """

    recipients: int
    checked: int
    delivered: int
    failed: int
    no_receipt: int
    failed_by_reason: Mapping[str, int]
    exact: bool
    confidence_interval: tuple[float, float] | None = None
    #: ``CallbackStatusStatistics`` of the send's hours: the whole application's receipts, all senders.
    app_wide: Mapping[str, Any] | None = field(default=None)

    @property
    def delivered_rate(self) -> float | None:
        return self.delivered / self.checked if self.checked else None

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "recipients": self.recipients,
            "checked": self.checked,
            "delivered": self.delivered,
            "failed": self.failed,
            "no_receipt": self.no_receipt,
            "failed_by_reason": dict(self.failed_by_reason),
            "exact": self.exact,
            "delivered_rate": self.delivered_rate,
        }
        if not self.exact:
            document["estimated_delivery_rate"] = self.delivered_rate
            document["confidence_interval_95"] = list(self.confidence_interval or ())
        if self.app_wide is not None:
            document["app_wide_callback_statistics"] = dict(self.app_wide)
        return document


def build_report(
    recipients: int,
    checked: int,
    settlements: Sequence[Settlement],
    app_wide: Mapping[str, Any] | None = None,
) -> DeliveryReport:
    """A report from what the checked recipients' receipts say.

    :param recipients: how many recipients were sent to.
    :param checked: how many of them were checked (all of them, or the sample's size).
    :param settlements: one per checked recipient that has a receipt.
    :param app_wide: the application's callback statistics over the send's hours (kept for samples).
    """
    if len(settlements) > checked:
        raise ValueError(f"{len(settlements)} receipts for {checked} checked recipients")
    failures = Counter(s.description or "FAIL" for s in settlements if not s.delivered)
    delivered = sum(1 for s in settlements if s.delivered)
    failed = sum(failures.values())
    exact = checked >= recipients
    interval = None if exact or not checked else wilson_interval(delivered, checked)
    return DeliveryReport(
        recipients=recipients,
        checked=checked,
        delivered=delivered,
        failed=failed,
        no_receipt=checked - delivered - failed,
        failed_by_reason=dict(failures),
        exact=exact,
        confidence_interval=interval,
        app_wide=None if exact else app_wide,
    )
