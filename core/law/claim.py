"""The claim a final demand or 14-day letter states, and that an agency dossier repeats: per
invoice the principal and statutory interest, then collection costs, VAT and the total.

One calculation serves every place that shows a claim, so the amounts always agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from dunning.core.config.schema import LawConfig
from dunning.core.law.costs import NL_LIMITS, be_consumer_damages, cents, eu_flat_fee, nl_costs
from dunning.core.law.interest import Interest, statutory_interest
from dunning.core.law.tables import amounts, rates
from dunning.core.models import DebtorKind, Invoice


@dataclass(frozen=True, slots=True)
class ClaimLine:
    invoice: str
    due_date: date
    principal: Decimal
    interest: Interest | None


@dataclass(frozen=True, slots=True)
class Claim:
    """Amounts are rounded to the cent; ``total`` = principal + interest + costs + VAT."""

    as_of: date
    lines: tuple[ClaimLine, ...]
    principal: Decimal
    interest: Decimal
    interest_basis: str
    """Which rate: ``wettelijke rente (art. 6:119 BW)``, an agreed rate, or none."""
    costs: Decimal
    vat: Decimal
    costs_basis: str
    costs_now: bool
    """False when the costs may not be charged yet (a consumer's 14-day term has not passed):
    ``costs`` is then what *will* be charged, and ``total`` leaves it out."""
    total: Decimal


def _schedule(config: LawConfig, consumer: bool) -> tuple[tuple[tuple[date, Decimal], ...], str]:
    if config.agreed_interest_percent is not None:
        return ((date.min, config.agreed_interest_percent),), (
            f"agreed rate of {config.agreed_interest_percent}% a year"
        )
    if config.country == "be":
        if consumer:
            return (), "no interest (no Belgian consumer rate configured)"
        return rates("be_commercial_interest.csv", "commercial"), "commercial interest (BE)"
    if consumer:
        return rates("nl_statutory_interest.csv", "consumer"), "wettelijke rente (art. 6:119 BW)"
    return rates("nl_statutory_interest.csv", "commercial"), "handelsrente (art. 6:119a BW)"


def build_claim(
    invoices: Sequence[Invoice],
    kind: DebtorKind,
    as_of: date,
    config: LawConfig,
    term_passed: bool,
) -> Claim:
    """The claim on ``invoices`` (their open amounts) as of ``as_of``.

    ``term_passed``: the term before costs has passed: for a Dutch consumer a 14-day letter's
    term, for a Belgian consumer 14 days since the free first reminder. Interest runs per
    invoice from the day after its due date."""
    consumer = kind is DebtorKind.CONSUMER
    schedule, basis = _schedule(config, consumer)
    lines = []
    for invoice in invoices:
        interest = None
        if config.interest and schedule and as_of > invoice.due_date:
            start = invoice.due_date + timedelta(days=1)
            try:
                interest = statutory_interest(invoice.amount_open, start, as_of, schedule)
            except ValueError:
                interest = None
        lines.append(ClaimLine(invoice.number, invoice.due_date, invoice.amount_open, interest))
    principal = sum((line.principal for line in lines), Decimal(0))
    interest_total = sum((line.interest.amount for line in lines if line.interest), Decimal(0))
    if not config.interest or not schedule:
        basis = "no interest charged"
    vat_applies = config.third_party_collects and not config.vat_deductible
    costs_now = True
    if config.country == "be":
        if consumer:
            result = be_consumer_damages(principal)
            costs, vat, costs_basis = result.amount, Decimal("0.00"), "damages (Book XIX WER)"
            costs_now = term_passed
        else:
            costs, vat = eu_flat_fee(len(lines)), Decimal("0.00")
            costs_basis = "flat compensation per invoice (Directive 2011/7/EU)"
    elif consumer:
        result = nl_costs(principal, vat=vat_applies)
        costs, vat = result.amount, result.vat
        costs_basis = "buitengerechtelijke incassokosten (Besluit BIK)"
        costs_now = term_passed
    else:
        staffel = nl_costs(principal, vat=vat_applies)
        agreed = config.agreed_business_costs
        costs = cents(
            max(agreed if agreed is not None else staffel.amount, eu_flat_fee(len(lines)))
        )
        vat = (
            cents(costs * amounts(NL_LIMITS)["vat_percent"] / 100)
            if vat_applies
            else Decimal("0.00")
        )
        costs_basis = (
            "agreed collection costs" if agreed is not None else "Besluit BIK staffel"
        ) + ", at least €40 per invoice (Directive 2011/7/EU)"
    total = principal + interest_total + ((costs + vat) if costs_now else Decimal(0))
    return Claim(
        as_of,
        tuple(lines),
        cents(principal),
        cents(interest_total),
        basis,
        costs,
        vat,
        costs_basis,
        costs_now,
        cents(total),
    )
