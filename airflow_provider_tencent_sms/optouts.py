"""Unsubscribe replies: which inbound texts are opt-outs, and the opt-out list they make (pure).

A reply is an opt-out when, once folded, it *is* one of the keywords: the whole reply, not a word
inside it. Folding is NFKC (full-width ``ＴＤ`` becomes ``TD``), then case folding, then dropping
whitespace, punctuation and invisible format characters at both ends (``"td."``, ``" 退订！"``,
``"【TD】"`` match). ``"TD please"``, ``"I will not TD"`` or ``"T D"`` do not: a reply that says more than
the keyword is a person writing, and Tencent's own marketing footers ask for the bare keyword
(e.g. 拒收请回复R). Single letters such as ``T`` and ``N`` are among the defaults for the same reason
they are safe: only a reply consisting of that letter alone counts.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from .recipients import normalise

DEFAULT_KEYWORDS = ("TD", "T", "N", "R", "退订", "取消", "拒收")
#: Unicode categories dropped at both ends of a reply: punctuation (P*), separators and spaces (Z*),
#: controls and format characters such as zero-width spaces (Cc, Cf).
_TRIMMED = ("P", "Z", "Cc", "Cf")


def fold(text: str) -> str:
    """A reply or keyword in the form they are compared in (see the module docstring)."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    start, end = 0, len(folded)
    while start < end and _trimmed(folded[start]):
        start += 1
    while end > start and _trimmed(folded[end - 1]):
        end -= 1
    return folded[start:end]


def _trimmed(char: str) -> bool:
    return char.isspace() or unicodedata.category(char).startswith(_TRIMMED)


@dataclass(frozen=True)
class Keywords:
    """A set of unsubscribe keywords; ``keywords.matches(reply)`` tells whether a reply is an opt-out.

    :param words: the keywords, in any case or width.
    :raises ValueError: for no keywords, or one that is nothing but whitespace and punctuation.
    """

    words: frozenset[str]

    @classmethod
    def of(cls, words: Iterable[str] = DEFAULT_KEYWORDS) -> Keywords:
        if isinstance(words, str):
            raise TypeError("keywords must be a list of words, not one string")
        folded = set()
        for word in words:
            if not isinstance(word, str) or not fold(word):
                raise ValueError(
                    f"Unsubscribe keyword {word!r} is empty once whitespace and punctuation are removed"
                )
            folded.add(fold(word))
        if not folded:
            raise ValueError("Give at least one unsubscribe keyword, e.g. ['TD', '退订']")
        return cls(frozenset(folded))

    def matches(self, reply: str) -> bool:
        return fold(reply) in self.words


@dataclass(frozen=True, repr=False)
class OptOuts:
    """The outcome of :func:`opt_outs`."""

    #: Unique E.164 numbers, in the order their first opt-out reply came.
    numbers: tuple[str, ...]
    #: How many replies were opt-outs, repeats included.
    replies: int
    #: Opt-out replies whose number could not be read as a phone number (reported, not kept).
    invalid: int

    def __repr__(self) -> str:
        return f"OptOuts(numbers={len(self.numbers)}, replies={self.replies}, invalid={self.invalid})"


def opt_outs(
    replies: Iterable[tuple[str, str]],
    keywords: Keywords | None = None,
    default_region: str = "CN",
) -> OptOuts:
    """The numbers that asked to be left out, normalised and deduplicated like recipients are.

    :param replies: ``(phone_number, reply_text)`` pairs, in the order they came.
    :param keywords: the unsubscribe keywords; :data:`DEFAULT_KEYWORDS` by default.
    :param default_region: the region of numbers without ``+`` (see :func:`~.recipients.normalise`).
    """
    words = keywords or Keywords.of()
    numbers = [number for number, text in replies if words.matches(text)]
    normalised = normalise(numbers, default_region)
    return OptOuts(normalised.valid, len(numbers), len(normalised.invalid))


def merge(existing: Iterable[str], new: Iterable[str], default_region: str = "CN") -> tuple[str, ...]:
    """An opt-out list with ``new`` numbers added after ``existing`` ones, each number once, in E.164.

    Numbers of ``existing`` that are not phone numbers are dropped.
    """
    return normalise([*existing, *new], default_region).valid
