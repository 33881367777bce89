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


#: The review states a template can be set up in, and the ``StatusCode`` Tencent reports for each.
STATUS_CODES = {"approved": 0, "in_review": 1, "not_yet_active": 2, "rejected": -1}


@dataclass(frozen=True)
class Template:
    id: str
    kind: TemplateKind
    content: str
    name: str = ""
    scope: Scope = Scope.BOTH
    #: DescribeSmsTemplateList's ``StatusCode``: 0 approved; SendSms refuses the template otherwise.
    status_code: int = 0
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
    """Approved signatures (by content) and templates (by id)."""

    signatures: tuple[str, ...]
    templates: Mapping[str, Template]

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
        unknown = set(document) - {"signatures", "templates"}
        if unknown:
            raise ValueError(f"unknown keys in the templates document: {', '.join(sorted(unknown))}")
        signatures = document.get("signatures", [])
        if not isinstance(signatures, list) or not all(isinstance(s, str) and s for s in signatures):
            raise ValueError('"signatures" must be a list of non-empty strings')
        raw_templates = document.get("templates", {})
        if not isinstance(raw_templates, dict):
            raise ValueError('"templates" must be an object mapping template ids to templates')
        templates = {tid: _template_from_json(tid, spec) for tid, spec in raw_templates.items()}
        return cls(signatures=tuple(signatures), templates=templates)

    def sign_id(self, signature: str) -> int:
        """A stable id for an approved signature (its position), as DescribeSmsSignList reports it."""
        return self.signatures.index(signature) + 1


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
    status = spec.get("status", "approved")
    if status not in STATUS_CODES:
        raise ValueError(f'template {template_id}: "status" must be one of {list(STATUS_CODES)}')
    review_reply = spec.get("review_reply", "")
    if not isinstance(review_reply, str):
        raise ValueError(f'template {template_id}: "review_reply" must be a string')
    return Template(
        id=template_id,
        kind=kind,
        content=content,
        name=name,
        scope=scope,
        status_code=STATUS_CODES[status],
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
