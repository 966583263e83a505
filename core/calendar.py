"""The business calendar (which days count) and the send window (which hours of the day count).

Both are pure: no I/O beyond the ``holidays`` package and the IANA time-zone database, and the same
answers for the same arguments. The policy asks these questions once per invoice for up to a
million invoices, so holidays are looked up once per (country, year) and every per-day answer is
memoised in the calendar instance (the dates a run touches repeat a lot).

NL follows the Algemene termijnenwet (art. 3): ``holidays`` files Liberation Day (5 May) under
"optional" except in lustrum years, so NL is read with the categories "public" and "optional".
Days equated by royal decree (such as the Friday after Ascension) are not in ``holidays``; list them
in ``pipelines.yaml`` as closing days.
"""

from __future__ import annotations

import contextlib
import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache, lru_cache
from types import MappingProxyType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import holidays

from dunning.core.errors import ConfigError

WEEKDAYS: dict[str, int] = {
    "mon": 0,
    "tue": 1,
    "wed": 2,
    "thu": 3,
    "fri": 4,
    "sat": 5,
    "sun": 6,
}
"""Weekday abbreviations used in ``pipelines.yaml`` -> :meth:`date.weekday` numbers."""

WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
CLOSING_DAY_NAME = "closing day (config)"
CLOSING_DAY_REASON = "closing day listed in pipelines.yaml"
DELAY_UNITS = ("calendar", "business")

_CATEGORIES: dict[str, tuple[str, ...]] = {"NL": ("public", "optional")}
"""Holiday categories per country where the package default misses legal holidays."""

_ONE_DAY = timedelta(days=1)


class UnknownCountry(ConfigError, ValueError):
    """A country code the ``holidays`` package does not know; no business calendar for it.

    Also a :class:`ValueError`, so pydantic validators and callers that fall back to the
    pipeline's country on a bad debtor country can catch it as one.
    """


class UnknownTimezone(ConfigError, ValueError):
    """A time-zone name that is not in the IANA database; also a :class:`ValueError`."""


@lru_cache(maxsize=1)
def _supported_countries() -> frozenset[str]:
    return frozenset(code for code in holidays.list_supported_countries() if len(code) == 2)


def _canonical_country(country: str) -> str:
    """The upper-case ISO 3166 alpha-2 code ``holidays`` files ``country`` under (``UK`` ->
    ``GB``). Raises :class:`UnknownCountry` with a fix for anything else."""
    code = country.strip().upper()
    if code in _supported_countries():
        return str(holidays.country_holidays(code, years=()).country)
    hint = ""
    if len(code) == 3 and code.isalpha():
        with contextlib.suppress(NotImplementedError):
            hint = f" (did you mean {holidays.country_holidays(code, years=()).country}?)"
    raise UnknownCountry(
        f"unknown country {country!r}{hint}; use an ISO 3166 two-letter code such as NL or BE "
        f"that the holidays package supports"
    )


@cache
def _holidays_of(country: str, year: int) -> Mapping[date, str]:
    """Public holidays of ``country`` (canonical code) in ``year``: date -> English name.

    Names joined by ``; `` when two holidays share a day (that is how ``holidays`` reports them).
    """
    kind = holidays.country_holidays(country, years=())
    language = "en_US" if "en_US" in kind.supported_languages else None
    found = holidays.country_holidays(
        country,
        years=year,
        categories=_CATEGORIES.get(country),
        language=language,
    )
    return MappingProxyType({day: str(name) for day, name in found.items()})


