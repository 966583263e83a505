"""Matching money to an invoice's open receivable terms, the way Exact's automatic matching
("afletteren") does after a bank entry: API-CONTRACTS.md 1.10.

The rule is our choice (the contract marks it unconfirmed): a positive amount that equals the
open amount of the invoice closes every open term; a smaller positive amount closes whole terms
in due-date order and splits the first term it cannot close: the paid part becomes a new matched
term (new ``ID``, the paying entry's ``EntryID``), the rest stays open with ``AmountDC`` reduced.
More than is open, nothing open, or a non-positive amount matches nothing.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from dunning.plugins.exact.fake.models import MATCHED, RECEIVABLE, Term
from dunning.plugins.exact.fake.values import new_guid

if TYPE_CHECKING:
    from dunning.plugins.exact.fake.store import Division


def open_terms(
    division: Division, invoice_number: int, account_id: str | None = None
) -> list[Term]:
    """The open receivable terms of an invoice, oldest due date first."""
    terms = [
        term
        for term in division.invoice_terms(invoice_number)
        if term.is_open
        and term.line_type == RECEIVABLE
        and (account_id is None or term.account_id == account_id)
    ]
    return sorted(terms, key=lambda term: (term.due_date, term.hid))


def match_payment(
    division: Division,
    invoice_number: int,
    amount: Decimal,
    on: date,
    entry_id: str,
    now: datetime,
    account_id: str | None = None,
) -> bool:
    """Apply ``amount`` received on ``on`` to the invoice; ``False`` when it matches nothing."""
    terms = open_terms(division, invoice_number, account_id)
    if amount <= 0 or not terms or amount > sum(term.amount_dc for term in terms):
        return False
    remaining = amount
    for term in terms:
        if remaining <= 0:
            break
        if remaining >= term.amount_dc:
            remaining -= term.amount_dc
            term.status = MATCHED
            term.last_payment_date = on
            division.touch_term(term, now)
            continue
        paid = replace(
            term,
            id=new_guid(),
            hid=division.next_hid(),
            entry_id=entry_id,
            amount_dc=remaining,
            status=MATCHED,
            last_payment_date=on,
        )
        division.add_term(paid, now)
        term.amount_dc -= remaining
        term.last_payment_date = on
        division.touch_term(term, now)
        remaining = Decimal(0)
    return True
