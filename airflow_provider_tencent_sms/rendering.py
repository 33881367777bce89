"""Templates that rendered with a hole in them: an SMS must never say "orders=None".

An ``xcom_pull`` with a typo in ``task_ids`` finds nothing and Jinja renders ``None`` as text; an
undefined variable renders as nothing, or stops rendering with an error that Airflow would retry. Both
are mistakes in the DAG, which a retry renders the same way. :class:`GapProbe` watches every
expression while a task's fields are rendered and marks the values that had such a hole, so that the
task can refuse them by name before anything is sent.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import jinja2


class RenderedWithGap(str):
    """A rendered value in which some expression gave ``None`` or an undefined value.

    It is the rendered text itself (a ``str``), so Airflow shows and stores it as usual; ``template``
    and ``gaps`` say where it came from and what went wrong.
    """

    template: str
    gaps: tuple[str, ...]

    def __new__(cls, rendered: str, template: str, gaps: tuple[str, ...]) -> RenderedWithGap:
        value = super().__new__(cls, rendered)
        value.template = template
        value.gaps = gaps
        return value


class GapProbe:
    """A Jinja ``finalize`` hook that notes, for the string being rendered, each expression with no value."""

    def __init__(self) -> None:
        self.gaps: list[str] = []

    def __call__(self, value: Any) -> Any:
        if value is None:
            self.gaps.append("an expression gave None (an xcom_pull that found nothing?)")
        elif isinstance(value, jinja2.Undefined):
            self.gaps.append(f"{value._undefined_name or 'a value'!r} is undefined")
            return ""
        return value

    def environment(self, env: jinja2.Environment) -> jinja2.Environment:
        return env.overlay(finalize=self)

    def render(self, template: str, render: Any) -> Any:
        """Render one string with ``render()``; mark the result if an expression had no value."""
        self.gaps.clear()
        try:
            rendered = render()
        except jinja2.UndefinedError as exc:
            return RenderedWithGap(template, template, (str(exc),))
        if self.gaps:
            return RenderedWithGap(str(rendered), template, tuple(self.gaps))
        return rendered


def find_gaps(name: str, value: object) -> Iterator[tuple[str, RenderedWithGap]]:
    """Every marked value in a rendered field, with where it sits (``template_params[1]``)."""
    if isinstance(value, RenderedWithGap):
        yield name, value
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from find_gaps(f"{name}[{index}]", item)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from find_gaps(f"{name}[{key!r}]", item)


def describe_gap(where: str, value: RenderedWithGap, *, show_template: bool = True) -> str:
    """One line for an error or a log: the field, its template (unless it may hold numbers), the problem."""
    source = f" (template {value.template!r})" if show_template else ""
    return f"{where}{source}: {'; '.join(value.gaps)}"