class BusinessCalendar:
    """Which days are business days for one country and one configuration.

    A business day is a weekday in ``business_weekdays`` that is neither a public holiday of
    ``country`` nor one of the ``extra_closed`` company closing days. Instances memoise every
    answer per date, so share them: get one through :func:`calendar_for`.
    """

    def __init__(
        self,
        country: str = "NL",
        extra_closed: Iterable[date] = (),
        business_weekdays: Iterable[int] = (0, 1, 2, 3, 4),
    ) -> None:
        """``country`` is an ISO 3166 code, any case (:class:`UnknownCountry` otherwise).
        ``extra_closed`` are closing days from the config. ``business_weekdays`` are
        :meth:`date.weekday` numbers (Monday 0); at least one, each 0..6, else ValueError."""
        self.country: str = _canonical_country(country)
        self.extra_closed: frozenset[date] = frozenset(extra_closed)
        weekdays = frozenset(business_weekdays)
        if not weekdays or not weekdays <= set(range(7)):
            raise ValueError(
                f"business weekdays {sorted(weekdays)} must be one or more of 0 (Monday) .. "
                "6 (Sunday)"
            )
        self.business_weekdays: frozenset[int] = weekdays
        self._open: dict[date, bool] = {}
        self._next: dict[date, date] = {}
        self._shifted: dict[tuple[date, int], date] = {}

    def __repr__(self) -> str:
        weekdays = ",".join(str(day) for day in sorted(self.business_weekdays))
        return (
            f"BusinessCalendar({self.country}, weekdays {weekdays}, "
            f"{len(self.extra_closed)} closing days)"
        )

    def holiday_name(self, day: date) -> str | None:
        """The public holiday's name, :data:`CLOSING_DAY_NAME` for a closing day from the
        config, else None. A public holiday wins when both apply."""
        name = _holidays_of(self.country, _plain_date(day).year).get(day)
        if name is None and day in self.extra_closed:
            return CLOSING_DAY_NAME
        return name

    def is_holiday(self, day: date) -> bool:
        """Whether ``day`` is a public holiday or a closing day from the config."""
        return self.holiday_name(day) is not None

    def is_business_day(self, day: date) -> bool:
        """Whether ``day`` is a business weekday that is not a holiday or closing day."""
        known = self._open.get(day)
        if known is None:
            known = day.weekday() in self.business_weekdays and not self.is_holiday(day)
            self._open[day] = known
        return known

    def why_closed(self, day: date) -> str | None:
        """None on a business day; else the reason, for messages and logs: the holiday
        (``"King's Day (public holiday, NL)"``), :data:`CLOSING_DAY_REASON`, or the weekday
        name (``"Sunday"``). A named closure wins over the weekday."""
        if self.is_business_day(day):
            return None
        name = _holidays_of(self.country, day.year).get(day)
        if name is not None:
            return f"{name} (public holiday, {self.country})"
        if day in self.extra_closed:
            return CLOSING_DAY_REASON
        return WEEKDAY_NAMES[day.weekday()]

    def next_business_day(self, day: date) -> date:
        """``day`` itself when it is a business day, else the first business day after it."""
        found = self._next.get(day)
        if found is None:
            found = day
            while not self.is_business_day(found):
                found += _ONE_DAY
            self._next[day] = found
        return found

    def add_business_days(self, day: date, count: int) -> date:
        """The ``count``-th business day after ``day``, not counting ``day`` itself.

        ``count == 0`` is :meth:`next_business_day` (so on a closed day 0 and 1 give the same
        answer). A negative count goes back: -1 is the last business day strictly before ``day``,
        -N the N-th ("N business days before the due date").
        """
        key = (day, count)
        found = self._shifted.get(key)
        if found is None:
            found = self._shift(day, count)
            self._shifted[key] = found
        return found

    def _shift(self, day: date, count: int) -> date:
        if count == 0:
            return self.next_business_day(day)
        step = _ONE_DAY if count > 0 else -_ONE_DAY
        remaining = abs(count)
        current = day
        while remaining:
            current += step
            if self.is_business_day(current):
                remaining -= 1
        return current

    def add_days(self, day: date, count: int, unit: str) -> date:
        """``count`` days after ``day`` in ``unit``: ``"calendar"`` (plain date arithmetic, may
        land on a closed day) or ``"business"`` (:meth:`add_business_days`)."""
        if unit == "calendar":
            return day + timedelta(days=count)
        if unit == "business":
            return self.add_business_days(day, count)
        raise ValueError(f"unknown day unit {unit!r}; use one of {', '.join(DELAY_UNITS)}")


def _plain_date(day: date) -> date:
    """``day``, refusing a datetime: it would never match a holiday and would poison the memos."""
    if isinstance(day, datetime):
        raise TypeError(f"pass a date, not a datetime ({day.isoformat()})")
    return day


def calendar_for(
    country: str,
    extra_closed: tuple[date, ...] = (),
    business_weekdays: tuple[int, ...] = (0, 1, 2, 3, 4),
) -> BusinessCalendar:
    """The shared :class:`BusinessCalendar` for these settings, so that all debtors of one
    country share one instance and its memos. ``"nl"`` and ``"NL"``, and closing days in any
    order, give the same instance. Raises :class:`UnknownCountry` like the constructor."""
    return _calendar_for_arguments(country, tuple(extra_closed), tuple(business_weekdays))


@lru_cache(maxsize=1024)
def _calendar_for_arguments(
    country: str, extra_closed: tuple[date, ...], business_weekdays: tuple[int, ...]
) -> BusinessCalendar:
    return _calendar_for_settings(
        _canonical_country(country),
        tuple(sorted(set(extra_closed))),
        tuple(sorted(set(business_weekdays))),
    )


@cache
def _calendar_for_settings(
    country: str, extra_closed: tuple[date, ...], business_weekdays: tuple[int, ...]
) -> BusinessCalendar:
    return BusinessCalendar(country, extra_closed, business_weekdays)


