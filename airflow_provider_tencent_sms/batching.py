"""Splitting recipients into SendSms requests: pure, deterministic planning (no Airflow, no I/O)."""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import filterfalse, islice

from .phone import mask
from .recipients import MAINLAND_CHINA_PREFIX

#: Tencent's limit on ``PhoneNumberSet`` (``LimitExceeded.PhoneNumberCountLimit`` above it).
MAX_BATCH_SIZE = 200
# 96 bits: collisions among even a million batches have a chance below 1e-16.
_DIGEST_CHARS = 24
# In newline-joined numbers with a line break at both ends, the lines that are not +86 numbers.
_NOT_MAINLAND_LINE = re.compile(rf"\n(?!{re.escape(MAINLAND_CHINA_PREFIX)})([^\n]*)(?=\n)")


@dataclass(frozen=True, slots=True, repr=False)
class Batch:
    """The recipients and template parameters of one SendSms request."""

    #: E.164 numbers, at most 200, all Mainland China or all global.
    numbers: tuple[str, ...]
    #: The values of the template's ``{1}``, ``{2}``, ... for every number in the batch.
    template_params: tuple[str, ...]
    #: Whether the numbers are +86 ones (which need ``SignName``).
    mainland_china: bool
    #: A hex digest of the parameters and numbers, the same in every process and on every
    #: retry: use it to remember which batches were already sent.
    key: str = field(init=False, compare=False)

    def __post_init__(self) -> None:
        if not 1 <= len(self.numbers) <= MAX_BATCH_SIZE:
            raise ValueError(f"A batch has 1 to {MAX_BATCH_SIZE} numbers, not {len(self.numbers)}.")
        joined = "\n".join(self.numbers)
        # Without line breaks inside numbers, the joined text tells the numbers apart, and the
        # JSON of the parameters ends unambiguously: the encoding is injective. It is 8 times
        # as fast as JSON-encoding the numbers too, which adds up over 5000 batches.
        if joined.count("\n") != len(self.numbers) - 1:
            raise ValueError("Batch numbers must be E.164 numbers; one contains a line break.")
        encoded = f"{json.dumps(self.template_params)}\n{joined}".encode()
        object.__setattr__(self, "key", hashlib.sha256(encoded).hexdigest()[:_DIGEST_CHARS])

    def __repr__(self) -> str:
        # Neither numbers nor parameters (which may be verification codes) belong in logs.
        return f"Batch(key={self.key!r}, size={len(self.numbers)}, mainland_china={self.mainland_china})"


def plan_batches(
    groups: Mapping[tuple[str, ...], Sequence[str]], max_size: int = MAX_BATCH_SIZE
) -> list[Batch]:
    """Plan the fewest SendSms requests that reach every number once.

    Each group (one set of template parameters) is split into its Mainland China and its
    global numbers, since Tencent refuses requests that mix them, and each part is cut into
    consecutive batches of ``max_size`` (the last one shorter): ``ceil(n / max_size)`` batches
    per part, which is the fewest possible. The plan follows the input order: groups in
    mapping order, within a group the class of its first number first, numbers in their order.
    The same input always gives the same batches with the same keys.

    :param groups: template parameters -> E.164 numbers, as :func:`~.recipients.normalise`
        and :func:`~.recipients.personalised` produce them (numbers are not validated again).
    :param max_size: the most numbers in one batch, 1 to 200.
    :return: the batches, in sending order.
    :raises ValueError: if ``max_size`` is out of range or a number appears more than once,
        which would send it two messages.
    :raises TypeError: if parameters are not a tuple of strings or numbers is a single string.
    """
    if not 1 <= max_size <= MAX_BATCH_SIZE:
        raise ValueError(f"max_size must be between 1 and {MAX_BATCH_SIZE}, got {max_size}.")
    batches: list[Batch] = []
    planned: set[str] = set()
    for params, numbers in groups.items():
        _check_group(params, numbers)
        before = len(planned)
        planned.update(numbers)
        if len(planned) - before != len(numbers):
            raise ValueError(
                f"{mask(_first_repeat(groups))} appears more than once in the recipients; "
                "it would be sent two messages."
            )
        for part, mainland_china in _split_by_class(numbers):
            # islice() cuts the batches in the same pass that selects the numbers.
            remaining = iter(part)
            while batch_numbers := tuple(islice(remaining, max_size)):
                batches.append(Batch(batch_numbers, params, mainland_china))
    return batches


def _split_by_class(numbers: Sequence[str]) -> list[tuple[Iterable[str], bool]]:
    """The Mainland China and the global numbers, each in order, the class of the first first.

    Every pass over a million strings costs 0.1-0.2 s in cache misses, so the (usually few)
    global numbers are found with one regex over the joined numbers, and the Mainland ones
    are selected lazily, in C, during the pass that cuts them into batches.
    """
    if not numbers:
        return []
    joined = "\n".join(numbers)
    if joined.count("\n") != len(numbers) - 1:
        raise ValueError("Numbers must be E.164 numbers; one contains a line break.")
    global_numbers = _NOT_MAINLAND_LINE.findall(f"\n{joined}\n")
    if not global_numbers:
        return [(numbers, True)]
    if len(global_numbers) == len(numbers):
        return [(numbers, False)]
    # Numbers are unique (checked by the caller), so membership tells them apart exactly.
    is_global = set(global_numbers).__contains__
    parts: list[tuple[Iterable[str], bool]] = [
        (filterfalse(is_global, numbers), True),
        (global_numbers, False),
    ]
    if is_global(numbers[0]):
        parts.reverse()
    return parts


def _check_group(params: object, numbers: object) -> None:
    if not isinstance(params, tuple):
        raise TypeError(f"Template parameters must be a tuple of strings, not a {type(params).__name__}.")
    for value in params:
        if not isinstance(value, str):
            raise TypeError(f"Template parameters must be strings, not {type(value).__name__}.")
    if isinstance(numbers, str):
        raise TypeError("The numbers of a group must be a sequence of strings, not one string.")


def _first_repeat(groups: Mapping[tuple[str, ...], Sequence[str]]) -> str:
    counts = Counter(number for numbers in groups.values() for number in numbers)
    return next(number for number, count in counts.items() if count > 1)
