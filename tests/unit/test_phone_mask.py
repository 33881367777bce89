"""Masking hides the same digits of a number whatever its formatting."""

from __future__ import annotations

import pytest

from airflow_provider_tencent_sms.phone import mask


@pytest.mark.parametrize(
    "spelling", ["13800138000", "138-0013-8000", "138 0013 8000", "(138) 0013-8000", " 138.0013.8000 "]
)
def test_separators_change_nothing(spelling):
    assert mask(spelling) == "138****8000"


def test_the_e164_form_hides_the_same_digits_as_the_national_one():
    assert mask("+8613800138000") == mask("+86 138 0013 8000") == "+86138****8000"
    assert "0013" not in mask("+8613800138000") and "0013" not in mask("138-0013-8000")


@pytest.mark.parametrize(
    ("entry", "masked"),
    [
        ("+861380013800099", "+86138****0099"),  # at most five leading digits are shown
        ("+16502530000", "+165****0000"),
        ("1234567", "****67"),  # short entries show at most two digits
        ("555", "****"),
        ("hello", "****"),
        ("", "****"),
    ],
)
def test_short_and_long_entries(entry, masked):
    assert mask(entry) == masked


@pytest.mark.parametrize("number", ["+8613800138000", "13800138000", "+16502530000", "+447911123456"])
def test_never_more_than_all_but_eight_digits_are_shown(number):
    shown = sum(c.isdigit() for c in mask(number))
    assert shown <= sum(c.isdigit() for c in number) - 4