@cache
def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        close = difflib.get_close_matches(name.strip(), sorted(available_timezones()), n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise UnknownTimezone(
            f"unknown time zone {name!r}{hint}; use an IANA name such as Europe/Amsterdam"
        ) from None


def check_timezone(name: str) -> str:
    """``name`` unchanged when it is an IANA time-zone name, else :class:`UnknownTimezone`."""
    _zone(name)
    return name


_WINDOW = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def _clock(moment: time) -> str:
    return moment.strftime("%H:%M:%S" if moment.second or moment.microsecond else "%H:%M")


@dataclass(frozen=True, slots=True)
class SendWindow:
    """Hours (local time of the recipient) in which messages may go out, e.g. 08:00-20:00.

    ``start`` is inclusive and ``end`` exclusive, both wall-clock times without tzinfo;
    ``start < end`` (a window across midnight is not supported). Every method takes a
    timezone-aware moment and the recipient's IANA zone; a naive datetime is a ValueError.
    """

    start: time
    end: time

    def __post_init__(self) -> None:
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("send window times are wall-clock times; give them without tzinfo")
        if self.start >= self.end:
            raise ValueError(
                f"send window {_clock(self.start)}-{_clock(self.end)}: the start must be before "
                "the end (a window across midnight is not supported)"
            )

    @classmethod
    def parse(cls, text: str) -> SendWindow:
        """``"08:00-20:00"`` -> a window; ValueError naming the form ``HH:MM-HH:MM`` otherwise."""
        match = _WINDOW.match(text)
        if match is None:
            raise ValueError(f"send window {text!r} is not of the form HH:MM-HH:MM (08:00-20:00)")
        hour_from, minute_from, hour_to, minute_to = (int(part) for part in match.groups())
        try:
            start, end = time(hour_from, minute_from), time(hour_to, minute_to)
        except ValueError:
            raise ValueError(
                f"send window {text!r} has an impossible time; use HH:MM-HH:MM with hours 00-23 "
                "and minutes 00-59"
            ) from None
        return cls(start, end)

    def __str__(self) -> str:
        return f"{_clock(self.start)}-{_clock(self.end)}"

    def local(self, moment: datetime, timezone: str) -> datetime:
        """``moment`` as wall-clock time in ``timezone`` (same instant)."""
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError(
                f"naive datetime {moment.isoformat()}; times in dunning are timezone-aware"
            )
        return moment.astimezone(_zone(timezone))

    def contains(self, moment: datetime, timezone: str) -> bool:
        """Whether the recipient's wall clock at ``moment`` reads within [start, end)."""
        return self.start <= self.local(moment, timezone).time() < self.end

    def next_opening(self, moment: datetime, timezone: str) -> datetime:
        """The first moment at or after ``moment`` inside the window, in the recipient's zone:
        ``moment`` itself when inside, today's start when before it, else tomorrow's start.

        DST: when a spring-forward skips the start time, the window opens at the jump; when a
        fall-back repeats it, at the first repetition not yet past. Compare the result with
        moments of other zones via ``astimezone(UTC)``: ``==`` across zones is always False
        for a repeated wall time (PEP 495); ``<`` and ``>`` are safe.
        """
        local = self.local(moment, timezone)
        if self.start <= local.time() < self.end:
            return local
        zone = _zone(timezone)
        for opening in self._openings(local.date(), zone):
            if opening >= moment:
                return opening
        return self._openings(local.date() + _ONE_DAY, zone)[0]

    def _openings(self, day: date, zone: ZoneInfo) -> list[datetime]:
        """The instants on local ``day`` at which the wall clock reaches ``start``, earliest
        first: one on an ordinary day, two when a fall-back repeats it, the jump when a
        spring-forward skips it."""
        wall = datetime.combine(day, self.start)
        instants: list[datetime] = []
        for fold in (0, 1):
            instant = wall.replace(tzinfo=zone, fold=fold).astimezone(UTC)
            if instant.astimezone(zone).replace(tzinfo=None) == wall and instant not in instants:
                instants.append(instant)
        if not instants:
            instants.append(_clock_reaches(wall, zone))
        return sorted(instant.astimezone(zone) for instant in instants)


def _clock_reaches(wall: datetime, zone: ZoneInfo) -> datetime:
    """The instant (UTC) a spring-forward jumps the wall clock of ``zone`` over the naive
    ``wall``, found by bisection between the two readings of the skipped time."""
    low, high = sorted(wall.replace(tzinfo=zone, fold=fold).astimezone(UTC) for fold in (0, 1))
    resolution = timedelta(microseconds=1)
    while high - low > resolution:
        middle = low + (high - low) / 2
        if middle.astimezone(zone).replace(tzinfo=None) >= wall:
            high = middle
        else:
            low = middle
    return high
