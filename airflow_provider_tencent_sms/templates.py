"""SMS templates as DescribeSmsTemplateList reports them, and the preflight check of a send (pure)."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .segments import placeholder_count


class TemplateStatus(int, enum.Enum):
    """``StatusCode`` of a template (signatures are reviewed with the same codes)."""

    APPROVED = 0
    IN_REVIEW = 1
    APPROVED_NOT_YET_ACTIVE = 2
    REJECTED = -1

    @property
    def meaning(self) -> str:
        return _MEANINGS[self]


_MEANINGS = {
    TemplateStatus.APPROVED: "approved",
    TemplateStatus.IN_REVIEW: "in review",
    TemplateStatus.APPROVED_NOT_YET_ACTIVE: "approved but not yet active",
    TemplateStatus.REJECTED: "rejected",
}


def review_status(status_code: int) -> str:
    """A template's or signature's ``StatusCode`` in words: ``approved``, ``in review``, ``rejected``..."""
    try:
        return TemplateStatus(status_code).meaning
    except ValueError:
        return f"not approved (StatusCode {status_code})"


@dataclass(frozen=True)
class Template:
    """One template of the account."""

    id: str
    #: Tencent's ``StatusCode``; see :class:`TemplateStatus` (other values are reported as unknown).
    status_code: int
    #: Tencent's review comment, e.g. why the template was rejected.
    review_reply: str
    name: str
    #: The text with ``{1}``, ``{2}``... placeholders; None where the API version does not report it.
    content: str | None
    #: 0: Mainland China, 1: global (Tencent also reports other values for templates of both kinds).
    international: int

    @classmethod
    def from_api(cls, item: Mapping[str, Any]) -> Template:
        content = item.get("TemplateContent")
        return cls(
            id=str(item.get("TemplateId", "")),
            status_code=int(item.get("StatusCode", -99)),
            review_reply=str(item.get("ReviewReply") or ""),
            name=str(item.get("TemplateName") or ""),
            content=None if content is None else str(content),
            international=int(item.get("International") or 0),
        )

    @property
    def approved(self) -> bool:
        return self.status_code == TemplateStatus.APPROVED

    @property
    def status(self) -> str:
        """The status in words: ``approved``, ``in review``, ``rejected``..."""
        return review_status(self.status_code)

    @property
    def param_count(self) -> int | None:
        """How many parameters the template takes (its highest ``{n}``); None without content."""
        return None if self.content is None else placeholder_count(self.content)


def preflight_problem(template: Template, param_counts: Iterable[int]) -> str | None:
    """Why a send with this template cannot work, or None.

    :param template: the template as Tencent reported it.
    :param param_counts: the number of parameters of each distinct parameter list the send uses.
    """
    if not template.approved:
        problem = f"Template {template.id} ({template.name or 'unnamed'}) is {template.status}"
        if template.status_code == TemplateStatus.REJECTED and template.review_reply:
            problem += f"; Tencent's review reply: {template.review_reply!r}"
        return problem + ". Only approved templates can be sent; see the SMS console > Templates."
    expected = template.param_count
    if expected is None:
        return None
    wrong = sorted({count for count in param_counts if count != expected})
    if wrong:
        given = " or ".join(str(count) for count in wrong)
        return (
            f"Template {template.id} has {_count(expected, 'placeholder')} ({template.content!r}) but "
            f"{given} template parameters were given: pass exactly {expected}."
        )
    return None


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
