"""The template preflight of a send: ask Tencent about the template before the first SendSms.

Not approved, or a parameter count that differs from its placeholders: a problem, on which the send fails
before anything is sent (a dry run reports it). An account that may not ask (individual accounts), or an answer that says nothing about the
template: a notice, and the send goes on (SendSms itself refuses a template it cannot send).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .exceptions import TencentSmsApiError, TencentSmsError
from .templates import Template, preflight_problem

if TYPE_CHECKING:
    from .batching import Batch
    from .hooks.sms import TencentSmsHook


@dataclass(frozen=True)
class Preflight:
    """What the preflight found: the template (as Tencent reported it), or why it was not checked."""

    template: Template | None
    #: Why the template was not checked, when it was not.
    notice: str | None = None
    #: Why a send with it would fail, when it would.
    problem: str | None = None

    @property
    def content(self) -> str | None:
        """The template's text, when Tencent reported it: what the fee estimate is computed from."""
        return self.template.content if self.template is not None else None

    def to_json(self) -> dict[str, object]:
        if self.template is None:
            return {"checked": False, "notice": self.notice}
        t = self.template
        report: dict[str, object] = {
            "checked": True,
            "id": t.id,
            "name": t.name,
            "status": t.status,
            "content": t.content,
            "placeholders": t.param_count,
        }
        if self.problem is not None:
            report["problem"] = self.problem
        return report


def _not_checked(template_id: str, why: str) -> Preflight:
    return Preflight(
        None,
        f"Template {template_id} was not checked before sending ({why}); SendSms will tell if it is wrong",
    )


def preflight(hook: TencentSmsHook, template_id: str, batches: Sequence[Batch]) -> Preflight:
    """Check the template for every kind of number the plan sends to (Mainland China, global).

    A template that is not approved, or takes a different number of parameters than some batch has, is
    reported as the ``problem``.
    """
    found: Template | None = None
    param_counts = {len(batch.template_params) for batch in batches}
    for mainland in sorted({batch.mainland_china for batch in batches}, reverse=True):
        kind = "Mainland China" if mainland else "global"
        try:
            templates = hook.describe_templates([template_id], international=not mainland)
        except TencentSmsApiError as exc:
            return _not_checked(template_id, f"DescribeSmsTemplateList answered {exc.code}: {exc.message}")
        except TencentSmsError as exc:
            return _not_checked(template_id, f"DescribeSmsTemplateList failed: {exc}")
        except ValueError as exc:
            return _not_checked(template_id, str(exc))
        template = next((t for t in templates if t.id == template_id), None)
        if template is None:
            return _not_checked(template_id, f"it is not among the account's {kind} templates")
        problem = preflight_problem(template, param_counts)
        if problem is not None:
            return Preflight(template, problem=problem)
        found = found or template
    return Preflight(found)
