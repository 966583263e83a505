"""Payment behaviour per debtor, from the ledger's history, and the segment it puts them in.

Figures: invoices paid (with a known paid date), average days late (paid date minus due date,
early counts as 0), share paid on or before the due date, broken promises and arrangements.

Segments, first match wins (thresholds under ``segments:`` in pipelines.yaml):

* ``new``: fewer than ``min_history`` paid invoices and no broken promise: too little to judge
  (with a broken promise: ``risky``).
* ``risky``: at least ``risky_min_broken_promises`` broken promises, or on average at least
  ``risky_min_avg_days_late`` days late.
* ``punctual``: at least ``punctual_min_on_time_share`` paid on time and at most
  ``punctual_max_avg_days_late`` days late on average.
* ``late-but-reliable``: everyone else: pays, but late.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from dunning.core.config.schema import SegmentRules

TWO_PLACES = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class PaidInvoice:
    debtor_id: str
    due_date: date
    paid_on: date


@dataclass(frozen=True, slots=True)
class DebtorFigures:
    debtor_id: str
    paid_invoices: int
    avg_days_late: Decimal
    on_time_share: Decimal
    broken_promises: int
    segment: str


def segment_of(
    paid: int, avg_late: Decimal, on_time: Decimal, broken: int, rules: SegmentRules
) -> str:
    if paid < rules.min_history:
        return "risky" if broken else "new"
    if broken >= rules.risky_min_broken_promises or avg_late >= rules.risky_min_avg_days_late:
        return "risky"
    if (
        paid
        and on_time >= rules.punctual_min_on_time_share
        and avg_late <= rules.punctual_max_avg_days_late
    ):
        return "punctual"
    return "late-but-reliable"


def debtor_figures(
    paid_invoices: Iterable[PaidInvoice],
    broken_promises: Mapping[str, int],
    rules: SegmentRules,
    debtor_ids: Iterable[str] = (),
) -> dict[str, DebtorFigures]:
    """Figures and segment for every debtor in ``paid_invoices``, ``broken_promises`` or
    ``debtor_ids`` (the last so that debtors without history show as ``new``)."""
    late_days: dict[str, list[int]] = {}
    for item in paid_invoices:
        late_days.setdefault(item.debtor_id, []).append(max(0, (item.paid_on - item.due_date).days))
    everyone = set(late_days) | set(broken_promises) | set(debtor_ids)
    result = {}
    for debtor_id in sorted(everyone):
        days = late_days.get(debtor_id, [])
        paid = len(days)
        avg = (Decimal(sum(days)) / paid).quantize(TWO_PLACES) if paid else Decimal(0)
        on_time = (
            (Decimal(sum(1 for d in days if d == 0)) / paid).quantize(TWO_PLACES)
            if paid
            else Decimal(0)
        )
        broken = broken_promises.get(debtor_id, 0)
        result[debtor_id] = DebtorFigures(
            debtor_id, paid, avg, on_time, broken, segment_of(paid, avg, on_time, broken, rules)
        )
    return result
