"""Template fields that rendered with a missing value are marked, with their template and the problem."""

from __future__ import annotations

import jinja2
import pytest

from airflow_provider_tencent_sms.rendering import GapProbe, RenderedWithGap, describe_gap, find_gaps


def render(
    template: str, undefined: type[jinja2.Undefined] = jinja2.StrictUndefined, **values: object
) -> object:
    probe = GapProbe()
    env = probe.environment(jinja2.Environment(undefined=undefined, autoescape=True))
    return probe.render(template, lambda: env.from_string(template).render(**values))


def test_a_value_that_is_there_renders_unmarked():
    rendered = render("orders={{ n }}", n=42)
    assert rendered == "orders=42" and not isinstance(rendered, RenderedWithGap)


def test_none_is_marked_and_keeps_its_text():
    rendered = render("orders={{ n }}", n=None)
    assert isinstance(rendered, RenderedWithGap)
    assert rendered == "orders=None"
    assert rendered.template == "orders={{ n }}"
    assert "None" in rendered.gaps[0]


@pytest.mark.parametrize("undefined", [jinja2.Undefined, jinja2.StrictUndefined])
def test_an_undefined_variable_is_marked_whatever_the_undefined_type(undefined):
    rendered = render("Report {{ missing }}", undefined=undefined)
    assert isinstance(rendered, RenderedWithGap)
    assert "'missing' is undefined" in rendered.gaps[0]


def test_an_undefined_attribute_chain_is_marked_instead_of_raising():
    rendered = render("{{ params.a.b }}", params={})
    assert isinstance(rendered, RenderedWithGap)
    assert rendered.template == "{{ params.a.b }}"


def test_each_render_starts_clean():
    probe = GapProbe()
    env = probe.environment(jinja2.Environment(autoescape=True))
    assert isinstance(
        probe.render("{{ x }}", lambda: env.from_string("{{ x }}").render(x=None)), RenderedWithGap
    )
    assert not isinstance(
        probe.render("{{ x }}", lambda: env.from_string("{{ x }}").render(x=1)), RenderedWithGap
    )


def test_find_gaps_names_the_position():
    bad = RenderedWithGap("orders=None", "orders={{ x }}", ("an expression gave None",))
    found = list(find_gaps("template_params", ["fine", bad, {"k": bad}]))
    assert [where for where, _ in found] == ["template_params[1]", "template_params[2]['k']"]
    assert (
        describe_gap(*found[0]) == "template_params[1] (template 'orders={{ x }}'): an expression gave None"
    )
    assert "orders=" not in describe_gap(*found[0], show_template=False)
