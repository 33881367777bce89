"""The pure parts: numbers, templates, billing, URL detection, fault options."""

from __future__ import annotations

import pytest

from airflow_provider_tencent_sms.sandbox import Fault, Registry, phones, rules
from airflow_provider_tencent_sms.sandbox.templates import Scope, Template, TemplateKind


@pytest.mark.parametrize(
    ("number", "iso_code"),
    [
        ("+8613800138000", "CN"),
        ("+8619912345678", "CN"),
        ("+14155550100", "US"),
        ("+447911123456", "GB"),
        ("+85291234567", "HK"),
        ("+886912345678", "TW"),
        ("+8613800138", None),  # too short for a Mainland mobile
        ("+861012345678", None),  # a Beijing landline
        ("8613800138000", None),
        ("+0123456789", None),
        ("+999123456789", None),  # no such country code
        ("+1415555010012345", None),  # over 15 digits
        ("", None),
    ],
)
def test_iso_codes(number: str, iso_code: str | None) -> None:
    assert phones.iso_codes([number]) == [iso_code]
    parsed = phones.parse(number)
    assert (parsed.iso_code if parsed else None) == iso_code


def test_iso_codes_of_a_mainland_batch_take_the_fast_path_but_agree() -> None:
    numbers = [f"+86138{i:08d}" for i in range(200)]
    assert phones.iso_codes(numbers) == ["CN"] * 200
    assert phones.iso_codes([*numbers, "+86138"]) == ["CN"] * 200 + [None]


@pytest.mark.parametrize(
    "value",
    ["http://x", "HTTPS://EXAMPLE.COM", "ftp://files", "www.example", "example.com", "a.b.cn/path", "t.co"],
)
def test_urls(value: str) -> None:
    assert rules._URL.search(f"see {value} now")


@pytest.mark.parametrize("value", ["v1.2", "3.5kg", "e.g.", "10:30", "user@host", "file.txt", "数据.中国"])
def test_not_urls(value: str) -> None:
    assert not rules._URL.search(value)


def test_template_rendering_and_placeholders() -> None:
    template = Template("1", TemplateKind.NOTIFICATION, "{2} before {1}, {2} again")
    assert template.param_count == 2
    assert template.render(["a", "b"]) == "b before a, b again"
    assert Template("2", TemplateKind.NOTIFICATION, "no parameters").param_count == 0
    with pytest.raises(ValueError, match="without gaps"):
        Template("3", TemplateKind.NOTIFICATION, "{1} and {3}")


def test_scopes() -> None:
    assert Scope.BOTH.allows(True) and Scope.BOTH.allows(False)
    assert Scope.MAINLAND.allows(True) and not Scope.MAINLAND.allows(False)
    assert Scope.GLOBAL.allows(False) and not Scope.GLOBAL.allows(True)


def test_default_registry() -> None:
    registry = Registry.default()
    assert registry.signatures == ("Airflow",)
    assert {tid: t.kind for tid, t in registry.templates.items()} == {
        "1001": TemplateKind.VERIFICATION,
        "1002": TemplateKind.NOTIFICATION,
        "1003": TemplateKind.MARKETING,
    }


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ([], "must be a JSON object"),
        ({"signature": []}, "unknown keys"),
        ({"signatures": "Airflow"}, "list of non-empty strings"),
        ({"templates": []}, "mapping template ids"),
        ({"templates": {"abc": {"type": "notification", "content": "x"}}}, "positive integer"),
        ({"templates": {"1": {"type": "urgent", "content": "x"}}}, '"type" must be one of'),
        ({"templates": {"1": {"type": "notification"}}}, '"content" must be a non-empty string'),
        ({"templates": {"1": {"type": "notification", "content": "x", "lang": "en"}}}, "unknown keys"),
        ({"templates": {"1": {"type": "notification", "content": "x", "scope": "moon"}}}, '"scope" one of'),
    ],
)
def test_registry_documents_are_checked(document: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Registry.from_json(document)


def test_fault_options_are_checked() -> None:
    assert Fault(code="X", phone_numbers=["+8613800138000"]).phone_numbers == frozenset({"+8613800138000"})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="needs an effect"):
        Fault()
    with pytest.raises(ValueError, match="exclude each other"):
        Fault(http_status=502, drop_connection=True)
    with pytest.raises(ValueError, match="go with http_status"):
        Fault(code="X", process=True)
    with pytest.raises(ValueError, match="message goes with"):
        Fault(latency_ms=5, message="m")
    with pytest.raises(ValueError, match="wrong type"):
        Fault(code="X", after=True)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="must not be empty"):
        Fault(code="")
    assert Fault.from_json({"code": "X", "action": None}).action is None
