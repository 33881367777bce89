"""The approved signatures and templates the sandbox accepts, and how templates render."""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any

from ..segments import renderer

_PLACEHOLDER = re.compile(r"\{([0-9]+)\}")
_TEMPLATE_ID = re.compile(r"[1-9][0-9]{0,9}")


class TemplateKind(str, enum.Enum):
    VERIFICATION = "verification"
    NOTIFICATION = "notification"
    MARKETING = "marketing"


class Scope(str, enum.Enum):
    """Which numbers a template may be sent to; Tencent approves Mainland and global templates separately."""

    MAINLAND = "mainland"
    GLOBAL = "global"
    BOTH = "both"

    @property
    def international(self) -> int:
        """The ``International`` value of DescribeSmsTemplateList (3 = both, as Tencent reports it)."""
        return {Scope.MAINLAND: 0, Scope.GLOBAL: 1, Scope.BOTH: 3}[self]

    def allows(self, mainland: bool) -> bool:
        return self is Scope.BOTH or (self is Scope.MAINLAND) == mainland


class ReviewStatus(str, enum.Enum):
    """A signature's or template's review state; ``status_code`` is the ``StatusCode`` Tencent lists it with."""

    APPROVED = "approved"
    IN_REVIEW = "in-review"
    NOT_YET_ACTIVE = "not-yet-active"
    REJECTED = "rejected"

    @property
    def status_code(self) -> int:
        return {
            ReviewStatus.APPROVED: 0,
            ReviewStatus.IN_REVIEW: 1,
            ReviewStatus.NOT_YET_ACTIVE: 2,
            ReviewStatus.REJECTED: -1,
        }[self]


@dataclass(frozen=True)
class Template:
    id: str
    kind: TemplateKind
    content: str
    name: str = ""
    scope: Scope = Scope.BOTH
    #: SendSms refuses a template that is not approved.
    status: ReviewStatus = field(default_factory=lambda: ReviewStatus.APPROVED)
    #: Tencent's review comment (why a template was rejected).
    review_reply: str = ""
    _render: Callable[[Sequence[str]], str] = field(init=False, repr=False, compare=False)
    param_count: int = field(init=False)

    def __post_init__(self) -> None:
        indexes = {int(i) for i in _PLACEHOLDER.findall(self.content)}
        if indexes != set(range(1, len(indexes) + 1)):
            raise ValueError(
                f"template {self.id}: placeholders must be numbered {{1}}, {{2}}, ... without gaps, "
                f"found {sorted(indexes)}"
            )
        object.__setattr__(self, "_render", renderer(self.content))
        object.__setattr__(self, "param_count", len(indexes))

    def render(self, params: Sequence[str]) -> str:
        """The message body with ``params`` (exactly ``param_count`` of them) put in."""
        return self._render(params)


@dataclass(frozen=True)
class Registry:
    """Approved signatures (by content) and templates (by id), and signatures not (or not yet) approved."""

    signatures: tuple[str, ...]
    templates: Mapping[str, Template]
    #: Signatures the account has submitted that SendSms refuses: listed by DescribeSmsSignList only.
    unapproved_signatures: Mapping[str, ReviewStatus] = field(default_factory=dict)

    @classmethod
    def default(cls) -> Registry:
        return cls.from_json(DEFAULT_REGISTRY)

    @classmethod
    def load(cls, path: str | PathLike[str]) -> Registry:
        """Read a registry file (see ``docs/sandbox.md``); raises ValueError saying what is wrong."""
        try:
            document = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ValueError(f"cannot read templates file {path}: {exc}") from None
        return cls.from_json(document)

    @classmethod
    def from_json(cls, document: object) -> Registry:
        if not isinstance(document, dict):
            raise ValueError("the templates document must be a JSON object")
        unknown = set(document) - {"signatures", "unapproved_signatures", "templates"}
        if unknown:
            raise ValueError(f"unknown keys in the templates document: {', '.join(sorted(unknown))}")
        signatures = document.get("signatures", [])
        if not isinstance(signatures, list) or not all(isinstance(s, str) and s for s in signatures):
            raise ValueError('"signatures" must be a list of non-empty strings')
        raw_templates = document.get("templates", {})
        if not isinstance(raw_templates, dict):
            raise ValueError('"templates" must be an object mapping template ids to templates')
        templates = {tid: _template_from_json(tid, spec) for tid, spec in raw_templates.items()}
        return cls(
            signatures=tuple(signatures),
            templates=templates,
            unapproved_signatures=_unapproved_from_json(
                document.get("unapproved_signatures", {}), signatures
            ),
        )

    def all_signatures(self) -> dict[str, ReviewStatus]:
        """Every signature of the account with its status, approved ones first (DescribeSmsSignList's order)."""
        return {**dict.fromkeys(self.signatures, ReviewStatus.APPROVED), **self.unapproved_signatures}

    def sign_id(self, signature: str) -> int:
        """A stable id for a signature (its position in :meth:`all_signatures`), as DescribeSmsSignList reports."""
        return list(self.all_signatures()).index(signature) + 1


