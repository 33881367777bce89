"""Unsubscribe keywords and the opt-out list built from replies."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from airflow_provider_tencent_sms.optouts import DEFAULT_KEYWORDS, Keywords, fold, merge, opt_outs

DEFAULTS = Keywords.of()


@pytest.mark.parametrize(
    "reply",
    [
        "TD",
        "td",
        "Td",
        "ＴＤ",  # full-width, as typed with a Chinese input method
        "ｔｄ",
        " TD ",
        "TD.",
        "TD!",
        "td。",
        "【TD】",
        "\u200btd\u200b",  # zero-width spaces around
        "\tR\n",
        "r",
        "N",
        "t",
        "退订",
        " 退订！",
        "取消",
        "拒收",
        "“拒收”",
    ],
)
def test_a_reply_that_is_a_keyword_is_an_opt_out(reply: str) -> None:
    assert DEFAULTS.matches(reply)


@pytest.mark.parametrize(
    "reply",
    [
        "",
        "   ",
        "TD please",
        "please TD",
        "I will not TD",
        "T D",
        "TDD",
        "好的",
        "退订了吗？",
        "不要退订",
        "Thanks",
        "NO",
        "Yes",
        "TD 👍",  # an emoji is a symbol, not punctuation: the reply says more than the keyword
    ],
)
def test_a_reply_that_says_more_is_not(reply: str) -> None:
    assert not DEFAULTS.matches(reply)


def test_fold_trims_only_the_ends() -> None:
    assert fold("  ＴＤ！ ") == "td"
    assert fold("t.d") == "t.d"
    assert fold("!!!") == ""


def test_keywords_are_configurable_and_folded_too() -> None:
    stop = Keywords.of(["STOP", "ＵＮＳＵＢＳＣＲＩＢＥ"])
    assert stop.matches("stop")
    assert stop.matches("Unsubscribe!")
    assert not stop.matches("TD")
    assert Keywords.of() == Keywords.of(DEFAULT_KEYWORDS)


@pytest.mark.parametrize("words", [[], ["TD", "  "], ["!!"]])
def test_empty_keywords_are_refused(words: list[str]) -> None:
    with pytest.raises(ValueError, match="keyword"):
        Keywords.of(words)


def test_one_string_is_not_a_keyword_list() -> None:
    with pytest.raises(TypeError, match="list of words"):
        Keywords.of("TD")  # would otherwise be the keywords T and D


@given(st.sampled_from(DEFAULT_KEYWORDS), st.text(alphabet=" \t.,!?。，！？【】", max_size=4))
def test_keywords_match_with_any_surrounding_punctuation(keyword: str, around: str) -> None:
    assert DEFAULTS.matches(around + keyword.lower() + around)


@given(st.sampled_from(DEFAULT_KEYWORDS), st.text(alphabet="abcxyz好的0123", min_size=1, max_size=4))
def test_keywords_with_words_attached_do_not_match(keyword: str, word: str) -> None:
    assert not DEFAULTS.matches(f"{keyword} {word}")
    assert not DEFAULTS.matches(f"{word} {keyword}")


def test_opt_outs_are_normalised_deduplicated_in_first_reply_order() -> None:
    replies = [
        ("+8613800138001", "好的"),
        ("+8613800138002", "退订"),
        ("13800138003", "TD"),
        ("+86 138 0013 8002", "td"),  # the same person again, another format
        ("+14155550100", "R"),
        ("not a number", "TD"),
        ("+8613800138004", "TD please call me"),
    ]
    result = opt_outs(replies)
    assert result.numbers == ("+8613800138002", "+8613800138003", "+14155550100")
    assert (result.replies, result.invalid) == (5, 1)
    assert "138" not in repr(result)


def test_opt_outs_with_other_keywords() -> None:
    result = opt_outs([("+14155550100", "STOP"), ("+14155550101", "TD")], Keywords.of(["stop"]))
    assert result.numbers == ("+14155550100",)


def test_merge_keeps_existing_first_and_adds_new_once() -> None:
    merged = merge(["+8613800138000", "13800138001"], ["+8613800138001", "+8613800138002"])
    assert merged == ("+8613800138000", "+8613800138001", "+8613800138002")
    assert merge([], []) == ()
