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
    totals: dict[str, list[int]] = {}
    for item in paid_invoices:
        late = max(0, (item.paid_on - item.due_date).days)
        entry = totals.setdefault(item.debtor_id, [0, 0, 0])
        entry[0] += 1
        entry[1] += late
        entry[2] += late == 0
    return figures_from_totals(
        ((d, n, late, timely) for d, (n, late, timely) in totals.items()),
        broken_promises,
        rules,
        debtor_ids,
    )


def figures_from_totals(
    totals: Iterable[tuple[str, int, int, int]],
    broken_promises: Mapping[str, int],
    rules: SegmentRules,
    debtor_ids: Iterable[str] = (),
) -> dict[str, DebtorFigures]:
    """Like :func:`debtor_figures`, from per-debtor totals (debtor, paid invoices, days late
    summed, paid on time) as the ledger sums them."""
    summed = {debtor_id: (n, late, timely) for debtor_id, n, late, timely in totals}
    everyone = set(summed) | set(broken_promises) | set(debtor_ids)
    result = {}
    for debtor_id in sorted(everyone):
        paid, late_days, timely = summed.get(debtor_id, (0, 0, 0))
        avg = (Decimal(late_days) / paid).quantize(TWO_PLACES) if paid else Decimal(0)
        on_time = (Decimal(timely) / paid).quantize(TWO_PLACES) if paid else Decimal(0)
        broken = broken_promises.get(debtor_id, 0)
        result[debtor_id] = DebtorFigures(
            debtor_id, paid, avg, on_time, broken, segment_of(paid, avg, on_time, broken, rules)
        )
    return result
