"""The ``filter`` query parameter of ``sales_invoices.json`` and its synchronization twin.

Syntax: ``key:value`` pairs separated by commas, several values joined by ``|``
(``state:late|open,period:20200101..20991231``). The trap this reproduces: the default filter is
``period:this_year``, and a filter that names no ``period`` still gets only this year's invoices,
so a client that asks for ``state:late`` alone silently misses last year's overdue invoices.
An unknown key, state or period is a 400 with ``"symbolic":{"filter":"invalid"}``.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime

from dunning.plugins.moneybird.fake.models import Invoice

STATES = frozenset(
    {
        "all",
        "draft",
        "open",
        "scheduled",
        "pending_payment",
        "late",
        "reminded",
        "paid",
        "uncollectible",
    }
)
KEYS = frozenset(
    {
        "state",
        "period",
        "reference",
        "contact_id",
        "recurring_sales_invoice_id",
        "workflow_id",
        "created_after",
        "updated_after",
    }
)
DEFAULT_PERIOD = "this_year"


class FilterError(ValueError):
    """An invalid filter; the message goes into the 400 body."""


@dataclass(frozen=True)
class InvoiceFilter:
    first_day: date
    last_day: date
    states: frozenset[str] | None = None
    references: frozenset[str] | None = None
    contact_ids: frozenset[str] | None = None
    workflow_ids: frozenset[str] | None = None
    created_after: datetime | None = None
    updated_after: datetime | None = None

    def matches(self, invoice: Invoice) -> bool:
        return (
            self.first_day <= invoice.invoice_date <= self.last_day
            and (self.states is None or invoice.state in self.states)
            and (self.references is None or invoice.reference in self.references)
            and (self.contact_ids is None or invoice.contact_id in self.contact_ids)
            and (self.workflow_ids is None or invoice.workflow_id in self.workflow_ids)
            and (self.created_after is None or invoice.created_at > self.created_after)
            and (self.updated_after is None or invoice.updated_at > self.updated_after)
        )


def parse_filter(text: str | None, today: date) -> InvoiceFilter:
    """The filter a request asks for; ``None`` or ``""`` means the default ``period:this_year``."""
    pairs: dict[str, list[str]] = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        key, sep, value = part.partition(":")
        key = key.strip()
        if not sep or key not in KEYS or not value:
            raise FilterError(f"Filter {part.strip()!r} is not supported")
        pairs[key] = [v for v in value.split("|") if v]
    states = pairs.get("state")
    if states is not None and not set(states) <= STATES:
        raise FilterError("Status is not included in the list")
    first_day, last_day = period_range(pairs.get("period", [DEFAULT_PERIOD])[0], today)
    return InvoiceFilter(
        first_day=first_day,
        last_day=last_day,
        states=None if states is None or "all" in states else frozenset(states),
        references=_set(pairs.get("reference")),
        contact_ids=_set(pairs.get("contact_id")),
        workflow_ids=_set(pairs.get("workflow_id")),
        created_after=_moment(pairs.get("created_after")),
        updated_after=_moment(pairs.get("updated_after")),
    )


def _set(values: list[str] | None) -> frozenset[str] | None:
    return frozenset(values) if values is not None else None


def _moment(values: list[str] | None) -> datetime | None:
    if not values:
        return None
    try:
        moment = datetime.fromisoformat(values[0].replace("Z", "+00:00"))
    except ValueError:
        raise FilterError(f"Time {values[0]!r} is invalid") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _shift_month(year: int, month: int, delta: int) -> tuple[int, int]:
    index = year * 12 + month - 1 + delta
    return index // 12, index % 12 + 1


def period_range(period: str, today: date) -> tuple[date, date]:
    """First and last day of a named period, ``YYYYMM..YYYYMM`` or ``YYYYMMDD..YYYYMMDD``."""
    scope, _, which = period.partition("_")
    offsets = {"this": 0, "prev": -1, "next": 1}
    if scope in offsets and which in ("month", "quarter", "year"):
        delta = offsets[scope]
        if which == "year":
            year = today.year + delta
            return date(year, 1, 1), date(year, 12, 31)
        if which == "month":
            year, month = _shift_month(today.year, today.month, delta)
            return date(year, month, 1), _month_end(year, month)
        first_month = (today.month - 1) // 3 * 3 + 1
        year, month = _shift_month(today.year, first_month, 3 * delta)
        end_year, end_month = _shift_month(year, month, 2)
        return date(year, month, 1), _month_end(end_year, end_month)
    start, sep, end = period.partition("..")
    if sep and start.isdigit() and end.isdigit() and len(start) == len(end) in (6, 8):
        try:
            if len(start) == 8:
                first = date(int(start[:4]), int(start[4:6]), int(start[6:]))
                last = date(int(end[:4]), int(end[4:6]), int(end[6:]))
            else:
                first = date(int(start[:4]), int(start[4:]), 1)
                last = _month_end(int(end[:4]), int(end[4:]))
        except ValueError:
            raise FilterError(f"Period {period!r} is invalid") from None
        return first, last
    raise FilterError(f"Period {period!r} is invalid")
