"""Recipients as plain data: reading what a DAG passes, normalising to E.164, deduplicating.

Everything here is pure (no Airflow, no I/O) so that it can be tested exhaustively and run on
a million numbers in about a second.

Validity rule, the same whatever the input format: a number is valid when its E.164 form is a
Mainland China mobile number (``+861[3-9]`` and 9 more digits), or has a known country calling
code followed by a national number of the general shape that country uses (``phonenumbers``'
per-region general pattern, e.g. ``[2-9]\\d{9}`` for the US), or is valid for ``phonenumbers``.
The first two checks are cheap and let canonical E.164 input skip ``phonenumbers`` (about
18 µs a number); they do not check number ranges, so a few numbers that pass them are not in
service (``+13800138000``, ``+8614000000000``): Tencent checks every number and reports those
one by one in ``SendStatusSet``. Mobile and fixed-line numbers are not told apart.
"""

from __future__ import annotations

import ast
import functools
import json
import re
from collections.abc import Iterable, Mapping, Sequence, Set
from dataclasses import dataclass
from itertools import filterfalse
from typing import Any, cast

import phonenumbers
from phonenumbers import NumberParseException, PhoneMetadata, PhoneNumberFormat

from .phone import mask

DEFAULT_REGION = "CN"
MAINLAND_CHINA_PREFIX = "+86"

#: A plain-text list is split on these wherever they appear (full-width forms included, as
#: typed with Chinese input methods).
_LIST_SEPARATORS = re.compile(r"[,;\r\n，；、]+")
#: A whitespace-separated token with at least this many digits counts as a whole number.
_MIN_DIGITS_IN_NUMBER = 7
_HAS_WHOLE_NUMBER_DIGITS = re.compile(rf"(?:\D*\d){{{_MIN_DIGITS_IN_NUMBER}}}")

# re.ASCII: without it \d would also accept full-width and other Unicode digits.
_CN_MOBILE = re.compile(r"\+861[3-9]\d{9}", re.ASCII)
# In newline-joined numbers with a line break at both ends, the lines that are not canonical
# Mainland mobiles. Starting with a literal lets the regex engine jump from line to line,
# three times as fast as testing every position for ^ in MULTILINE mode.
_NOT_CN_MOBILE_LINE = re.compile(r"\n(?!\+861[3-9]\d{9}\n)([^\n]*)(?=\n)", re.ASCII)
_E164_SHAPE = re.compile(r"\+[1-9]\d{7,14}", re.ASCII)
# +86 is left out: Mainland numbers are either the mobile pattern above or up to phonenumbers.
_CALLING_CODES = frozenset(str(code) for code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE) - {"86"}
# Letters would make phonenumbers read vanity numbers ("1-800-FLOWERS") and notes ("... abc")
# as digits: a list of SMS recipients has no business containing either.
_LETTER = re.compile(r"[^\W\d_]")

_ACCEPTED = (
    "a list, tuple or set of phone numbers (strings or ints), a string holding a JSON array or a "
    "Python list literal, or a string of numbers separated by commas, semicolons or new lines"
)


@dataclass(frozen=True, slots=True, repr=False)
class NormalisedRecipients:
    """The outcome of :func:`normalise`.

    ``len(valid) + duplicates + len(invalid)`` is the number of inputs.
    """

    #: Unique E.164 numbers in the order they first appeared.
    valid: tuple[str, ...]
    #: How many inputs were dropped because they are the same number as an earlier one.
    duplicates: int
    #: The inputs that are not phone numbers, unchanged and in order.
    invalid: tuple[str, ...]
    #: Where each of ``invalid`` was in the input (0-based).
    invalid_positions: tuple[int, ...] = ()

    def __repr__(self) -> str:
        # Counts only: a repr with a million numbers in it would flood logs with personal data.
        return (
            f"NormalisedRecipients(valid={len(self.valid)}, duplicates={self.duplicates}, "
            f"invalid={len(self.invalid)})"
        )


@dataclass(frozen=True, slots=True, repr=False)
class Audience:
    """The outcome of :func:`personalised`: recipients grouped by their template parameters.

    ``sum(len(n) for n in groups.values()) + duplicates + len(invalid)`` is the number of rows.
    """

    #: Template parameters -> unique E.164 numbers, both in the order they first appeared.
    groups: Mapping[tuple[str, ...], tuple[str, ...]]
    #: How many rows repeated an earlier row's number with the same parameters.
    duplicates: int
    #: The ``phone_number`` of each row that is not a phone number, as a string, in order.
    invalid: tuple[str, ...]
    #: The row (or list position) of each of ``invalid``, 0-based.
    invalid_positions: tuple[int, ...] = ()

    def invalid_entries(self) -> list[tuple[int, str]]:
        """``(position, entry)`` of each invalid entry, in input order."""
        return list(zip(self.invalid_positions, self.invalid, strict=True))

    def __repr__(self) -> str:
        recipients = sum(len(numbers) for numbers in self.groups.values())
        return (
            f"Audience(groups={len(self.groups)}, recipients={recipients}, "
            f"duplicates={self.duplicates}, invalid={len(self.invalid)})"
        )


