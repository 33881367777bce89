"""How many SMS a message is billed as: pure rules over text (no Airflow, no I/O).

Two rule sets, written down once here and cited in ``docs/before-you-send.md``:

* **Mainland China** (Tencent Cloud SMS billing rules): the text is the signature in 【】 followed by
  the rendered template. Every character counts 1 (Chinese or Latin, letter, digit or punctuation,
  full- or half-width; here: every Unicode code point). Up to 70 characters is one SMS; a longer
  text is billed in parts of 67 characters.
* **Global** (3GPP TS 23.038, the GSM alphabets, and TS 23.040's concatenation header): a text whose
  characters are all in the GSM 7-bit default alphabet is sent as GSM-7: 160 septets in one SMS,
  153 per part of a long one; characters of the default extension table (``^ { } \\ [ ] ~ | €`` and
  form feed) take an escape septet plus their own, so they count 2. Any other character makes the
  whole text UCS-2: 70 UTF-16 code units in one SMS, 67 per part; characters outside the Basic
  Multilingual Plane (most emoji) are a surrogate pair and count 2. A character that takes two
  units is never split across parts: it moves to the next one, as phones and gateways do.

A message always costs at least one SMS, an empty one included.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Sequence

MAINLAND_SINGLE = 70
MAINLAND_PART = 67
GSM7_SINGLE = 160
GSM7_PART = 153
UCS2_SINGLE = 70
UCS2_PART = 67

#: 3GPP TS 23.038 section 6.2.1, the GSM 7-bit default alphabet, in code order (0x1B, the escape to
#: the extension table, is left out: it is not a character of its own).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
#: 3GPP TS 23.038 section 6.2.1.1, the default extension table: escape septet + one septet each.
GSM7_EXTENSION = frozenset("\f^{}\\[]~|€")

_PLACEHOLDER = re.compile(r"\{([0-9]+)\}")


class Encoding(str, enum.Enum):
    """How a message is counted."""

    #: Mainland China: characters, 70 / 67.
    MAINLAND = "mainland"
    GSM7 = "gsm-7"
    UCS2 = "ucs-2"


def placeholder_count(content: str) -> int:
    """How many parameters a template takes: its highest ``{n}`` placeholder (0 without any).

    :param content: the template's content as Tencent reports it, e.g. ``"Code {1}, valid {2} min"``.
    """
    return max((int(index) for index in _PLACEHOLDER.findall(content)), default=0)


def renderer(content: str) -> Callable[[Sequence[str]], str]:
    """A function putting parameters into ``content``, split at its placeholders once for many renders.

    ``{1}``, ``{2}``, ... become ``params[0]``, ``params[1]``, ...; a placeholder without a parameter
    stays as it is (the preflight reports the mismatch), and a parameter is never rendered again.
    """
    pieces = _PLACEHOLDER.split(content)
    literals, indexes = pieces[0::2], [int(i) for i in pieces[1::2]]

    def render(params: Sequence[str]) -> str:
        out = [literals[0]]
        for index, literal in zip(indexes, literals[1:], strict=True):
            out.append(params[index - 1] if 1 <= index <= len(params) else f"{{{index}}}")
            out.append(literal)
        return "".join(out)

    return render


def render(content: str, params: Sequence[str]) -> str:
    """``content`` with its placeholders replaced by ``params`` (see :func:`renderer`)."""
    return renderer(content)(params)


def message_text(sign_name: str | None, body: str) -> str:
    """What the recipient sees and what is billed: the signature in 【】, then the rendered template."""
    return f"【{sign_name}】{body}" if sign_name else body


def encoding(text: str, mainland: bool) -> Encoding:
    """Which rule set and alphabet count ``text``."""
    if mainland:
        return Encoding.MAINLAND
    if set(text) <= GSM7_BASIC | GSM7_EXTENSION:
        return Encoding.GSM7
    return Encoding.UCS2


def segments(text: str, mainland: bool) -> int:
    """How many SMS ``text`` is billed as (at least 1).

    :param text: the whole text, signature included (see :func:`message_text`).
    :param mainland: whether it goes to Mainland China numbers (Tencent's rules) or elsewhere (GSM).
    """
    kind = encoding(text, mainland)
    if kind is Encoding.MAINLAND:
        return _parts(text, (), MAINLAND_SINGLE, MAINLAND_PART)
    if kind is Encoding.GSM7:
        return _parts(text, [c in GSM7_EXTENSION for c in text], GSM7_SINGLE, GSM7_PART)
    return _parts(text, [ord(c) > 0xFFFF for c in text], UCS2_SINGLE, UCS2_PART)


def _parts(text: str, double: Sequence[bool], single: int, part: int) -> int:
    """The parts needed for ``text`` whose characters flagged in ``double`` take two units: one if all
    fit ``single``, else parts of ``part`` units filled in order, a two-unit character that does not fit
    the rest of a part starting the next one."""
    doubles = sum(double)
    units = len(text) + doubles
    if units <= single:
        return 1
    if not doubles:
        return -(-units // part)
    parts, used = 1, 0
    for wide in double:
        width = 2 if wide else 1
        if used + width > part:
            parts += 1
            used = 0
        used += width
    return parts
