"""Which shard of a sharded send a recipient belongs to: a stable hash of the E.164 number.

Every shard reads the whole input and keeps its own numbers, so the split cannot depend on the file's order,
on which worker runs a shard or on the Python process (Python's ``hash`` of a string changes per process).
The first 8 bytes of BLAKE2b over the E.164 text, read big-endian, modulo the shard count: anyone can compute
it (``hashlib.blake2b(b"+8613800138000", digest_size=8)``) to check or pre-split a list.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Shard:
    """One shard of ``count``: the recipients whose number hashes to ``index``."""

    index: int
    count: int

    def __post_init__(self) -> None:
        for name, value in (("shards", self.count), ("shard", self.index)):
            if not isinstance(value, int) or isinstance(value, bool):
                raise TypeError(f"{name} must be an int, got {value!r}")
        if self.count < 1:
            raise ValueError(f"shards must be at least 1, got {self.count}")
        if not 0 <= self.index < self.count:
            raise ValueError(f"shard must be between 0 and shards - 1 = {self.count - 1}, got {self.index}")

    def holds(self, e164: str) -> bool:
        """Whether the number (in E.164) is this shard's."""
        return shard_of(e164, self.count) == self.index

    def holds_int(self, e164_digits: int) -> bool:
        """:meth:`holds` for a number given as its E.164 digits as an int (``8613800138000``)."""
        return shard_of(f"+{e164_digits}", self.count) == self.index


def shard_of(e164: str, shards: int) -> int:
    """The shard (0 to ``shards - 1``) of a number in E.164, the same in every process and release."""
    digest = hashlib.blake2b(e164.encode("ascii"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % shards
