"""Recipients from a file: CSV with a header, JSON Lines or plain text, optionally gzipped, read as a stream.

The readers are pure functions over text streams that yield the rows in chunks, so a file of ten million
rows is never in memory at once; :func:`open_recipients` is the one place that opens a local path, a URI
(``file://``, ``s3://``, ``gs://``…, through Airflow's object storage and its connections) or an
``ObjectStoragePath``.

Rows are numbered as a person reading the file would: the first line is row 1 (for CSV that is the
header, so the first recipient is row 2). A CSV field with a line break inside counts as one row.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import chain, islice
from operator import itemgetter
from pathlib import Path, PurePosixPath
from typing import IO, Any, cast

from .recipients import _template_param as template_param

FORMATS = ("csv", "jsonl", "text")
PHONE_COLUMN = "phone_number"
#: Rows handed on at a time: large enough that per-chunk work in C dominates, small enough to stay a
#: few MB whatever the file's size.
CHUNK_ROWS = 65_536
#: CSV is read this many characters at a time (then to the end of the line).
_BLOCK_CHARS = 1 << 22
_SUFFIX_FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".txt": "text"}


@dataclass(slots=True)
class RowChunk:
    """Consecutive rows of a file: each row's raw phone number and, for personalised sends, parameters."""

    #: The ``phone_number`` of each readable row, as written.
    numbers: list[str]
    #: The row number of each of ``numbers``.
    rows: Sequence[int]
    #: Each row's template parameters, when the send is personalised.
    params: list[tuple[str, ...]] | None = None
    #: ``(row, what is wrong)`` for rows that could not be read at all.
    bad_rows: list[tuple[int, str]] = field(default_factory=list)


def format_of(name: str, recipients_format: str | None = None) -> str:
    """The format of a recipients file: ``recipients_format`` if given, else from the name's suffix.

    :param name: the file's name or path; a final ``.gz`` is ignored.
    :param recipients_format: ``csv``, ``jsonl`` or ``text`` to override the suffix.
    :raises ValueError: for an unknown format or a suffix that names none.
    """
    if recipients_format is not None:
        if recipients_format not in FORMATS:
            raise ValueError(
                f"recipients_format must be one of {', '.join(FORMATS)}, got {recipients_format!r}."
            )
        return recipients_format
    path = PurePosixPath(name)
    suffix = (PurePosixPath(path.stem) if path.suffix == ".gz" else path).suffix.lower()
    if suffix not in _SUFFIX_FORMATS:
        raise ValueError(
            f"Cannot tell the format of {path.name!r} from its suffix: name it .csv, .jsonl or .txt "
            "(optionally .gz), or pass recipients_format='csv', 'jsonl' or 'text'."
        )
    return _SUFFIX_FORMATS[suffix]


def read_rows(
    stream: IO[str],
    recipients_format: str,
    param_columns: Sequence[str] = (),
    *,
    allow_empty_params: bool = False,
) -> Iterator[RowChunk]:
    """The rows of a recipients file, in chunks of at most :data:`CHUNK_ROWS`.

    :param stream: the file as text (opened with ``newline=""`` for CSV).
    :param recipients_format: ``csv`` (a header with a ``phone_number`` column), ``jsonl`` (one object per
        line with a ``phone_number`` key) or ``text`` (one number per line; blank lines are skipped).
    :param param_columns: the columns (CSV) or keys (JSON Lines) holding the template parameters, in
        template order; none for a send where everybody gets the same message. Not for plain text.
    :param allow_empty_params: accept empty parameter values (refused by default).
    :raises ValueError: for a CSV header without the needed columns, parameters asked of a plain-text file,
        or an empty (unless allowed) or missing parameter value, naming the row.
    """
    if recipients_format == "csv":
        return _csv_rows(stream, tuple(param_columns), allow_empty_params)
    if recipients_format == "jsonl":
        return _jsonl_rows(stream, tuple(param_columns), allow_empty_params)
    if recipients_format == "text":
        if param_columns:
            raise ValueError(
                "A plain-text recipients file has numbers only: use CSV or JSON Lines for param_columns."
            )
        return _text_rows(stream)
    raise ValueError(f"recipients_format must be one of {', '.join(FORMATS)}, got {recipients_format!r}.")


def _csv_rows(stream: IO[str], param_columns: tuple[str, ...], allow_empty: bool) -> Iterator[RowChunk]:
    header = [name.strip() for name in next(csv.reader([stream.readline()]), [])]
    wanted = (PHONE_COLUMN, *param_columns)
    missing = [name for name in wanted if name not in header]
    if missing:
        raise ValueError(
            f"The CSV header ({', '.join(header) or 'empty'}) has no column {', '.join(map(repr, missing))}: "
            f"the first line must name the columns, one of them {PHONE_COLUMN!r}."
        )
    records = _Records([header.index(name) for name in wanted], param_columns, allow_empty)
    row = 1
    while text := stream.read(_BLOCK_CHARS):
        text += stream.readline()
        if '"' in text:
            # Quoting: the csv module reads the rest, since a quoted field may hold a line break.
            reader = csv.reader(chain(io.StringIO(text), stream))
            while batch := list(islice(reader, CHUNK_ROWS)):
                yield records.chunk(batch, row)
                row += len(batch)
            return
        # Without quotes a comma always separates fields: splitting lines is twice as fast as csv.
        lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        if not lines[-1]:
            lines.pop()
        if records.indices == [0] and "" not in lines:
            yield RowChunk([line.split(",", 1)[0] for line in lines], range(row + 1, row + 1 + len(lines)))
        else:
            yield records.chunk([line.split(",") for line in lines], row)
        row += len(lines)


