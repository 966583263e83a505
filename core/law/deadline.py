"""The 14-day term of the Dutch 14-day letter (art. 6:96 lid 6 BW; HR 25 Nov 2016).

The term starts the day after the debtor receives the letter and lasts 14 days. When its last
day is a Saturday, Sunday or a public holiday of the Algemene termijnenwet, it ends on the next
working day (art. 1 Atw; the engine applies this conservatively). Costs are due from the day
after the last day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from dunning.core.calendar import BusinessCalendar, calendar_for

TERM_DAYS = 14


@dataclass(frozen=True, slots=True)
class Term:
    received: date
    last_day: date
    costs_due_from: date
    moved: str | None
    """Why the last day moved (``None``: it did not)."""


def fourteen_day_term(received: date, calendar: BusinessCalendar | None = None) -> Term:
    calendar = calendar or calendar_for("NL")
    last = received + timedelta(days=TERM_DAYS)
    reason = calendar.why_closed(last)
    while not calendar.is_business_day(last):
        last += timedelta(days=1)
    moved = f"day 14 ({received + timedelta(days=TERM_DAYS)}) is {reason}" if reason else None
    return Term(received, last, last + timedelta(days=1), moved)
