"""Reading the cells that steer the policy: labels, country, time zone, early-payment discount.

Like :mod:`.values`, every parser returns ``None`` (or the words it rejected) for a value it
cannot understand and never raises; the reader turns that into a
:class:`~dunning.core.models.RowProblem` that names the column and the fix.
"""

from __future__ import annotations

import difflib
import functools
import re
import unicodedata
import zoneinfo
from decimal import Decimal, InvalidOperation

from babel import Locale

LABEL_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
"""A label after lowercasing; the same rule as tag names in pipelines.yaml."""
_LABEL_SEPARATORS = re.compile(r"[,\s]+")

_NOT_COUNTRIES = frozenset({"EU", "EZ", "UN", "QO", "ZZ"})
"""Two-letter CLDR territories that are no country: unions, remote Oceania, unknown."""
_COUNTRY_NAME_LANGUAGES = ("nl", "en")

_NOT_ZONES = frozenset({"localtime", "posixrules", "Factory"})
"""Keys on the time zone path that are no place: the machine's own zone and tzdata oddities."""

_PERCENT = {",": re.compile(r"^\d+(?:,\d+)?$"), ".": re.compile(r"^\d+(?:\.\d+)?$")}
_DAYS = re.compile(r"^\d+$")


def parse_labels(text: str) -> tuple[tuple[str, ...], list[str]]:
    """``'VIP, no-call vip'`` -> ``(('vip', 'no-call'), [])``: lowercase, first occurrence kept.

    Labels are separated by commas or white space. The second element lists the words (as
    written) that are no valid label; they are left out of the first.
    """
    labels: dict[str, None] = {}
    rejected: list[str] = []
    for word in _LABEL_SEPARATORS.split(text):
        if not word:
            continue
        label = word.lower()
        if LABEL_PATTERN.match(label):
            labels.setdefault(label)
        else:
            rejected.append(word)
    return tuple(labels), rejected


def parse_country(text: str) -> str | None:
    """``'be'``, ``'België'``, ``'Belgie'`` or ``'Belgium'`` -> ``'BE'``; unknown -> ``None``.

    Accepts an ISO 3166 two-letter code in any case, or a country's Dutch or English name from
    the CLDR data that babel ships (case and accents do not matter).
    """
    return _country_spellings().get(_fold(text))


def parse_timezone(text: str) -> str | None:
    """The IANA name of the zone in ``text`` (``'europe/brussels'`` -> ``'Europe/Brussels'``).

    Case does not matter and a space may stand for ``_``. ``None`` when no zone of that name is
    installed (``tzdata`` or the system's zone files), or when it cannot be loaded.
    """
    name = _zones_by_folded_name().get(_zone_key(text))
    if name is None:
        return None
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return None
    return name


@functools.lru_cache(maxsize=256)
def similar_timezone(text: str) -> str | None:
    """The installed zone whose name is closest to ``text``, for a "did you mean" hint."""
    zones = _zones_by_folded_name()
    close = difflib.get_close_matches(_zone_key(text), list(zones), n=1)
    return zones[close[0]] if close else None


def parse_percent(text: str, decimal_mark: str) -> Decimal | None:
    """``'2'``, ``'2,5'`` or ``'2,5 %'`` (decimal comma) -> a percentage above 0 and below 100.

    No thousands separator; anything else, including an empty cell, gives ``None``.
    """
    number = text.strip().removesuffix("%").rstrip()
    if not _PERCENT[decimal_mark].match(number):
        return None
    try:
        value = Decimal(number.replace(",", "."))
    except InvalidOperation:
        return None
    return value if 0 < value < 100 else None


def parse_days(text: str) -> int | None:
    """A whole, non-negative number of days (``'8'``); anything else gives ``None``."""
    text = text.strip()
    return int(text) if _DAYS.match(text) else None


def _fold(text: str) -> str:
    """Lowercase without accents, so ``België`` and ``belgie`` compare equal."""
    decomposed = unicodedata.normalize("NFKD", text.strip().casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


@functools.cache
def _country_spellings() -> dict[str, str]:
    """Every accepted spelling, folded -> ISO code. Built once, on the first country cell."""
    codes = {
        code
        for code in Locale("en").territories
        if isinstance(code, str)
        and len(code) == 2
        and code.isalpha()
        and code not in _NOT_COUNTRIES
    }
    spellings = {code.casefold(): code for code in codes}
    for language in _COUNTRY_NAME_LANGUAGES:
        for code, name in Locale(language).territories.items():
            if isinstance(code, str) and code in codes and isinstance(name, str):
                spellings.setdefault(_fold(name), code)
    return spellings


def _zone_key(text: str) -> str:
    return text.strip().replace(" ", "_").casefold()


@functools.cache
def _zones_by_folded_name() -> dict[str, str]:
    """Installed IANA zone names by their casefolded form. Built once, on the first zone cell."""
    return {
        name.casefold(): name for name in zoneinfo.available_timezones() if name not in _NOT_ZONES
    }
