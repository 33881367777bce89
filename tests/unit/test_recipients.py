"""Recipients: reading templated input, E.164 normalisation, deduplication, personalised rows."""

from __future__ import annotations

import json
import re

import phonenumbers
import pytest
from hypothesis import given
from hypothesis import strategies as st

from airflow_provider_tencent_sms.recipients import (
    Audience,
    NormalisedRecipients,
    audience_for_numbers,
    exclusion_list,
    is_mainland_china,
    normalise,
    parse_list,
    parse_phone_numbers,
    personalised,
    to_e164,
)

E164 = re.compile(r"\+[1-9][0-9]{6,14}")

# One Mainland mobile written the ways people write it.
SAME_CN_MOBILE = ["13800138000", "0086 138-0013-8000", "+86 138 0013 8000", "+8613800138000"]
US = "+1 650-253-0000"
UK = "+44 20 7946 0958"


# -- strategies ------------------------------------------------------------------------------------

cn_subscribers = st.builds(
    lambda second, rest: f"1{second}{rest:09d}",
    st.sampled_from("3456789"),
    st.integers(0, 10**9 - 1),
)


def _cn_formats(subscriber: str) -> list[str]:
    return [
        f"+86{subscriber}",
        subscriber,
        f"0086 {subscriber[:3]}-{subscriber[3:7]}-{subscriber[7:]}",
        f"+86 {subscriber[:3]} {subscriber[3:7]} {subscriber[7:]}",
        f" {subscriber} ",
    ]


cn_numbers = st.builds(lambda s, i: _cn_formats(s)[i], cn_subscribers, st.integers(0, 4))
global_numbers = st.sampled_from(
    [
        "+16502530000",
        US,
        "+442079460958",
        UK,
        "+447911123456",
        "+33 1 42 68 53 00",
        "+81312345678",
        "+4930123456",
        "+6594567890",
    ]
)
junk = st.sampled_from(["", "12345", "abc", "+86123", "+999123456789", "13800138000 abc", "++86", "+"])
any_numbers = st.lists(st.one_of(cn_numbers, global_numbers, junk, st.text(max_size=12)), max_size=40)
# Exact repeats matter: they hit the "already seen" branches.
with_repeats = any_numbers.flatmap(
    lambda xs: st.lists(st.sampled_from(xs), max_size=60) if xs else st.just([])
)


def _reference(numbers: list[str], region: str = "CN") -> NormalisedRecipients:
    """normalise() spelled out one number at a time, with to_e164() as the only primitive."""
    valid: list[str] = []
    invalid: list[str] = []
    positions: list[int] = []
    for position, raw in enumerate(numbers):
        e164 = to_e164(raw, region)
        if e164 is None:
            invalid.append(raw)
            positions.append(position)
        elif e164 not in valid:
            valid.append(e164)
    return NormalisedRecipients(
        tuple(valid), len(numbers) - len(valid) - len(invalid), tuple(invalid), tuple(positions)
    )


# -- normalise: concrete cases ---------------------------------------------------------------------


def test_the_four_ways_of_writing_a_mainland_mobile_are_one_recipient():
    result = normalise(SAME_CN_MOBILE)
    assert result.valid == ("+8613800138000",)
    assert result.duplicates == 3
    assert result.invalid == ()


def test_global_numbers_are_normalised_to_e164():
    result = normalise([US, UK, "+16502530000"])
    assert result.valid == ("+16502530000", "+442079460958")
    assert result.duplicates == 1


def test_invalid_inputs_are_kept_unchanged_and_in_order():
    result = normalise(["12345", "+8613800138000", "abc", "+86123", "abc"])
    assert result.valid == ("+8613800138000",)
    assert result.invalid == ("12345", "abc", "+86123", "abc")
    assert result.duplicates == 0


@pytest.mark.parametrize(
    "number",
    [
        "13800138000 abc",  # phonenumbers alone would read the letters as digits
        "1-800-FLOWERS",
        "13800138000;ext=12",
        "13800138000#123",
        "+999123456789",  # 999 is not a calling code
        "+4420794609581234",  # too long for E.164
        "+4479111234",  # too short for the UK
        "+10000000000",  # no US number starts with 0
        "+861380013800",  # a Mainland mobile one digit short
        "",
        "   ",
    ],
)
def test_not_phone_numbers(number):
    assert normalise([number]).invalid == (number,)
    assert to_e164(number) is None


