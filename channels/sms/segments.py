"""How long an SMS is: its encoding (GSM-7 or UCS-2) and how many segments it costs.

A text made only of characters of the GSM 03.38 default alphabet goes out as GSM-7: each
character of the basic table is one septet, each character of the extension table (``€``,
``[``, ``{`` ...) is an escape plus a septet, two in all. One segment holds 160 septets; a longer
text is split into parts of 153 (the rest of each part is the concatenation header). Any other
character (``ë``, a curly quote, an emoji) makes the whole text UCS-2: 70 UTF-16 code units in one
segment, 67 per part, an emoji (a surrogate pair) counting two.

A part never ends half-way an escape sequence or a surrogate pair: such a character moves to the
next part, as handsets and gateways split them. Pure functions, no I/O.
"""

from __future__ import annotations

import enum
import unicodedata
from dataclasses import dataclass

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅå"
    "\u0394_\u03a6\u0393\u039b\u03a9\u03a0\u03a8\u03a3\u0398\u039e"  # Δ_ΦΓΛΩΠΨΣΘΞ
    "ÆæßÉ"
    " !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
"""The GSM 03.38 basic table: 128 positions less the escape (0x1B), one septet each."""

GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")
"""The GSM 03.38 extension table (reached through the escape): two septets each."""

SINGLE = {"gsm7": 160, "ucs2": 70}
"""Units that fit in a message of one segment."""
PER_PART = {"gsm7": 153, "ucs2": 67}
"""Units that fit in each part of a concatenated message."""


LOOKALIKES = {
    "\u2018": "'",
    "\u2019": "'",
    "\u201a": "'",
    "\u201b": "'",
    "\u2032": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "\u2033": '"',
    "\u2013": "-",
    "\u2014": "-",
    "\u2212": "-",
    "\u2026": "...",
    "\xa0": " ",
    "\u202f": " ",
    "\u2009": " ",
    "`": "'",
}
"""Punctuation outside GSM-7 and the GSM-7 text that reads the same."""


class Encoding(enum.StrEnum):
    GSM7 = "gsm7"
    UCS2 = "ucs2"


@dataclass(frozen=True, slots=True)
class SmsLength:
    """The measure of one text: ``units`` are septets (GSM-7) or UTF-16 code units (UCS-2)."""

    encoding: Encoding
    characters: int
    units: int
    segments: int

    def describe(self) -> str:
        """``2 segments (GSM-7, 245 septets)`` for messages and receipts."""
        unit = "septets" if self.encoding is Encoding.GSM7 else "UCS-2 units"
        name = "GSM-7" if self.encoding is Encoding.GSM7 else "unicode"
        plural = "s" if self.segments != 1 else ""
        return f"{self.segments} segment{plural} ({name}, {self.units} {unit})"


def non_gsm_characters(text: str) -> list[str]:
    """The distinct characters of ``text`` outside GSM-7, in order of appearance: the reason a
    text goes out as UCS-2 (empty when it fits GSM-7)."""
    seen: dict[str, None] = {}
    for char in text:
        if char not in GSM7_BASIC and char not in GSM7_EXTENSION:
            seen.setdefault(char)
    return list(seen)


def encoding_of(text: str) -> Encoding:
    """GSM-7 when every character is in the basic or extension table, else UCS-2."""
    return Encoding.UCS2 if non_gsm_characters(text) else Encoding.GSM7


def _fold_character(char: str) -> str:
    if char in GSM7_BASIC or char in GSM7_EXTENSION:
        return char
    if char in LOOKALIKES:
        return LOOKALIKES[char]
    base = unicodedata.normalize("NFD", char)[0]  # ë -> e + diaeresis, ç -> c + cedilla
    return base if base in GSM7_BASIC else char


def fold_to_gsm7(text: str) -> str:
    """``text`` with each character outside GSM-7 replaced by a GSM-7 look-alike (``ë`` ->
    ``e``, a curly quote -> ``'``, a non-breaking space -> a space), but only when that makes
    the whole text GSM-7; otherwise ``text`` unchanged (an emoji or Greek text stays UCS-2, and
    then every accent may as well stay too)."""
    if encoding_of(text) is Encoding.GSM7:
        return text
    folded = "".join(_fold_character(char) for char in text)
    return folded if encoding_of(folded) is Encoding.GSM7 else text


def _unit_sizes(text: str, encoding: Encoding) -> list[int]:
    """The units each character takes: 1 or 2 septets, or 1 or 2 UTF-16 code units."""
    if encoding is Encoding.GSM7:
        return [2 if char in GSM7_EXTENSION else 1 for char in text]
    return [2 if ord(char) > 0xFFFF else 1 for char in text]


def _parts(sizes: list[int], capacity: int) -> int:
    """How many parts of ``capacity`` units hold ``sizes`` without splitting a character."""
    parts, used = 1, 0
    for size in sizes:
        if used + size > capacity:
            parts, used = parts + 1, 0
        used += size
    return parts


def measure(text: str) -> SmsLength:
    """Encoding, length and segment count of ``text`` (an empty text is one segment)."""
    encoding = encoding_of(text)
    sizes = _unit_sizes(text, encoding)
    units = sum(sizes)
    segments = 1 if units <= SINGLE[encoding] else _parts(sizes, PER_PART[encoding])
    return SmsLength(encoding=encoding, characters=len(text), units=units, segments=segments)
