"""The fake's data: one :class:`Division` per company the user can reach, and every change to it.

Each division has one Int64 ``Timestamp`` counter (starting above 2**32, so a client that keeps
it in 32 bits breaks); every change takes the next value and moves the record to the end of its
table. ``Modified`` comes from the fake clock (``now``), which the tests can move forward.
All methods take the store's lock; the HTTP handlers run under it too.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import fields, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from dunning.plugins.exact.fake.models import (
    OPEN,
    PAYABLE,
    RECEIVABLE,
    Account,
    BankLine,
    Contact,
    Deleted,
    Term,
)
from dunning.plugins.exact.fake.payments import match_payment
from dunning.plugins.exact.fake.table import Table
from dunning.plugins.exact.fake.values import money, new_guid

FIRST_TIMESTAMP = 2**32 + 1_000_000
FIRST_INVOICE_NUMBER = 26_000_001
FIRST_PAYABLE_NUMBER = 16_000_001
ENTITY_TYPE_TERM = 10
ENTITY_TYPE_ACCOUNT = 2
ENTITY_TYPE_CONTACT = 5
ACCOUNT_FIELDS = frozenset(f.name for f in fields(Account)) - {"id", "timestamp", "modified"}
CONTACT_FIELDS = frozenset(f.name for f in fields(Contact)) - {"id", "timestamp", "modified"}


class UnknownRecord(KeyError):
    """No such account, contact, invoice or division."""


def betalingskenmerk(number: int) -> str:
    """A 16-digit Dutch payment reference: a check digit (weights 2,4,8,5,10,9,7,3,6,1 from the
    right, modulo 11) in front of the 15-digit ``number``."""
    digits = f"{number:015d}"[-15:]
    weights = (2, 4, 8, 5, 10, 9, 7, 3, 6, 1)
    total = sum(int(d) * weights[i % 10] for i, d in enumerate(reversed(digits)))
    check = {10: 1, 11: 0}.get(11 - total % 11, 11 - total % 11)
    return f"{check}{digits}"


class Division:
    def __init__(self, number: int) -> None:
        self.number = number
        self.accounts: Table[Account] = Table()
        self.contacts: Table[Contact] = Table()
        self.terms: Table[Term] = Table()
        self.bank_lines: Table[BankLine] = Table()
        self.deleted: Table[Deleted] = Table()
        self._invoices: dict[int, list[str]] = {}
        self._timestamp = FIRST_TIMESTAMP
        self._hid = 0

    def stamp(self) -> int:
        self._timestamp += 1
        return self._timestamp

    def next_hid(self) -> int:
        self._hid += 1
        return self._hid

    def account(self, account_id: str) -> Account:
        found = self.accounts.get(account_id.lower())
        if found is None:
            raise UnknownRecord(account_id)
        return found

    def contact(self, contact_id: str) -> Contact:
        found = self.contacts.get(contact_id.lower())
        if found is None:
            raise UnknownRecord(contact_id)
        return found

    def invoice_terms(self, invoice_number: int) -> list[Term]:
        return [
            term
            for term_id in self._invoices.get(invoice_number, [])
            if (term := self.terms.get(term_id)) is not None
        ]

    def add_term(self, term: Term, now: datetime) -> None:
        self._invoices.setdefault(term.invoice_number, []).append(term.id)
        self.touch_term(term, now)

    def touch_term(self, term: Term, now: datetime) -> None:
        term.timestamp, term.modified = self.stamp(), now
        self.terms.put(term)

    def delete_terms(self, invoice_number: int, now: datetime) -> list[Term]:
        removed = [self.terms.remove(term.id) for term in self.invoice_terms(invoice_number)]
        self._invoices.pop(invoice_number, None)
        for term in removed:
            self.deleted.put(Deleted(term.id, ENTITY_TYPE_TERM, self.stamp(), now))
        return removed


class ExactStore:
    def __init__(
        self, divisions: tuple[int, ...], today: date | None, clock: Callable[[], float]
    ) -> None:
        if not divisions:
            raise ValueError("the user needs at least one division")
        self.lock = threading.RLock()
        self.divisions = {number: Division(number) for number in divisions}
        self.current = divisions[0]
        self.user_id = new_guid()
        self.division_customer = new_guid()
        self.notes: list[dict[str, Any]] = []
        self.tasks: list[dict[str, Any]] = []
        self.bank_entries: list[dict[str, Any]] = []
        self._today = today
        self._clock = clock
        self._invoice_number = FIRST_INVOICE_NUMBER - 1
        self._payable_number = FIRST_PAYABLE_NUMBER - 1
        self._account_code = 0
        self._entry_number = 0

    # -- clock ---------------------------------------------------------------------------------

    def now(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), UTC)

    @property
    def today(self) -> date:
        return self._today or self.now().date()

    def division(self, number: int | None = None) -> Division:
        found = self.divisions.get(self.current if number is None else number)
        if found is None:
            raise UnknownRecord(number)
        return found

    def next_entry_number(self) -> int:
        self._entry_number += 1
        return 26_100_000 + self._entry_number

    # -- accounts and contacts -----------------------------------------------------------------

    def add_account(
        self, name: str, *, code: str | None = None, division: int | None = None, **values: Any
    ) -> Account:
        unknown = set(values) - ACCOUNT_FIELDS
        if unknown:
            raise TypeError(f"unknown account fields: {sorted(unknown)}")
        with self.lock:
            place = self.division(division)
            if code is None:
                self._account_code += 1
                code = str(self._account_code)
            account = Account(
                new_guid(),
                f"{code:>18}",
                name,
                place.stamp(),
                self.now(),
                **values,
            )
            place.accounts.put(account)
            return account

    def add_contact(
        self,
        account_id: str,
        first_name: str,
        last_name: str,
        *,
        is_main: bool = True,
        division: int | None = None,
        **values: Any,
    ) -> Contact:
        unknown = set(values) - CONTACT_FIELDS
        if unknown:
            raise TypeError(f"unknown contact fields: {sorted(unknown)}")
        with self.lock:
            place = self.division(division)
            account = place.account(account_id)
            now = self.now()
            contact = Contact(
                new_guid(),
                account.id,
                first_name,
                last_name,
                place.stamp(),
                now,
                is_main=is_main,
                **values,
            )
            place.contacts.put(contact)
            if is_main:
                account.main_contact = contact.id
                account.timestamp, account.modified = place.stamp(), now
                place.accounts.put(account)
            return contact

    def change_account(
        self, account_id: str, division: int | None = None, **changes: Any
    ) -> Account:
        unknown = set(changes) - ACCOUNT_FIELDS
        if unknown:
            raise TypeError(f"unknown account fields: {sorted(unknown)}")
        with self.lock:
            place = self.division(division)
            account = place.account(account_id)
            for name, value in changes.items():
                setattr(account, name, f"{value:>18}" if name == "code" else value)
            account.timestamp, account.modified = place.stamp(), self.now()
            place.accounts.put(account)
            return account

    def change_contact(
        self, contact_id: str, division: int | None = None, **changes: Any
    ) -> Contact:
        unknown = set(changes) - CONTACT_FIELDS
        if unknown:
            raise TypeError(f"unknown contact fields: {sorted(unknown)}")
        with self.lock:
            place = self.division(division)
            contact = place.contact(contact_id)
            for name, value in changes.items():
                setattr(contact, name, value)
            contact.timestamp, contact.modified = place.stamp(), self.now()
            place.contacts.put(contact)
            return contact

    # -- invoices ------------------------------------------------------------------------------

    def add_invoice(
        self,
        account_id: str,
        amount: Decimal | str | int,
        *,
        invoice_number: int | None = None,
        invoice_date: date | None = None,
        due_date: date | None = None,
        your_ref: str | None = None,
        payment_reference: str | None = None,
        description: str | None = None,
        currency: str = "EUR",
        terms: int = 1,
        division: int | None = None,
    ) -> int:
        """Book a sales invoice as ``terms`` open receivable terms; the parts add up to ``amount``
        (the last takes the rounding), term ``k`` falls due ``30 * k`` days after ``due_date``."""
        if terms < 1:
            raise ValueError("an invoice has at least one term")
        total = money(amount)
        with self.lock:
            place = self.division(division)
            account = place.account(account_id)
            if invoice_number is None:
                self._invoice_number += 1
                invoice_number = self._invoice_number
            elif place.invoice_terms(invoice_number):
                raise ValueError(f"invoice {invoice_number} exists already")
            invoice_date = invoice_date or self.today
            due_date = due_date or invoice_date + timedelta(days=30)
            part = (total / terms).quantize(Decimal("0.01"))
            entry_id = new_guid()
            now = self.now()
            for k in range(terms):
                term = Term(
                    id=new_guid(),
                    hid=place.next_hid(),
                    account_id=account.id,
                    invoice_number=invoice_number,
                    entry_id=entry_id,
                    transaction_entry_id=entry_id,
                    amount_dc=part if k < terms - 1 else total - part * (terms - 1),
                    transaction_amount_dc=total,
                    invoice_date=invoice_date,
                    due_date=due_date + timedelta(days=30 * k),
                    timestamp=0,
                    modified=now,
                    currency=currency,
                    description=description or f"Factuur {invoice_number}",
                    payment_reference=payment_reference or betalingskenmerk(invoice_number),
                    your_ref=your_ref,
                )
                place.add_term(term, now)
            return invoice_number

    def add_payable(
        self, account_id: str, amount: Decimal | str | int, division: int | None = None
    ) -> Term:
        """A purchase-invoice term (``LineType`` 22): in ``sync/Cashflow/PaymentTerms`` only."""
        with self.lock:
            place = self.division(division)
            account = place.account(account_id)
            self._payable_number += 1
            entry_id, now, total = new_guid(), self.now(), money(amount)
            term = Term(
                new_guid(),
                place.next_hid(),
                account.id,
                self._payable_number,
                entry_id,
                entry_id,
                total,
                total,
                self.today,
                self.today + timedelta(days=30),
                0,
                now,
                line_type=PAYABLE,
                description=f"Inkoopfactuur {self._payable_number}",
                journal_code="60",
            )
            place.add_term(term, now)
            return term

    def terms(self, invoice_number: int, division: int | None = None) -> list[Term]:
        """Snapshots (copies) of the invoice's terms, in the order they were created."""
        with self.lock:
            found = self.division(division).invoice_terms(invoice_number)
            if not found:
                raise UnknownRecord(invoice_number)
            return [replace(term) for term in sorted(found, key=lambda term: term.hid)]

    def open_amount(self, invoice_number: int, division: int | None = None) -> Decimal:
        with self.lock:
            terms = self.terms(invoice_number, division)
            return sum(
                (t.amount_dc for t in terms if t.status == OPEN and t.line_type == RECEIVABLE),
                Decimal("0.00"),
            )

    def pay(
        self,
        invoice_number: int,
        amount: Decimal | str | int | None = None,
        *,
        on: date | None = None,
        division: int | None = None,
    ) -> None:
        """A payment booked and matched in Exact (default: everything still open)."""
        with self.lock:
            place = self.division(division)
            paid = self.open_amount(invoice_number, division) if amount is None else money(amount)
            matched = match_payment(
                place, invoice_number, paid, on or self.today, new_guid(), self.now()
            )
            if not matched:
                raise ValueError(f"{paid} does not match the open terms of {invoice_number}")

    def delete_invoice(self, invoice_number: int, division: int | None = None) -> None:
        with self.lock:
            place = self.division(division)
            if not place.delete_terms(invoice_number, self.now()):
                raise UnknownRecord(invoice_number)
