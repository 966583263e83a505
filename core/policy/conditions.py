"""Step conditions: does a step apply to this invoice of this debtor today?"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from dunning.core.models import Debtor, Invoice
from dunning.core.policy.steps import Conditions, Step


@dataclass(frozen=True, slots=True)
class DebtorFacts:
    """What conditions may test about the debtor beyond the record itself."""

    debtor: Debtor
    segment: str
    open_total: Decimal
    open_invoices: int


def _names(values: frozenset[str]) -> str:
    return ", ".join(sorted(values))


def why_not(step: Step, invoice: Invoice, facts: DebtorFacts) -> str | None:
    """``None`` when ``step`` applies; else why not, in words for ``dunning plan``."""
    if invoice.amount_open < step.min_open_amount:
        return f"open amount {invoice.amount_open} is below the minimum {step.min_open_amount}"
    c: Conditions = step.conditions
    amount = facts.open_total if c.amount_of == "debtor" else invoice.amount_open
    what = "the debtor's open total" if c.amount_of == "debtor" else "open amount"
    if c.min_open is not None and amount < c.min_open:
        return f"{what} {amount} is below {c.min_open}"
    if c.max_open is not None and amount > c.max_open:
        return f"{what} {amount} is above {c.max_open}"
    debtor = facts.debtor
    if c.debtor_kinds and debtor.kind not in c.debtor_kinds:  # a StrEnum equals its value
        return f"debtor is a {debtor.kind.value}, step is for {_names(c.debtor_kinds)}"
    if c.languages and debtor.language not in c.languages:
        return f"language {debtor.language!r} is not one of {_names(c.languages)}"
    if c.tags or c.not_tags:
        tags = set(invoice.tags) | set(debtor.tags)
        if c.tags and not tags & c.tags:
            return f"no tag of {_names(c.tags)}"
        if blocked := tags & c.not_tags:
            return f"tagged {_names(frozenset(blocked))}"
    if c.segments and facts.segment not in c.segments:
        return f"segment {facts.segment!r} is not one of {_names(c.segments)}"
    if facts.segment in c.not_segments:
        return f"segment {facts.segment!r} is excluded"
    if c.min_open_invoices is not None and facts.open_invoices < c.min_open_invoices:
        return f"{facts.open_invoices} open invoice(s), step needs at least {c.min_open_invoices}"
    if c.max_open_invoices is not None and facts.open_invoices > c.max_open_invoices:
        return f"{facts.open_invoices} open invoices, step allows at most {c.max_open_invoices}"
    return None
