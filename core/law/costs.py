"""Extrajudicial collection costs.

NL (art. 6:96 BW, Besluit BIK art. 2): the staffel over the principal only (no interest), at
least the floor and at most the cap; VAT added only when the creditor uses a third party whose
service carries VAT and cannot deduct it. For consumers the amount is fixed by law; for
businesses it is the default (an agreed amount may replace it), and the EU Late Payment
Directive's flat compensation is due per invoice.

BE consumers (Book XIX WER): damages by brackets with a cap.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from dunning.core.law.tables import Slice, amounts, slices
from dunning.core.models import CENT

NL_STAFFEL = "nl_bik_staffel.csv"
NL_LIMITS = "nl_bik_limits.csv"
BE_DAMAGES = "be_consumer_damages.csv"
BE_LIMITS = "be_consumer_limits.csv"


def cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class CostLine:
    """One slice of the calculation: the part of the principal and what it adds."""

    low: Decimal
    high: Decimal
    percent: Decimal
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Costs:
    """The costs on ``principal``: ``amount`` excluding VAT, ``vat``, and ``total``."""

    principal: Decimal
    lines: tuple[CostLine, ...]
    staffel: Decimal
    """The staffel's result before floor and cap."""
    amount: Decimal
    vat: Decimal
    total: Decimal
    rule: str
    """Which rule decided: ``staffel``, ``minimum``, ``maximum``."""


def _graduated(principal: Decimal, table: Sequence[Slice]) -> tuple[Decimal, list[CostLine]]:
    total, lines = Decimal(0), []
    for part in table:
        if principal <= part.low:
            break
        top = principal if part.high is None else min(principal, part.high)
        amount = (top - part.low) * part.percent / 100
        lines.append(CostLine(part.low, top, part.percent, amount))
        total += amount
    return total, lines


def nl_costs(principal: Decimal, *, vat: bool = False) -> Costs:
    """Dutch extrajudicial collection costs on ``principal`` (BIK staffel, floor, cap).

    ``vat``: the creditor has a third party collect and cannot deduct its VAT; the costs are
    then raised by the VAT rate. Raises ValueError for a principal that is not positive."""
    if principal <= 0:
        raise ValueError(f"the principal must be above zero (got {principal})")
    limits = amounts(NL_LIMITS)
    staffel, lines = _graduated(principal, slices(NL_STAFFEL))
    amount, rule = staffel, "staffel"
    if amount < limits["minimum"]:
        amount, rule = limits["minimum"], "minimum"
    elif amount > limits["maximum"]:
        amount, rule = limits["maximum"], "maximum"
    amount = cents(amount)
    tax = cents(amount * limits["vat_percent"] / 100) if vat else Decimal("0.00")
    return Costs(principal, tuple(lines), staffel, amount, tax, amount + tax, rule)


def eu_flat_fee(invoices: int) -> Decimal:
    """The EU flat compensation for ``invoices`` late commercial invoices: per invoice, also
    when they are claimed together (CJEU C-585/20)."""
    return cents(amounts(NL_LIMITS)["eu_flat_fee"] * invoices)


def be_consumer_damages(principal: Decimal) -> Costs:
    """The most a Belgian consumer may be charged in damages on ``principal`` (Book XIX WER)."""
    if principal <= 0:
        raise ValueError(f"the principal must be above zero (got {principal})")
    cap = amounts(BE_LIMITS)["maximum"]
    for part in slices(BE_DAMAGES):
        if part.high is None or principal <= part.high:
            above = principal - part.low
            raw = part.fixed + above * part.percent / 100
            line = CostLine(part.low, principal, part.percent, raw)
            amount, rule = (cap, "maximum") if raw > cap else (raw, "brackets")
            amount = cents(amount)
            return Costs(principal, (line,), raw, amount, Decimal("0.00"), amount, rule)
    raise AssertionError("the damages table has no open-ended last bracket")  # pragma: no cover
