"""Statutory interest (NL art. 6:119 and 6:119a BW; BE law of 2 August 2002).

Conventions (docs/law.md):

* Interest runs from ``start`` (the day after the due date) through ``end`` (the day of
  payment), both included.
* Day count actual/365: each day earns 1/365 of the yearly rate, also in a leap year.
* Periods are split at every rate change in the table and at every anniversary of ``start``;
  on each anniversary the interest of the year past is added to the base (yearly compounding,
  art. 6:119 lid 2 / 6:119a lid 3 BW), unless ``compound`` is off. The anniversary of a start on
  29 February is 1 March.
* Full precision throughout; the total is rounded half-up to the cent once, at the end. Each
  line's amount is shown rounded, so lines may differ from the total by a cent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from dunning.core.law.costs import cents

YEAR_DAYS = Decimal(365)


@dataclass(frozen=True, slots=True)
class InterestLine:
    first_day: date
    last_day: date
    days: int
    percent: Decimal
    base: Decimal
    amount: Decimal
    """Unrounded."""


@dataclass(frozen=True, slots=True)
class Interest:
    principal: Decimal
    start: date
    end: date
    lines: tuple[InterestLine, ...]
    amount: Decimal
    """The total, rounded half-up to the cent."""


def anniversary(day: date) -> date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return date(day.year + 1, 3, 1)


def rate_on(schedule: Sequence[tuple[date, Decimal]], day: date) -> tuple[Decimal, date | None]:
    """The rate in force on ``day`` and the day the next rate starts (``None``: none known)."""
    current, following = None, None
    for starts, percent in schedule:
        if starts <= day:
            current = percent
        else:
            following = starts
            break
    if current is None:
        raise ValueError(
            f"no interest rate is known for {day}; the table starts on {schedule[0][0]}"
        )
    return current, following


def statutory_interest(
    principal: Decimal,
    start: date,
    end: date,
    schedule: Sequence[tuple[date, Decimal]],
    *,
    compound: bool = True,
) -> Interest:
    """Interest on ``principal`` from ``start`` through ``end`` at the rates of ``schedule``
    ((first day, percent) in date order; a one-row schedule is a fixed, e.g. agreed, rate)."""
    if principal <= 0:
        raise ValueError(f"the principal must be above zero (got {principal})")
    lines: list[InterestLine] = []
    if end < start:
        return Interest(principal, start, end, (), Decimal("0.00"))
    base, accrued, total = principal, Decimal(0), Decimal(0)
    day, next_anniversary = start, anniversary(start)
    stop = end + timedelta(days=1)
    while day < stop:
        percent, next_change = rate_on(schedule, day)
        boundary = min(d for d in (stop, next_change, next_anniversary) if d is not None)
        days = (boundary - day).days
        amount = base * percent / 100 * days / YEAR_DAYS
        lines.append(InterestLine(day, boundary - timedelta(days=1), days, percent, base, amount))
        accrued += amount
        total += amount
        day = boundary
        if day == next_anniversary:
            if compound:
                base += accrued
            accrued = Decimal(0)
            next_anniversary = anniversary(next_anniversary)
    return Interest(principal, start, end, tuple(lines), cents(total))