def test_numbers_without_plus_are_read_in_the_default_region():
    assert normalise(["650-253-0000"], "US").valid == ("+16502530000",)
    assert normalise(["020 7946 0958"], "gb").valid == ("+442079460958",)
    assert normalise(["13800138000"], "GB").invalid == ("13800138000",)


def test_full_width_digits_are_read_and_returned_as_ascii():
    assert normalise(["１３８００１３８０００", "+86１３８００１３８０００"]).valid == ("+8613800138000",)


def test_mainland_fixed_lines_are_accepted_through_phonenumbers():
    assert normalise(["+861012345678", "010 1234 5678"]).valid == ("+861012345678",)


def test_an_unknown_region_is_refused():
    with pytest.raises(ValueError, match=r"'XX' is not a region"):
        normalise(["+8613800138000"], "XX")
    with pytest.raises(ValueError, match="ISO 3166-1"):
        to_e164("+8613800138000", "China")


@pytest.mark.parametrize("items", [[13800138000], ["+8613800138000", b"+8613900139000"], ["x", None]])
def test_items_that_are_not_strings_are_refused_with_a_hint(items):
    with pytest.raises(TypeError, match=r"takes phone numbers as strings.*parse_phone_numbers"):
        normalise(items)


def test_any_iterable_is_accepted():
    assert normalise(number for number in SAME_CN_MOBILE).valid == ("+8613800138000",)
    assert normalise([]) == NormalisedRecipients((), 0, ())


def test_repr_shows_counts_not_numbers():
    text = repr(normalise(["+8613800138000", "+8613800138000", "12345"]))
    assert text == "NormalisedRecipients(valid=1, duplicates=1, invalid=1)"


def test_a_number_with_a_line_break_inside_is_invalid_not_split():
    result = normalise(["+8613800138000\n+8613900139000", "+8613700137000"])
    assert result.valid == ("+8613700137000",)
    assert result.invalid == ("+8613800138000\n+8613900139000",)


def test_is_mainland_china():
    assert is_mainland_china("+8613800138000")
    assert not is_mainland_china("+16502530000")
    assert not is_mainland_china("+85291234567")  # Hong Kong is a global destination


# -- normalise: properties -------------------------------------------------------------------------


@given(with_repeats)
def test_counts_add_up(numbers):
    result = normalise(numbers)
    assert len(result.valid) + result.duplicates + len(result.invalid) == len(numbers)
    assert len(set(result.valid)) == len(result.valid)


@given(with_repeats)
def test_matches_the_one_number_at_a_time_reference(numbers):
    # Covers the all-canonical fast path and the per-number loop: they must agree.
    assert normalise(numbers) == _reference(numbers)


@given(with_repeats)
def test_every_valid_number_is_e164_and_phonenumbers_reads_it_back_unchanged(numbers):
    for e164 in normalise(numbers).valid:
        assert E164.fullmatch(e164)
        parsed = phonenumbers.parse(e164)
        assert phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164) == e164


@given(with_repeats)
def test_idempotent(numbers):
    once = normalise(numbers)
    assert normalise(once.valid) == NormalisedRecipients(once.valid, 0, ())


@given(cn_subscribers)
def test_the_verdict_does_not_depend_on_the_format(subscriber):
    assert {to_e164(form) for form in _cn_formats(subscriber)} == {f"+86{subscriber}"}


canonical = st.one_of(
    cn_subscribers.map(lambda s: f"+86{s}"),
    st.sampled_from(["+16502530000", "+442079460958", "+447911123456", "+81312345678", "+6834002"]),
)


