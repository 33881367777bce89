"""Audiences and batch plans in compact form, for sends of millions: numbers as 64-bit integers.

An E.164 number is ``+`` and at most 15 digits, so its digits fit an int64 without loss (``+8613800138000``
is ``8613800138000``). Ten million numbers are 80 MB in an ``array('q')`` where a tuple of strings takes
about 700 MB; a batch is a range of such an array, turned into a :class:`~.batching.Batch` only when it
is sent. Pure: no Airflow, no I/O.

Deduplicating a file without holding every number as a Python object at once: numbers are spread over
:data:`BUCKETS` arrays by their low bits (equal numbers land together), and each bucket is deduplicated
alone. A file's plan is therefore in bucket order, first-seen order within a bucket: deterministic for a
given file, and independent of anything else.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import sys
from array import array
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence, Set
from dataclasses import dataclass, field, replace
from itertools import compress, filterfalse
from typing import overload

from .batching import MAX_BATCH_SIZE, Batch, _split_by_class
from .phone import mask
from .recipients import MAINLAND_CHINA_PREFIX, Audience, _check_region, _not_cn_mobiles, _other_to_e164
from .shards import Shard
from .sources import RowChunk

#: Buckets for deduplication: 10 million numbers make buckets of about 150,000, whose dict fits in cache.
BUCKETS = 64
#: Batches a plan keeps once built: the sender looks a batch up when it sends it and again when the answer
#: comes, with up to its in-flight limit of others in between. About 13 KB each.
BUILT_BATCHES_KEPT = 1024
#: How many invalid entries are kept (masked) for messages; the rest are counted.
MAX_KEPT_INVALID = 100
_DIGEST_CHARS = 24

_Key = tuple[tuple[str, ...], bool]  # (template parameters, Mainland China)


@dataclass(frozen=True, slots=True, repr=False)
class Part:
    """Unique numbers that share template parameters and class (Mainland China or global)."""

    params: tuple[str, ...]
    mainland_china: bool
    #: E.164 digits as ints, in sending order.
    numbers: array[int]

    def __repr__(self) -> str:
        return f"Part(params={len(self.params)}, mainland_china={self.mainland_china}, numbers={len(self.numbers)})"


@dataclass(frozen=True, slots=True, repr=False)
class CompactAudience:
    """Who gets the message, as :class:`Part` s, and what was left out."""

    parts: tuple[Part, ...]
    #: Rows dropped as repeats of an earlier row (same number, same parameters).
    duplicates: int = 0
    #: Entries that are not phone numbers, and rows that could not be read.
    invalid_count: int = 0
    #: The first :data:`MAX_KEPT_INVALID` of them: ``(position or row, masked entry or what is wrong)``.
    invalid_entries: tuple[tuple[int, str], ...] = ()
    #: Whether positions are rows of a file (from 1) rather than positions in a list (from 0).
    positions_are_rows: bool = False
    #: Recipients left out because they are on an exclusion (opt-out) list.
    excluded: int = 0

    @property
    def recipients(self) -> int:
        return sum(len(part.numbers) for part in self.parts)

    @property
    def params(self) -> list[tuple[str, ...]]:
        """The distinct template parameters, in first-seen order."""
        return list(dict.fromkeys(part.params for part in self.parts))

    @classmethod
    def from_audience(cls, audience: Audience, shard: Shard | None = None) -> CompactAudience:
        """The compact form of a list's audience, keeping its order; only ``shard`` 's numbers if given."""
        parts = []
        for params, numbers in audience.groups.items():
            kept = numbers if shard is None else [n for n in numbers if shard.holds(n)]
            for part, mainland_china in _split_by_class(kept):
                parts.append(Part(params, mainland_china, array("q", map(int, part))))
        entries = tuple((i, mask(raw)) for i, raw in audience.invalid_entries()[:MAX_KEPT_INVALID])
        return cls(tuple(parts), audience.duplicates, len(audience.invalid), entries)

    def without(self, excluded: Set[str]) -> CompactAudience:
        """This audience less the E.164 numbers in ``excluded``, which it counts in ``excluded``."""
        if not excluded:
            return self
        drop = {int(number[1:]) for number in excluded}
        parts = []
        removed = 0
        for part in self.parts:
            kept = array("q", filterfalse(drop.__contains__, part.numbers))
            removed += len(part.numbers) - len(kept)
            if kept:
                parts.append(Part(part.params, part.mainland_china, kept))
        return replace(self, parts=tuple(parts), excluded=self.excluded + removed)

    def __repr__(self) -> str:
        return (
            f"CompactAudience(parts={len(self.parts)}, recipients={self.recipients}, "
            f"duplicates={self.duplicates}, invalid={self.invalid_count}, excluded={self.excluded})"
        )


@dataclass
class _Collector:
    region: str
    shard: Shard | None
    #: The parameters of rows that have none of their own.
    params: tuple[str, ...] = ()
    #: Per bucket: (parameters, class) -> numbers, with repeats.
    buckets: list[dict[_Key, array[int]]] = field(default_factory=lambda: [{} for _ in range(BUCKETS)])
    #: (parameters, class) in first-seen order: the order of the plan's parts.
    keys: dict[_Key, None] = field(default_factory=dict)
    invalid_count: int = 0
    invalid_entries: list[tuple[int, str]] = field(default_factory=list)

    def invalid(self, row: int, entry: str) -> None:
        self.invalid_count += 1
        if len(self.invalid_entries) < MAX_KEPT_INVALID:
            self.invalid_entries.append((row, entry))

    def add(self, chunk: RowChunk) -> None:
        numbers = chunk.numbers
        others = _not_cn_mobiles(numbers) if numbers else set()
        problems = [(row, f"({problem})") for row, problem in chunk.bad_rows]
        pending: dict[_Key, list[int]] = {}
        if chunk.params is None:
            # Canonical Mainland mobiles, the bulk of large lists, are selected and converted in C; only the
            # other rows are looked at one by one.
            self.bucket((self.params, True), array("q", map(int, filterfalse(others.__contains__, numbers))))
            rows: Iterable[tuple[int, str, tuple[str, ...]]] = (
                (row, raw, self.params)
                for row, raw in compress(
                    zip(chunk.rows, numbers, strict=True), map(others.__contains__, numbers)
                )
            )
        else:
            rows = zip(chunk.rows, numbers, chunk.params, strict=True)
        verdicts = {raw: _other_to_e164(raw, self.region) for raw in others}
        for row, raw, params in rows:
            e164 = verdicts.get(raw, raw)
            if e164 is None:
                problems.append((row, mask(raw)))
                continue
            pending.setdefault((params, e164.startswith(MAINLAND_CHINA_PREFIX)), []).append(int(e164))
        for row, problem in sorted(problems):
            self.invalid(row, problem)
        for key, values in pending.items():
            self.bucket(key, array("q", values))

    def bucket(self, key: _Key, numbers: array[int]) -> None:
        if self.shard is not None:
            numbers = array("q", filter(self.shard.holds_int, numbers))
        self.keys.setdefault(key, None)
        low_bits = BUCKETS - 1
        if len(numbers) < BUCKETS:
            # Personalised rows come a few per key: an array in every bucket for each would cost more.
            for number in numbers:
                self.buckets[number & low_bits].setdefault(key, array("q")).append(number)
            return
        appends = [bucket.setdefault(key, array("q")).append for bucket in self.buckets]
        for number in numbers:
            appends[number & low_bits](number)

    def result(self, positions_are_rows: bool) -> CompactAudience:
        merged: dict[_Key, array[int]] = {key: array("q") for key in self.keys}
        duplicates = 0
        several_params = len({params for params, _ in self.keys}) > 1
        for index, bucket in enumerate(self.buckets):
            owners: dict[int, tuple[str, ...]] = {}
            for key, numbers in bucket.items():
                unique = dict.fromkeys(numbers)
                duplicates += len(numbers) - len(unique)
                if several_params:
                    _claim(owners, unique, key[0])
                merged[key].extend(unique)
            self.buckets[index] = {}  # each bucket's memory goes as soon as it is merged
        parts = tuple(
            Part(params, mainland, numbers) for (params, mainland), numbers in merged.items() if numbers
        )
        return CompactAudience(
            parts, duplicates, self.invalid_count, tuple(self.invalid_entries), positions_are_rows
        )


def _claim(owners: dict[int, tuple[str, ...]], numbers: Iterable[int], params: tuple[str, ...]) -> None:
    for number in numbers:
        if owners.setdefault(number, params) != params:
            raise ValueError(
                f"{mask(f'+{number}')} is in more than one row with different template parameters; it would "
                "receive two messages. Keep one row per number."
            )


def compact_audience(
    chunks: Iterable[RowChunk],
    default_region: str = "CN",
    shard: Shard | None = None,
    template_params: tuple[str, ...] = (),
) -> CompactAudience:
    """Normalise, validate and deduplicate the rows of a recipients file, in bounded memory.

    The rules of :func:`~.recipients.normalise` and :func:`~.recipients.personalised`: numbers in E.164,
    the same number twice with the same parameters sent once, with different parameters an error.

    :param chunks: the rows, as :func:`~.sources.read_rows` yields them.
    :param default_region: ISO 3166-1 alpha-2 code for numbers without ``+``.
    :param shard: keep only this shard's numbers.
    :param template_params: the parameters of every row, for files without parameter columns.
    :raises ValueError: for an unknown region or a number with two sets of parameters.
    """
    collector = _Collector(_check_region(default_region), shard, template_params)
    for chunk in chunks:
        collector.add(chunk)
    return collector.result(positions_are_rows=True)


class BatchPlan(Sequence[Batch]):
    """The SendSms requests of a send: consecutive runs of at most ``max_size`` numbers of each part.

    Batches are built when indexed; the ledger refers to them by index, as it does to any plan.

    :param parts: the audience's parts, in sending order.
    :param max_size: the most numbers in one request, 1 to 200.
    """

    def __init__(self, parts: Sequence[Part], max_size: int = MAX_BATCH_SIZE) -> None:
        if not 1 <= max_size <= MAX_BATCH_SIZE:
            raise ValueError(f"max_size must be between 1 and {MAX_BATCH_SIZE}, got {max_size}.")
        self.parts = [part for part in parts if part.numbers]
        self.max_size = max_size
        self._first_batch = []
        count = 0
        for part in self.parts:
            self._first_batch.append(count)
            count += -(-len(part.numbers) // max_size)
        self._count = count
        self._built: OrderedDict[int, Batch] = OrderedDict()

    def __len__(self) -> int:
        return self._count

    @overload
    def __getitem__(self, index: int) -> Batch: ...
    @overload
    def __getitem__(self, index: slice) -> list[Batch]: ...
    def __getitem__(self, index: int | slice) -> Batch | list[Batch]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._count))]
        if index < 0:
            index += self._count
        built = self._built.get(index)
        if built is not None:
            self._built.move_to_end(index)
            return built
        part, start = self._locate(index)
        numbers = part.numbers[start : start + self.max_size]
        # One %-format of the whole batch, in C: a fifth faster than formatting each number in a generator.
        built = Batch(
            tuple(("+%d " * len(numbers) % tuple(numbers)).split()), part.params, part.mainland_china
        )
        self._built[index] = built
        if len(self._built) > BUILT_BATCHES_KEPT:
            self._built.popitem(last=False)
        return built

    def __iter__(self) -> Iterator[Batch]:
        return (self[i] for i in range(self._count))

    def _locate(self, index: int) -> tuple[Part, int]:
        if index < 0:
            index += self._count
        if not 0 <= index < self._count:
            raise IndexError(f"batch {index} is outside a plan of {self._count}")
        at = bisect.bisect_right(self._first_batch, index) - 1
        return self.parts[at], (index - self._first_batch[at]) * self.max_size

    def number(self, batch: int, position: int) -> str:
        """The E.164 number at ``position`` of batch ``batch``, without building the batch."""
        part, start = self._locate(batch)
        return f"+{part.numbers[start + position]}"

    def sizes(self) -> list[int]:
        """Each batch's number of recipients."""
        sizes = []
        for part in self.parts:
            full, rest = divmod(len(part.numbers), self.max_size)
            sizes += [self.max_size] * full + ([rest] if rest else [])
        return sizes

    @property
    def recipients(self) -> int:
        return sum(len(part.numbers) for part in self.parts)

    def digest(self) -> str:
        """A digest of the whole plan, equal for equal plans in any process: compared with the one stored by
        an earlier try, it tells whether the recipients or parameters changed in between."""
        digest = hashlib.sha256(f"compact-plan/1 {self.max_size}\n".encode())
        for part in self.parts:
            digest.update(json.dumps([part.params, part.mainland_china, len(part.numbers)]).encode())
            digest.update(_big_endian(part.numbers))
        return digest.hexdigest()[:_DIGEST_CHARS]


def _big_endian(numbers: array[int]) -> bytes:
    if sys.byteorder == "big":
        return numbers.tobytes()
    swapped = array("q", numbers)
    swapped.byteswap()
    return swapped.tobytes()