def _unapproved_from_json(document: object, approved: Sequence[str]) -> dict[str, ReviewStatus]:
    statuses = [s.value for s in ReviewStatus if s is not ReviewStatus.APPROVED]
    if not isinstance(document, dict) or not all(
        isinstance(name, str) and name and status in statuses for name, status in document.items()
    ):
        raise ValueError(f'"unapproved_signatures" must map signature contents to one of {statuses}')
    both = set(document) & set(approved)
    if both:
        raise ValueError(f"signatures both approved and unapproved: {', '.join(sorted(both))}")
    return {name: ReviewStatus(status) for name, status in document.items()}


def _template_from_json(template_id: str, spec: Any) -> Template:
    if not _TEMPLATE_ID.fullmatch(template_id):
        raise ValueError(f"template id {template_id!r} must be a positive integer, as Tencent's are")
    if not isinstance(spec, dict):
        raise ValueError(f"template {template_id} must be an object")
    unknown = set(spec) - {"type", "content", "name", "scope", "status", "review_reply"}
    if unknown:
        raise ValueError(f"template {template_id}: unknown keys {', '.join(sorted(unknown))}")
    content = spec.get("content")
    if not isinstance(content, str) or not content:
        raise ValueError(f'template {template_id}: "content" must be a non-empty string')
    name = spec.get("name", "")
    if not isinstance(name, str):
        raise ValueError(f'template {template_id}: "name" must be a string')
    try:
        kind = TemplateKind(spec.get("type"))
        scope = Scope(spec.get("scope", Scope.BOTH.value))
    except ValueError:
        raise ValueError(
            f'template {template_id}: "type" must be one of {[k.value for k in TemplateKind]} and '
            f'"scope" one of {[s.value for s in Scope]}'
        ) from None
    statuses = [status.value for status in ReviewStatus]
    status = spec.get("status", ReviewStatus.APPROVED.value)
    if status not in statuses:
        raise ValueError(f'template {template_id}: "status" must be one of {statuses}')
    review_reply = spec.get("review_reply", "")
    if not isinstance(review_reply, str):
        raise ValueError(f'template {template_id}: "review_reply" must be a string')
    return Template(
        id=template_id,
        kind=kind,
        content=content,
        name=name,
        scope=scope,
        status=ReviewStatus(status),
        review_reply=review_reply,
    )


DEFAULT_REGISTRY: dict[str, Any] = {
    "signatures": ["Airflow"],
    "templates": {
        "1001": {
            "type": "verification",
            "name": "Verification code",
            "content": "Your verification code is {1}, valid for {2} minutes.",
        },
        "1002": {"type": "notification", "name": "Notification", "content": "[{1}] {2}"},
        "1003": {"type": "marketing", "name": "Marketing", "content": "{1} Reply TD to unsubscribe."},
    },
}