@given(st.lists(canonical, max_size=30).flatmap(lambda xs: st.permutations(xs + xs[: len(xs) // 2])))
def test_canonical_input_with_repeats_matches_the_reference(numbers):
    # All canonical: the path that dedupes in C without looking at numbers one by one.
    result = normalise(numbers)
    assert result == _reference(numbers)
    assert result.valid == tuple(dict.fromkeys(numbers))


# -- parse_phone_numbers ---------------------------------------------------------------------------

list_items = st.lists(st.one_of(st.text(max_size=20), st.integers(0, 10**15)), max_size=20)


@given(list_items)
def test_a_native_list_its_str_and_its_json_give_the_same_numbers(items):
    expected = [str(item) for item in items]
    assert parse_phone_numbers(items) == expected
    assert parse_phone_numbers(str(items)) == expected
    assert parse_phone_numbers(json.dumps(items)) == expected
    assert parse_phone_numbers(tuple(items)) == expected
    assert parse_phone_numbers(str(tuple(items))) == expected


@given(st.sets(st.one_of(st.text(max_size=20), st.integers(0, 10**15)), max_size=20))
def test_sets_come_back_sorted_so_every_process_plans_the_same_batches(items):
    expected = sorted(str(item) for item in items)
    assert parse_phone_numbers(items) == expected
    assert parse_phone_numbers(frozenset(items)) == expected
    if items:  # str(set()) is "set()", which is not a literal
        assert parse_phone_numbers(str(items)) == expected


def test_jinja_rendering_of_an_xcom_list():
    rendered = str(["+8613800138000", "13900139000"])
    assert rendered == "['+8613800138000', '13900139000']"
    assert parse_phone_numbers(rendered) == ["+8613800138000", "13900139000"]


def test_a_large_python_repr_is_read_without_literal_eval(monkeypatch):
    numbers = [f"+86138{i:08d}" for i in range(5000)]

    def refuse(text: str) -> object:
        raise AssertionError("ast.literal_eval should not be needed")

    monkeypatch.setattr("airflow_provider_tencent_sms.recipients.ast.literal_eval", refuse)
    assert parse_phone_numbers(str(numbers)) == numbers


def test_python_literals_json_cannot_read_fall_back_to_literal_eval():
    assert parse_phone_numbers("['+8613800138000',]") == ["+8613800138000"]
    assert parse_phone_numbers("('+8613800138000',)") == ["+8613800138000"]
    assert parse_phone_numbers("[\"it's\", 'x\\'y']") == ["it's", "x'y"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("+8613800138000,13900139000", ["+8613800138000", "13900139000"]),
        ("+8613800138000, 13900139000; 13700137000", ["+8613800138000", "13900139000", "13700137000"]),
        ("+8613800138000\n13900139000\r\n13700137000\n", ["+8613800138000", "13900139000", "13700137000"]),
        (
            "13800138000，13900139000；13700137000、13600136000",
            ["13800138000", "13900139000", "13700137000", "13600136000"],
        ),
        ("0086 138-0013-8000, +86 139 0013 9000", ["0086 138-0013-8000", "+86 139 0013 9000"]),
        (",, 13800138000 ,;", ["13800138000"]),
        # No separator: whitespace splits only when every part has 7 or more digits.
        ("13800138000 13900139000", ["13800138000", "13900139000"]),
        ("+8613800138000\t +8613900139000", ["+8613800138000", "+8613900139000"]),
        ("0086 138-0013-8000", ["0086 138-0013-8000"]),
        ("+86 138 0013 8000", ["+86 138 0013 8000"]),
        (US, [US]),
        ("0755 86013388", ["0755 86013388"]),
        # Parentheses that are not a Python tuple are part of a number.
        ("(650) 253-0000", ["(650) 253-0000"]),
        ("(13800138000)", ["(13800138000)"]),
        ("  +8613800138000  ", ["+8613800138000"]),
    ],
)
def test_text_forms(text, expected):
    assert parse_phone_numbers(text) == expected


@pytest.mark.parametrize("value", [None, "", "  \n ", "[]", "()", [], ()])
def test_nothing(value):
    assert parse_phone_numbers(value) == []


def test_a_single_int_and_ints_in_lists_become_strings():
    assert parse_phone_numbers(13800138000) == ["13800138000"]
    assert parse_phone_numbers([13800138000, "+8613900139000"]) == ["13800138000", "+8613900139000"]
    assert parse_phone_numbers(n for n in ["+8613800138000"]) == ["+8613800138000"]


@pytest.mark.parametrize(
    ("value", "type_name"),
    [
        ({"phone": "+8613800138000"}, "dict"),
        ("{'phone': '+8613800138000'}", "dict"),
        ('{"phone": "+8613800138000"}', "dict"),
        (13800138000.0, "float"),
        (True, "bool"),
        (b"+8613800138000", "bytes"),
        (object(), "object"),
    ],
)
def test_unsupported_types_name_what_is_accepted(value, type_name):
    with pytest.raises(TypeError, match=rf"list, tuple or set of phone numbers.*got {type_name}"):
        parse_phone_numbers(value)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (["+8613800138000", 1.5], "position 1 is a float"),
        ([["+8613800138000"]], "position 0 is a list"),
        (["+8613800138000", None], "position 1 is a NoneType"),
        ("[['+8613800138000']]", "position 0 is a list"),
        ([False], "position 0 is a bool"),
    ],
)
def test_bad_items_are_named_by_position(value, message):
    with pytest.raises(TypeError, match=message):
        parse_phone_numbers(value)


@pytest.mark.parametrize("text", ["[1, 2", "['+8613800138000'", "{oops}", "[print('hi')]"])
def test_text_that_looks_like_a_list_but_is_not_one(text):
    with pytest.raises(ValueError, match="neither a JSON array nor a Python list literal"):
        parse_phone_numbers(text)


# -- parse_list ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", [["1234", 5], ("1234", 5), '["1234", 5]', "['1234', 5]", "('1234', 5)", " ['1234', 5] "]
)
def test_parse_list_reads_lists_and_their_text(value):
    assert parse_list(value, "template_params") == ["1234", 5]


