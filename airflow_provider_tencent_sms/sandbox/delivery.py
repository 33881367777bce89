"""Delivery outcomes: what the receipt of each accepted message says, and when it appears.

By default every message is delivered (``SUCCESS``, ``DELIVRD``) and its receipt appears after the sandbox's
receipt lag. Rules change that for chosen numbers: an exact E.164 number or a glob pattern
(``+86138000000*``) gets a ``FAIL`` receipt, another delay, or no receipt at all (``status=None``), as happens
when a carrier never reports. The outcome is fixed when the message is accepted, as Tencent's would be.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from fnmatch import fnmatchcase
from typing import Any, NamedTuple

SUCCESS = "SUCCESS"
FAIL = "FAIL"
STATUSES = (SUCCESS, FAIL, None)
_DEFAULT_DESCRIPTIONS = {SUCCESS: "DELIVRD", FAIL: "UNDELIV"}


class Outcome(NamedTuple):
    """A receipt's status (None: no receipt ever), description, and delay (None: the sandbox's lag)."""

    status: str | None
    description: str
    delay: float | None


@dataclass(frozen=True)
class DeliveryRule:
    """Numbers matching ``pattern`` get ``status`` with ``description`` after ``delay`` seconds."""

    pattern: str
    status: str | None = FAIL
    description: str | None = None
    delay: float | None = None
    #: Set by the sandbox when the rule is added.
    id: int = field(default=0, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.pattern, str) or not self.pattern:
            raise ValueError("a delivery rule needs a pattern: an E.164 number or a glob such as '+86138*'")
        if self.status not in STATUSES:
            raise ValueError(f"status must be 'SUCCESS', 'FAIL' or null (no receipt), not {self.status!r}")
        if self.description is not None and not isinstance(self.description, str):
            raise ValueError("description must be a string")
        if self.delay is not None and (
            isinstance(self.delay, bool) or not isinstance(self.delay, int | float) or self.delay < 0
        ):
            raise ValueError(f"delay must be a number of seconds >= 0, not {self.delay!r}")

    @classmethod
    def from_json(cls, document: object) -> DeliveryRule:
        """Build a rule from the JSON of ``POST /_sandbox/deliveries``; raises ValueError on bad input."""
        if not isinstance(document, dict):
            raise ValueError("a delivery rule must be a JSON object")
        unknown = set(document) - {"pattern", "status", "description", "delay"}
        if unknown:
            raise ValueError(f"unknown delivery rule options: {', '.join(sorted(unknown))}")
        return cls(**document)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def outcome(self) -> Outcome:
        description = self.description
        if description is None:
            description = _DEFAULT_DESCRIPTIONS.get(self.status or "", "")
        return Outcome(self.status, description, self.delay)


class DeliveryRules:
    """The active rules, newest first; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[DeliveryRule] = []
        self._next_id = 1

    def add(self, rule: DeliveryRule) -> DeliveryRule:
        with self._lock:
            rule = DeliveryRule(rule.pattern, rule.status, rule.description, rule.delay, self._next_id)
            self._next_id += 1
            self._rules.insert(0, rule)
            return rule

    def rules(self) -> list[DeliveryRule]:
        with self._lock:
            return list(self._rules)

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def outcomes(self, numbers: Sequence[str]) -> Mapping[int, Outcome]:
        """Position → outcome for the numbers a rule matches (the newest matching rule wins)."""
        rules = self.rules()
        if not rules:
            # The common case, on SendSms's hot path: nothing to match.
            return {}
        found: dict[int, Outcome] = {}
        for position, number in enumerate(numbers):
            for rule in rules:
                if fnmatchcase(number, rule.pattern):
                    found[position] = rule.outcome
                    break
        return found