@dataclass(frozen=True)
class _Records:
    """Picks the phone number and parameter columns out of CSV records."""

    indices: list[int]
    param_columns: tuple[str, ...]
    allow_empty: bool

    def chunk(self, records: list[list[str]], row: int) -> RowChunk:
        """The rows of ``records``, the first of which is row ``row + 1``; blank lines are skipped."""
        width = max(self.indices) + 1
        pick = itemgetter(*self.indices)
        rows: list[int] = []
        picked: list[Any] = []
        chunk = RowChunk([], rows)
        for at, record in enumerate(records, start=row + 1):
            if len(record) >= width and record != [""]:
                rows.append(at)
                picked.append(pick(record))
            elif any(value.strip() for value in record):
                chunk.bad_rows.append((at, f"has {len(record)} fields where the header needs {width}"))
        if not self.param_columns:
            chunk.numbers = picked
        else:
            chunk.numbers = [values[0] for values in picked]
            chunk.params = [
                _row_params(values[1:], self.param_columns, at, self.allow_empty)
                for values, at in zip(picked, rows, strict=True)
            ]
        return chunk


def _row_params(
    values: tuple[str, ...], names: tuple[str, ...], row: int, allow_empty: bool
) -> tuple[str, ...]:
    return tuple(
        template_param(value, f"Row {row}: column {name!r}", allow_empty)
        for value, name in zip(values, names, strict=True)
    )


def _jsonl_rows(stream: IO[str], param_keys: tuple[str, ...], allow_empty: bool) -> Iterator[RowChunk]:
    for start, lines in _line_chunks(stream):
        rows: list[int] = []
        chunk = RowChunk([], rows, [] if param_keys else None)
        for row, line in enumerate(lines, start=start):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except ValueError:
                chunk.bad_rows.append((row, "is not valid JSON"))
                continue
            number = item.get(PHONE_COLUMN) if isinstance(item, dict) else None
            if not isinstance(number, str | int) or isinstance(number, bool):
                chunk.bad_rows.append((row, f"is not a JSON object with a {PHONE_COLUMN!r} string"))
                continue
            if chunk.params is not None:
                absent = [key for key in param_keys if key not in item]
                if absent:
                    raise ValueError(f"Row {row} has no key {', '.join(map(repr, absent))} (param_columns).")
                chunk.params.append(
                    tuple(
                        template_param(item[key], f"Row {row}: key {key!r}", allow_empty)
                        for key in param_keys
                    )
                )
            rows.append(row)
            chunk.numbers.append(str(number))
        yield chunk


def _text_rows(stream: IO[str]) -> Iterator[RowChunk]:
    for start, lines in _line_chunks(stream):
        stripped = [line.strip() for line in lines]
        if all(stripped):
            yield RowChunk(stripped, range(start, start + len(lines)))
        else:
            kept = [(row, number) for row, number in enumerate(stripped, start=start) if number]
            yield RowChunk([number for _, number in kept], [row for row, _ in kept])


def _line_chunks(stream: IO[str]) -> Iterator[tuple[int, list[str]]]:
    """``(row number of the first line, lines)`` for consecutive chunks of lines."""
    start = 1
    while lines := list(islice(stream, CHUNK_ROWS)):
        yield start, lines
        start += len(lines)


def describe(source: Any) -> str:
    """A short name of a recipients source for messages (no credentials: a URI's user part is dropped)."""
    text = str(source)
    scheme, sep, rest = text.partition("://")
    if sep and "@" in rest.split("/", 1)[0]:
        rest = rest.split("@", 1)[1]
    return f"{scheme}{sep}{rest}"


@contextmanager
def open_recipients(source: Any, conn_id: str | None = None) -> Iterator[IO[str]]:
    """Open a recipients file as text, decompressing ``.gz``.

    :param source: a local path (a string or a ``pathlib.Path``), a URI (``file:///...``,
        ``s3://bucket/key``…) or an ``airflow.sdk.ObjectStoragePath``.
    :param conn_id: the Airflow connection of the storage, for URIs (not for local paths).
    """
    path: Any = source
    if isinstance(source, str):
        if "://" in source:
            from airflow.sdk import ObjectStoragePath

            path = ObjectStoragePath(source, conn_id=conn_id)
        else:
            path = Path(source)
    with path.open("rb") as raw:
        binary = cast("IO[bytes]", gzip.GzipFile(fileobj=raw)) if str(path).endswith(".gz") else raw
        # utf-8-sig: spreadsheet exports often start with a byte-order mark, which would rename the first column.
        with io.TextIOWrapper(binary, encoding="utf-8-sig", newline="") as text:
            yield text
