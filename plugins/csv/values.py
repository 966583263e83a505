"""Reading and writing single cells: amounts, dates, yes/no flags, debtor kinds, languages, IBANs.

Every parser returns ``None`` for a value it cannot understand; the caller turns that into a
:class:`~dunning.core.models.RowProblem` with a hint built from :func:`amount_example` or
:meth:`DateFormat.example`. Nothing here raises on bad input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from dunning.core.ibans import normal_iban
from dunning.core.models import CENT, DebtorKind

_AMOUNT = re.compile(
    r"^(?P<sign>[-+\u2212]?)\s*(?:€|EUR)?\s*(?P<sign_after>[-+\u2212]?)\s*"
    r"(?P<number>\d[\d., ]*)\s*(?:€|EUR)?$",
    re.IGNORECASE,
)
_NUMBER_DECIMAL_COMMA = re.compile(r"^(?:\d{1,3}(?:[. ]\d{3})+|\d+)(?:,\d+)?$")
_NUMBER_DECIMAL_POINT = re.compile(r"^(?:\d{1,3}(?:[, ]\d{3})+|\d+)(?:\.\d+)?$")

_DUTCH_DATE = re.compile(r"^(\d{1,2})([-/.])(\d{1,2})\2(\d{4})$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
ISO_STYLE = "%Y-%m-%d"
_EXAMPLE_DAY = date(2024, 12, 31)

TRUE_WORDS = frozenset({"ja", "yes", "true", "1", "x"})
FALSE_WORDS = frozenset({"", "nee", "no", "false", "0"})

_KINDS = {
    "": DebtorKind.BUSINESS,
    "zakelijk": DebtorKind.BUSINESS,
    "business": DebtorKind.BUSINESS,
    "particulier": DebtorKind.CONSUMER,
    "consumer": DebtorKind.CONSUMER,
}
_LANGUAGE_NAMES = {
    "nederlands": "nl",
    "dutch": "nl",
    "vlaams": "nl",
    "engels": "en",
    "english": "en",
}
_LANGUAGE_CODE = re.compile(r"^([a-z]{2})(?:[-_][a-z]{2})?$")
_IBAN_LISTS = re.compile(r"[,;]")
_IBAN_START = re.compile(r"^[A-Za-z]{2}[0-9]{2}")
_IBAN_LONGEST = 34


def parse_amount(text: str, decimal_mark: str) -> Decimal | None:
    """``'€ 1.234,56'`` -> ``Decimal('1234.56')`` (decimal comma), quantized to cents.

    With ``decimal_mark`` ``","`` the thousands separator is ``.`` or a space; with ``"."`` it is
    ``,`` or a space. A sign may stand before or after a leading ``€``/``EUR``. Anything else,
    including an empty cell, gives ``None``.
    """
    match = _AMOUNT.match(text.strip().replace("\u00a0", " "))
    if match is None or (match["sign"] and match["sign_after"]):
        return None
    number = match["number"].strip()
    if decimal_mark == ",":
        if not _NUMBER_DECIMAL_COMMA.match(number):
            return None
        plain = number.replace(".", "").replace(" ", "").replace(",", ".")
    else:
        if not _NUMBER_DECIMAL_POINT.match(number):
            return None
        plain = number.replace(",", "").replace(" ", "")
    try:
        value = Decimal(plain).quantize(CENT, rounding=ROUND_HALF_UP)
    except InvalidOperation:
        return None
    sign = match["sign"] or match["sign_after"]
    return -value if sign in ("-", "\u2212") else value


def format_amount(value: Decimal, decimal_mark: str) -> str:
    """``Decimal('1234.5')`` -> ``'1234,50'``: two decimals, no thousands separator."""
    return f"{value.quantize(CENT, rounding=ROUND_HALF_UP):f}".replace(".", decimal_mark)


def amount_example(decimal_mark: str) -> str:
    """How an amount should look, for problem messages."""
    return f"1234{decimal_mark}56"


@dataclass(frozen=True, slots=True)
class DateFormat:
    """``auto`` (Dutch ``dd-mm-yyyy``, ``dd/mm/yyyy``, ``d-m-yyyy`` or ISO) or a strptime format."""

    pattern: str = "auto"

    def parse(self, text: str) -> date | None:
        """The date in ``text``, or ``None`` when it is empty, malformed or not a real day."""
        text = text.strip()
        if self.pattern != "auto":
            try:
                return datetime.strptime(text, self.pattern).date()
            except ValueError:
                return None
        try:
            if dutch := _DUTCH_DATE.match(text):
                return date(int(dutch[4]), int(dutch[3]), int(dutch[1]))
            if iso := _ISO_DATE.match(text):
                return date(int(iso[1]), int(iso[2]), int(iso[3]))
        except ValueError:
            return None
        return None

    def style_of(self, text: str) -> str:
        """The strftime format to write a new date so it looks like ``text`` (a date cell).

        An explicit pattern is used as is. With ``auto``: ``dd-mm-yyyy`` (keeping the separator
        of ``text``) when ``text`` is a Dutch date, ISO otherwise.
        """
        if self.pattern != "auto":
            return self.pattern
        if dutch := _DUTCH_DATE.match(text.strip()):
            separator = dutch[2]
            return f"%d{separator}%m{separator}%Y"
        return ISO_STYLE

    def example(self) -> str:
        """How a date should look, for problem messages."""
        if self.pattern == "auto":
            return "31-12-2024 or 2024-12-31"
        return f"{_EXAMPLE_DAY.strftime(self.pattern)} (date_format {self.pattern!r})"


def parse_flag(text: str) -> bool | None:
    """``ja``, ``yes``, ``true``, ``1``, ``x`` -> True; empty, ``nee``, ``no``, ``false``, ``0`` ->
    False; anything else -> None."""
    word = text.strip().casefold()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    return None


def parse_kind(text: str) -> DebtorKind | None:
    """``zakelijk``/``business`` (or empty) and ``particulier``/``consumer``; else ``None``."""
    return _KINDS.get(text.strip().casefold())


def parse_language(text: str, default: str) -> str | None:
    """A two-letter code (``NL``, ``nl-BE`` -> ``nl``) or a language name; empty -> ``default``."""
    word = text.strip().casefold()
    if not word:
        return default
    if word in _LANGUAGE_NAMES:
        return _LANGUAGE_NAMES[word]
    code = _LANGUAGE_CODE.match(word)
    return code[1] if code else None


def parse_ibans(text: str) -> tuple[tuple[str, ...], list[str]]:
    """``'NL91 ABNA 0417 1643 00, DE89370400440532013000'`` -> both, compact: ``((...), [])``.

    Accounts are separated by commas, semicolons or white space; an account may itself be
    written in groups (``NL91 ABNA ...``), so neighbouring words are joined when together they
    are a valid IBAN. The second element lists what is no valid IBAN (as written, its groups
    joined by a space: every word up to the next one that starts like an IBAN); it is left out
    of the first. Duplicates are kept once.
    """
    found: dict[str, None] = {}
    rejected: list[str] = []
    for part in _IBAN_LISTS.split(text):
        words = part.split()
        start = 0
        while start < len(words):
            end, iban = _longest_iban(words, start)
            if iban is None:
                end = start + 1
                while end < len(words) and not _IBAN_START.match(words[end]):
                    end += 1
                rejected.append(" ".join(words[start:end]))
            else:
                found.setdefault(iban)
            start = end
    return tuple(found), rejected


def _longest_iban(words: list[str], start: int) -> tuple[int, str | None]:
    """The end of the longest run of ``words`` from ``start`` that is one valid IBAN, and it."""
    end = start
    length = 0
    while end < len(words) and length + len(words[end]) <= _IBAN_LONGEST:
        length += len(words[end])
        end += 1
    for stop in range(end, start, -1):
        iban = normal_iban("".join(words[start:stop]))
        if iban is not None:
            return stop, iban
    return start, None
