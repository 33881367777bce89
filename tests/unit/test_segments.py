"""Billed segments: Tencent's Mainland China rule and GSM-7 / UCS-2 (3GPP TS 23.038) for global numbers."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from airflow_provider_tencent_sms.segments import (
    GSM7_BASIC,
    GSM7_EXTENSION,
    Encoding,
    encoding,
    message_text,
    placeholder_count,
    render,
    segments,
)

GSM_PLAIN = st.text(alphabet=sorted(GSM7_BASIC), max_size=700)


@pytest.mark.parametrize(
    ("length", "billed"),
    [(0, 1), (1, 1), (70, 1), (71, 2), (67 * 2, 2), (67 * 2 + 1, 3), (67 * 10, 10), (67 * 10 + 1, 11)],
)
def test_mainland_counts_characters_70_then_67(length: int, billed: int) -> None:
    assert segments("短" * length, mainland=True) == billed
    # Latin letters count the same as Chinese characters.
    assert segments("x" * length, mainland=True) == billed


def test_mainland_counts_the_signature() -> None:
    # 【Airflow】 is 9 characters: 61 more fit one SMS, 62 do not.
    assert segments(message_text("Airflow", "x" * 61), mainland=True) == 1
    assert segments(message_text("Airflow", "x" * 62), mainland=True) == 2
    assert message_text(None, "body") == "body"


@pytest.mark.parametrize(
    ("length", "billed"),
    [(160, 1), (161, 2), (153 * 2, 2), (153 * 2 + 1, 3), (153 * 3, 3)],
)
def test_gsm7_160_then_153(length: int, billed: int) -> None:
    text = "a" * length
    assert encoding(text, mainland=False) is Encoding.GSM7
    assert segments(text, mainland=False) == billed


def test_gsm7_extension_characters_count_two() -> None:
    assert segments("€" * 80, mainland=False) == 1  # 160 septets
    assert segments("€" * 79 + "ab", mainland=False) == 1
    assert segments("€" * 79 + "abc", mainland=False) == 2  # 161 septets
    for char in "\f^{}\\[]~|€":
        assert segments(char * 80, mainland=False) == 1
        assert segments(char * 81, mainland=False) == 2


def test_an_escape_pair_is_not_split_across_parts() -> None:
    # 152 + 77 * 2 = 306 septets would fill two parts of 153 exactly, but the first euro does not fit
    # the one septet left in part one: it starts part two, and the last euro needs a third.
    assert segments("a" * 152 + "€" * 77, mainland=False) == 3
    assert segments("a" * 153 + "€" * 76, mainland=False) == 2


def test_one_character_outside_gsm7_makes_the_whole_text_ucs2() -> None:
    assert segments("a" * 71, mainland=False) == 1
    assert encoding("a" * 70 + "中", mainland=False) is Encoding.UCS2
    assert segments("a" * 69 + "中", mainland=False) == 1
    assert segments("a" * 70 + "中", mainland=False) == 2
    # Accented letters of the GSM alphabet stay GSM-7; others do not.
    assert encoding("èéùìòÇÄÖÑÜäöñüà", mainland=False) is Encoding.GSM7
    assert encoding("ł", mainland=False) is Encoding.UCS2


@pytest.mark.parametrize(("length", "billed"), [(70, 1), (71, 2), (67 * 2, 2), (67 * 2 + 1, 3)])
def test_ucs2_70_then_67(length: int, billed: int) -> None:
    assert segments("中" * length, mainland=False) == billed


def test_emoji_outside_the_bmp_count_two_utf16_units() -> None:
    assert segments("😀" * 35, mainland=False) == 1  # 70 units
    assert segments("😀" * 36, mainland=False) == 2  # 72 units: 33 emoji per part of 67
    assert segments("😀" * 66, mainland=False) == 2
    assert segments("😀" * 67, mainland=False) == 3
    # A surrogate pair is not split: 66 + 34 * 2 = 134 units, but the first emoji starts part two.
    assert segments("中" * 66 + "😀" * 34, mainland=False) == 3
    # Mainland rules count an emoji as one character.
    assert segments("😀" * 70, mainland=True) == 1


@given(GSM_PLAIN)
def test_plain_gsm7_is_ceiling_of_153_beyond_160(text: str) -> None:
    expected = 1 if len(text) <= 160 else math.ceil(len(text) / 153)
    assert segments(text, mainland=False) == expected


@given(st.text(max_size=400))
def test_mainland_is_ceiling_of_67_beyond_70(text: str) -> None:
    expected = 1 if len(text) <= 70 else math.ceil(len(text) / 67)
    assert segments(text, mainland=True) == expected


@given(st.text(max_size=300), st.text(min_size=1, max_size=50))
def test_a_longer_text_never_costs_less(text: str, more: str) -> None:
    for mainland in (True, False):
        assert segments(text + more, mainland) >= segments(text, mainland) >= 1


@given(st.text(max_size=300))
def test_global_never_costs_more_than_ucs2_with_every_character_two_units(text: str) -> None:
    units = 2 * len(text)
    assert segments(text, mainland=False) <= (1 if units <= 70 else math.ceil(units / 66))


def test_gsm7_tables() -> None:
    # 128 code points in the default alphabet, one of them the escape to the extension table.
    assert len(GSM7_BASIC) == 127
    assert "\x1b" not in GSM7_BASIC
    assert not GSM7_BASIC & GSM7_EXTENSION


def test_placeholder_count_is_the_highest_placeholder() -> None:
    assert placeholder_count("Your code is {1}, valid for {2} minutes.") == 2
    assert placeholder_count("{1} and {1} again") == 1
    assert placeholder_count("no parameters") == 0
    assert placeholder_count("{3} only") == 3
    assert placeholder_count("{10}{2}") == 10
    assert placeholder_count("{a} {} {-1}") == 0


def test_render_puts_each_parameter_in_once() -> None:
    assert render("{2} before {1}, {2} again", ["a", "b"]) == "b before a, b again"
    # A parameter that looks like a placeholder is text, not substituted again.
    assert render("{1} {2}", ["{2}", "x"]) == "{2} x"
    # Missing parameters leave their placeholder, so a mismatch is visible.
    assert render("{1} {2}", ["only"]) == "only {2}"
    assert render("{10}", [str(i) for i in range(1, 11)]) == "10"