def test_parse_list_reads_personalised_rows_rendered_by_jinja():
    rows = [{"phone_number": "+8613800138000", "template_params": ["1234"]}]
    assert parse_list(str(rows), "recipients") == rows
    assert parse_list(json.dumps(rows), "recipients") == rows


def test_parse_list_errors_name_the_argument():
    with pytest.raises(ValueError, match=r"template_params must be a JSON array.*'1234'"):
        parse_list("1234", "template_params")
    with pytest.raises(ValueError, match="recipients must be a JSON array"):
        parse_list("{'phone_number': '+8613800138000'}", "recipients")
    with pytest.raises(TypeError, match=r"recipients must be a list.*got dict"):
        parse_list({"phone_number": "+8613800138000"}, "recipients")


# -- audience_for_numbers --------------------------------------------------------------------------


def test_audience_for_numbers_is_one_group_with_string_params():
    audience = audience_for_numbers("13800138000, +8613800138000, 12345, " + US, [1234, "x"])
    assert audience.groups == {("1234", "x"): ("+8613800138000", "+16502530000")}
    assert audience.duplicates == 1
    assert audience.invalid == ("12345",)


def test_audience_for_numbers_without_valid_numbers_has_no_group():
    assert audience_for_numbers(["12345"], []) == Audience({}, 0, ("12345",), (0,))
    assert audience_for_numbers(None, []).groups == {}


def test_audience_for_numbers_refuses_none_params():
    with pytest.raises(ValueError, match=r"template_params\[0\] contains None"):
        audience_for_numbers(["+8613800138000"], [None])


# -- personalised ----------------------------------------------------------------------------------


def _row(number: object, *params: object) -> dict[str, object]:
    return {"phone_number": number, "template_params": list(params)}


def test_personalised_groups_by_params_in_first_seen_order():
    audience = personalised(
        [
            _row("+8613800138000", "Ann", 3),
            _row(13900139000, "Bob", 1),
            _row("0086 137-0013-7000", "Ann", "3"),
            _row(US, "Bob", 1),
            _row("12345", "Eve", 0),
        ]
    )
    assert list(audience.groups.items()) == [
        (("Ann", "3"), ("+8613800138000", "+8613700137000")),
        (("Bob", "1"), ("+8613900139000", "+16502530000")),
    ]
    assert audience.duplicates == 0
    assert audience.invalid == ("12345",)


def test_the_same_number_with_the_same_params_is_a_duplicate():
    audience = personalised([_row("13800138000", "1"), _row("+86 138 0013 8000", 1)])
    assert audience.groups == {("1",): ("+8613800138000",)}
    assert audience.duplicates == 1