def parse_phone_numbers(value: object) -> list[str]:
    """Read the recipients a DAG author passed, in any of the shapes templating produces.

    Accepted, in this order of checks:

    * ``None``: no recipients.
    * A string that starts with ``[``, ``(`` or ``{`` and is a JSON array or a Python list,
      tuple or set literal, such as Jinja renders for ``"{{ ti.xcom_pull(...) }}"``. It is read
      with :func:`json.loads` (also after swapping ``'`` for ``"`` when that is lossless, which
      keeps a million-element repr fast) and then :func:`ast.literal_eval`, never ``eval``. A
      string starting with ``[`` or ``{`` that is neither is an error; one starting with ``(``
      is read as text, since ``(650) 253-0000`` is a phone number.
    * Any other string is text. If it contains a comma, semicolon, ``、`` or line break
      (ASCII or full-width), it is split on those only, so ``0086 138-0013-8000`` stays one
      number. Otherwise it is split on whitespace only when every whitespace-separated part
      has at least 7 digits (``13800138000 13900139000`` is two numbers; ``+86 138 0013 8000``
      is one). Parts are stripped and empty parts dropped.
    * An int (not a bool): one number.
    * Any other iterable except bytes and mappings: its items, each a string (kept as is) or an
      int (converted with ``str``). A set is sorted, so that the order, and with it the batch
      keys, are the same in every process.

    The native list, its ``str()`` and its JSON text give the same result.

    :param value: the recipients, as described above.
    :return: the numbers as strings, not yet validated (see :func:`normalise`).
    :raises TypeError: for any other type, naming the accepted ones.
    :raises ValueError: for a string that looks like a list or set but cannot be read as one.
    """
    if value is None:
        return []
    if isinstance(value, str):
        return _parse_text(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return [str(value)]
    if isinstance(value, bytes | bytearray | memoryview | Mapping) or not isinstance(value, Iterable):
        raise TypeError(f"Phone numbers must be given as {_ACCEPTED}; got {type(value).__name__}.")
    numbers = list(value)
    # map(type) runs in C: a million strings are checked in 30 ms instead of 200.
    if set(map(type, numbers)) - {str}:
        numbers = [_number_item(item, index) for index, item in enumerate(numbers)]
    if isinstance(value, Set):
        numbers.sort()
    return numbers


def _number_item(item: object, index: int) -> str:
    if isinstance(item, str):
        return str(item)
    if isinstance(item, int) and not isinstance(item, bool):
        return str(item)
    raise TypeError(
        f"Phone number at position {index} is a {type(item).__name__}: each number must be a string "
        "or an int."
    )


def _parse_text(text: str) -> list[str]:
    stripped = text.strip()
    if not stripped:
        return []
    if stripped[0] in "[({":
        collection = _read_collection(stripped)
        if collection is not None:
            return parse_phone_numbers(collection)
        if stripped[0] != "(":
            raise ValueError(
                f"Phone numbers {stripped[:40]!r}... look like a list but are neither a JSON array "
                "nor a Python list literal."
            )
    if _LIST_SEPARATORS.search(stripped):
        parts = _LIST_SEPARATORS.split(stripped)
    else:
        parts = stripped.split()
        if not all(_HAS_WHOLE_NUMBER_DIGITS.match(part) for part in parts):
            parts = [stripped]
    return [number for number in (part.strip() for part in parts) if number]


def _read_collection(text: str) -> object | None:
    """The list, tuple, set or dict ``text`` spells in JSON or Python syntax, or None."""
    attempts = [text]
    # A Python repr of plain strings differs from JSON only in its quotes. When the text has no
    # double quote and no backslash, swapping quotes cannot change any string, and json reads a
    # million numbers in 0.1 s where ast.literal_eval takes 6 s and 1 GB.
    if "'" in text and '"' not in text and "\\" not in text:
        attempts.append(text.replace("'", '"'))
    for attempt in attempts:
        try:
            parsed: object = json.loads(attempt)
        except (ValueError, RecursionError):
            continue
        return parsed if isinstance(parsed, list | dict) else None
    try:
        parsed = ast.literal_eval(text)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None
    return parsed if isinstance(parsed, list | tuple | Set | dict) else None


def normalise(numbers: Iterable[str], default_region: str = DEFAULT_REGION) -> NormalisedRecipients:
    """Validate numbers, bring them to E.164 and drop repeats, keeping first-seen order.

    Canonical E.164 input (``+8613800138000``) takes a fast path; anything else is read with
    ``phonenumbers`` (once per distinct string), numbers without ``+`` in ``default_region``.
    With region ``CN``, ``13800138000``, ``0086 138-0013-8000``, ``+86 138 0013 8000`` and
    ``+8613800138000`` are one recipient. Numbers with letters or an extension are invalid.
    See the module docstring for what "valid" means.

    :param numbers: phone numbers as strings, e.g. the output of :func:`parse_phone_numbers`.
    :param default_region: ISO 3166-1 alpha-2 code used for numbers without a ``+``.
    :return: the valid numbers, how many duplicates were dropped and the invalid inputs.
    :raises ValueError: if ``default_region`` is not a region ``phonenumbers`` knows.
    :raises TypeError: if an item is not a string.
    """
    region = _check_region(default_region)
    items = numbers if isinstance(numbers, list | tuple) else list(numbers)
    try:
        # Every pass below runs in C except the ones over the (usually few) non-canonical
        # inputs: a Python-level loop over a million numbers would cost a second on its own.
        rewrites = {
            raw: e164 for raw in _not_cn_mobiles(items) if (e164 := _other_to_e164(raw, region)) != raw
        }
    except TypeError as error:
        raise TypeError(
            f"normalise() takes phone numbers as strings ({error}); read other input with "
            "parse_phone_numbers() first."
        ) from error
    if not rewrites:
        unique = tuple(dict.fromkeys(items))
        return NormalisedRecipients(unique, len(items) - len(unique), ())
    invalid: tuple[str, ...] = ()
    positions: tuple[int, ...] = ()
    if None in rewrites.values():
        positions = tuple(i for i, raw in enumerate(items) if raw in rewrites and rewrites[raw] is None)
        invalid = tuple(items[i] for i in positions)
    lookup = rewrites.get
    seen = dict.fromkeys([lookup(raw, raw) for raw in items])
    seen.pop(None, None)  # the invalid inputs' entry: only E.164 strings are left
    unique = tuple(cast("dict[str, None]", seen))
    return NormalisedRecipients(unique, len(items) - len(unique) - len(invalid), invalid, positions)


def _not_cn_mobiles(items: Sequence[str]) -> set[str]:
    """The distinct items that are not canonical Mainland mobiles."""
    joined = "\n".join(items)
    if joined.count("\n") == len(items) - 1:
        # One regex over the joined items finds them three times as fast as one call per item.
        return set(_NOT_CN_MOBILE_LINE.findall(f"\n{joined}\n"))
    # Some item has a line break inside, which would shift the lines: check item by item.
    return set(filterfalse(_CN_MOBILE.fullmatch, items))


def to_e164(number: str, default_region: str = DEFAULT_REGION) -> str | None:
    """One number in E.164, or None if it is not valid; the rules of :func:`normalise`.

    :param number: a phone number in any common format.
    :param default_region: ISO 3166-1 alpha-2 code used for a number without ``+``.
    :return: the E.164 form, e.g. ``+8613800138000``, or None.
    :raises ValueError: if ``default_region`` is not a region ``phonenumbers`` knows.
    """
    return _to_e164(number, _check_region(default_region))


def is_mainland_china(e164: str) -> bool:
    """Whether an E.164 number is a Mainland China (+86) number.

    Tencent refuses requests that mix these with global numbers, and only these need a
    signature (``SignName``).

    :param e164: a number in E.164 form.
    """
    return e164.startswith(MAINLAND_CHINA_PREFIX)


def parse_list(value: object, name: str) -> list[Any]:
    """Read a list-valued operator argument that templating may have rendered to text.

    For ``template_params`` and personalised ``recipients``: a list or tuple is taken as is; a
    string must be a JSON array or a Python list or tuple literal (read as
    :func:`parse_phone_numbers` reads one, never with ``eval``).

    :param value: the argument's value.
    :param name: the argument's name, for error messages.
    :return: a new list with the items.
    :raises TypeError: if ``value`` is neither a list, a tuple nor a string.
    :raises ValueError: if a string is not a list literal.
    """
    if isinstance(value, list | tuple):
        return list(value)
    if not isinstance(value, str):
        raise TypeError(
            f"{name} must be a list, or a string holding a JSON array or a Python list; got "
            f"{type(value).__name__}."
        )
    parsed = _read_collection(value.strip())
    if not isinstance(parsed, list | tuple):
        raise ValueError(f"{name} must be a JSON array or a Python list; got the text {value[:40]!r}.")
    return list(parsed)


def audience_for_numbers(
    phone_numbers: object,
    template_params: Iterable[object],
    default_region: str = DEFAULT_REGION,
    *,
    allow_empty_params: bool = False,
) -> Audience:
    """The audience of a send where everybody gets the same parameters.

    :func:`parse_phone_numbers`, then :func:`normalise`, with the parameters converted as
    :func:`personalised` converts them.

    :param phone_numbers: the recipients, in any form :func:`parse_phone_numbers` accepts.
    :param template_params: the template's parameters, the same for every recipient.
    :param default_region: ISO 3166-1 alpha-2 code used for numbers without ``+``.
    :param allow_empty_params: accept empty-string parameters (refused by default: most often a
        template that rendered nothing).
    :return: one group (none when no number is valid), the duplicate count, the invalid numbers.
    :raises TypeError: as :func:`parse_phone_numbers`, or for a parameter that is a collection.
    :raises ValueError: as :func:`parse_phone_numbers` and :func:`normalise`, or for a ``None``
        (or, unless allowed, empty) parameter.
    """
    params = tuple(
        _template_param(value, f"template_params[{i}]", allow_empty_params)
        for i, value in enumerate(template_params)
    )
    recipients = normalise(parse_phone_numbers(phone_numbers), default_region)
    groups = {params: recipients.valid} if recipients.valid else {}
    return Audience(groups, recipients.duplicates, recipients.invalid, recipients.invalid_positions)


def personalised(
    rows: Iterable[Mapping[str, Any]],
    default_region: str = DEFAULT_REGION,
    *,
    allow_empty_params: bool = False,
) -> Audience:
    """Group recipients that each have their own template parameters.

    Each row is a mapping with exactly two keys: ``phone_number`` (a string or an int) and
    ``template_params`` (a list or tuple; values that are not strings become ``str(value)``,
    ``None`` and nested collections are refused). Rows rendered to text by templating can be
    read with :func:`parse_list` first.

    The same number twice with the same parameters is a duplicate and is sent once. The same
    number with different parameters is an error: it would get two messages.

    :param rows: the rows.
    :param default_region: ISO 3166-1 alpha-2 code used for numbers without ``+``.
    :param allow_empty_params: accept empty-string parameters (refused by default).
    :return: the recipients grouped by parameters, the duplicate count and the invalid numbers.
    :raises ValueError: for a row with missing or unexpected keys, a ``None`` (or, unless allowed,
        empty) parameter, a number
        given different parameters in two rows, or an unknown region.
    :raises TypeError: for rows given as a string, a row that is not a mapping, or a value of
        the wrong type.
    """
    region = _check_region(default_region)
    if isinstance(rows, str):
        raise TypeError("personalised() takes a list of rows, not a string: read text with parse_list().")
    groups: dict[tuple[str, ...], list[str]] = {}
    first_row: dict[str, tuple[int, tuple[str, ...]]] = {}
    invalid: list[str] = []
    positions: list[int] = []
    duplicates = 0
    for index, row in enumerate(rows):
        raw, params = _read_row(row, index, allow_empty_params)
        e164 = _to_e164(raw, region)
        if e164 is None:
            invalid.append(raw)
            positions.append(index)
            continue
        earlier = first_row.get(e164)
        if earlier is None:
            first_row[e164] = (index, params)
            groups.setdefault(params, []).append(e164)
        elif earlier[1] == params:
            duplicates += 1
        else:
            raise ValueError(
                f"Row {index}: {mask(e164)} is also in row {earlier[0]} with different "
                "template_params; it would receive two messages. Keep one row per number."
            )
    return Audience(
        {params: tuple(numbers) for params, numbers in groups.items()},
        duplicates,
        tuple(invalid),
        tuple(positions),
    )


_ROW_KEYS = frozenset({"phone_number", "template_params"})


def _read_row(row: object, index: int, allow_empty: bool = False) -> tuple[str, tuple[str, ...]]:
    if not isinstance(row, Mapping):
        raise TypeError(
            f"Row {index} is a {type(row).__name__}; each row must be a mapping with the keys "
            "'phone_number' and 'template_params'."
        )
    keys = set(row)
    if keys != _ROW_KEYS:
        missing = ", ".join(repr(key) for key in sorted(_ROW_KEYS - keys)) or "none"
        unexpected = ", ".join(repr(key) for key in sorted(keys - _ROW_KEYS, key=str)) or "none"
        raise ValueError(
            f"Row {index} must have exactly the keys 'phone_number' and 'template_params' "
            f"(missing: {missing}; unexpected: {unexpected})."
        )
    number = row["phone_number"]
    if not isinstance(number, str | int) or isinstance(number, bool):
        raise TypeError(
            f"Row {index}: 'phone_number' must be a string or an int, not {type(number).__name__}."
        )
    values = row["template_params"]
    if not isinstance(values, list | tuple):
        raise TypeError(
            f"Row {index}: 'template_params' must be a list of values, not {type(values).__name__}."
        )
    return str(number), tuple(
        _template_param(value, f"Row {index}: template_params[{i}]", allow_empty)
        for i, value in enumerate(values)
    )


def _template_param(value: object, where: str, allow_empty: bool = False) -> str:
    if isinstance(value, str):
        if not value and not allow_empty:
            raise ValueError(
                f"{where} is an empty string (a template that rendered nothing?); pass "
                "allow_empty_params=True if the template really takes an empty value."
            )
        return value
    if isinstance(value, bool):
        raise TypeError(f"{where} is a bool ({value}); pass the text the message should show instead.")
    if value is None:
        raise ValueError(f"{where} contains None, which would be sent as the text 'None'.")
    if isinstance(value, list | tuple | Set | Mapping):
        raise TypeError(f"{where} values must be strings or numbers, not {type(value).__name__}.")
    return str(value)


def _check_region(region: str) -> str:
    code = region.upper() if isinstance(region, str) else region
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(
            f"default_region {region!r} is not a region phonenumbers knows: use an ISO 3166-1 "
            "alpha-2 code such as 'CN', 'US' or 'GB'."
        )
    return code


def _to_e164(raw: str, region: str) -> str | None:
    if _CN_MOBILE.fullmatch(raw):
        return raw
    return _other_to_e164(raw, region)


def _other_to_e164(raw: str, region: str) -> str | None:
    """:func:`to_e164` for all but canonical Mainland mobiles (already checked), region checked."""
    if _is_plausible_global(raw):
        return raw
    if _LETTER.search(raw):
        return None
    try:
        number = phonenumbers.parse(raw, region)
    except NumberParseException:
        return None
    if number.extension:
        return None
    e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    # The cheap checks come first so that a number gets the same verdict in every format.
    if _CN_MOBILE.fullmatch(e164) or _is_plausible_global(e164) or phonenumbers.is_valid_number(number):
        return e164
    return None


def _is_plausible_global(e164: str) -> bool:
    """A known calling code other than +86, then a national number of that country's shape."""
    if _E164_SHAPE.fullmatch(e164) is None:
        return False
    # Calling codes are prefix-free (ITU-T E.164), so the first match is the only one.
    for end in (2, 3, 4):
        code = e164[1:end]
        if code in _CALLING_CODES:
            return _national_number_pattern(code).fullmatch(e164, end) is not None
    return False


@functools.cache
def _national_number_pattern(calling_code: str) -> re.Pattern[str]:
    """Any national number of the regions sharing a calling code (25 share +1), in one regex.

    phonenumbers' general pattern per region: the shape of every number there, without the
    per-range detail that makes full validation cost microseconds. Built per calling code on
    first use, since loading every region's metadata takes 0.25 s.
    """
    code = int(calling_code)
    patterns = []
    for region in phonenumbers.COUNTRY_CODE_TO_REGION_CODE[code]:
        if region == phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY:
            metadata = PhoneMetadata.metadata_for_nongeo_region(code)
        else:
            metadata = PhoneMetadata.metadata_for_region(region)
        if metadata is not None and metadata.general_desc is not None:
            pattern = metadata.general_desc.national_number_pattern
            if pattern:
                patterns.append(f"(?:{pattern})")
    # A code without metadata matches nothing, leaving the verdict to phonenumbers.
    return re.compile("|".join(patterns) or "(?!)", re.ASCII)


def exclusion_list(value: object, default_region: str = DEFAULT_REGION) -> NormalisedRecipients:
    """Numbers never to message, read and normalised exactly as recipients are.

    :param value: ``None``, or anything :func:`parse_phone_numbers` accepts.
    :param default_region: ISO 3166-1 alpha-2 code used for numbers without ``+``.
    :return: the numbers in E.164 (``valid``), and the entries that are not phone numbers (``invalid``),
        which cannot match a recipient and so are reported, not fatal.
    """
    return normalise(parse_phone_numbers(value), default_region)