def test_the_same_number_with_different_params_is_an_error_that_masks_the_number():
    with pytest.raises(ValueError, match=r"Row 2: \+86138\*\*\*\*8000 is also in row 0") as caught:
        personalised([_row("13800138000", "1"), _row("+8613900139000", "1"), _row("+8613800138000", "2")])
    assert "13800138000" not in str(caught.value)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (
            {"phone": "+8613800138000", "template_params": []},
            "Row 1 must have exactly the keys 'phone_number' and 'template_params' "
            "(missing: 'phone_number'; unexpected: 'phone')",
        ),
        ({"phone_number": "+8613800138000"}, "Row 1 must have exactly the keys"),
        ({"phone_number": "+8613800138000"}, "(missing: 'template_params'; unexpected: none)"),
        (
            {"phone_number": "+8613800138000", "template_params": [], "name": "Ann"},
            "(missing: none; unexpected: 'name')",
        ),
        (_row("+8613800138000", None), "Row 1: template_params[0] contains None"),
    ],
)
def test_row_value_errors_name_the_row_and_key(row, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        personalised([_row("+8613900139000"), row])


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (["+8613800138000", []], "Row 1 is a list"),
        (
            {"phone_number": 1.5, "template_params": []},
            "Row 1: 'phone_number' must be a string or an int, not float",
        ),
        ({"phone_number": True, "template_params": []}, "not bool"),
        (
            {"phone_number": "+8613800138000", "template_params": "1234"},
            "'template_params' must be a list of values, not str",
        ),
        (_row("+8613800138000", ["a"]), "values must be strings or numbers, not list"),
    ],
)
def test_row_type_errors_name_the_row_and_key(row, message):
    with pytest.raises(TypeError, match=re.escape(message)):
        personalised([_row("+8613900139000"), row])


def test_personalised_refuses_text_and_unknown_regions():
    with pytest.raises(TypeError, match="parse_list"):
        personalised("[]")
    with pytest.raises(ValueError, match="'ZZZ' is not a region"):
        personalised([], "ZZZ")


@given(st.lists(st.one_of(cn_numbers, global_numbers, junk), max_size=40))
def test_personalised_counts_add_up(numbers):
    # Parameters that depend on the number only, so no number is given two different sets.
    rows = [_row(number, len(to_e164(number) or "")) for number in numbers]
    audience = personalised(rows)
    recipients = [number for group in audience.groups.values() for number in group]
    assert len(recipients) + audience.duplicates + len(audience.invalid) == len(rows)
    assert len(set(recipients)) == len(recipients)
    assert all(E164.fullmatch(number) for number in recipients)
    assert audience == personalised(parse_list(json.dumps(rows), "recipients"))


# -- parameters that are empty or not text, and where invalid entries were ---------------------------


def test_empty_params_are_refused_unless_allowed():
    with pytest.raises(ValueError, match=r"template_params\[1\] is an empty string.*allow_empty_params=True"):
        audience_for_numbers(["+8613800138000"], ["a", ""])
    assert audience_for_numbers(["+8613800138000"], ["a", ""], allow_empty_params=True).groups == {
        ("a", ""): ("+8613800138000",)
    }
    with pytest.raises(ValueError, match=r"Row 0: template_params\[0\] is an empty string"):
        personalised([_row("+8613800138000", "")])
    assert personalised([_row("+8613800138000", "")], allow_empty_params=True).groups


def test_bool_params_are_refused():
    with pytest.raises(TypeError, match=r"template_params\[0\] is a bool"):
        audience_for_numbers(["+8613800138000"], [True])


def test_invalid_entries_keep_their_positions():
    audience = audience_for_numbers(["+8613800138000", "555", "+8613800138000", "abc", "13900139000"], [])
    assert audience.invalid_entries() == [(1, "555"), (3, "abc")]
    rows = personalised([_row("555"), _row("+8613800138000"), _row("12")])
    assert rows.invalid_entries() == [(0, "555"), (2, "12")]


# -- exclusions ------------------------------------------------------------------------------------


def test_an_exclusion_list_is_read_like_recipients():
    listed = exclusion_list("13800138000, +86 139 0013 9000; not-a-number")
    assert listed.valid == ("+8613800138000", "+8613900139000")
    assert listed.invalid == ("not-a-number",)
    assert exclusion_list(None).valid == ()
    assert exclusion_list(["0086 138-0013-8000", 13900139000]).valid == ("+8613800138000", "+8613900139000")
