"""The fake administration's data and every change to it, shared by the HTTP app and the tests.

Every change takes a fresh ``version`` (epoch seconds, but always above the last one handed out)
and sets ``updated_at``, so a client comparing versions from ``synchronization.json`` sees it.
``today`` is settable: moving it re-derives ``open``/``late`` and bumps what changed, the way
Moneybird's nightly run does.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import fields
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from dunning.plugins.moneybird.fake.models import Contact, ContactPerson, Invoice, Note, Payment
from dunning.plugins.moneybird.fake.values import parse_identifier, parse_money, rf_reference

FIRST_ID = 496081500075198125
OPEN_STATES = frozenset({"open", "late", "reminded", "pending_payment", "paid"})
INVOICE_FIELDS = frozenset(f.name for f in fields(Invoice)) - {"id", "payments", "notes"}
CONTACT_FIELDS = frozenset(f.name for f in fields(Contact)) - {"id", "version"}


class UnknownRecord(KeyError):
    """No record with that id in this administration (a 404 over HTTP)."""


class MoneybirdStore:
    def __init__(self, administration_id: str, today: date | None = None) -> None:
        self.administration_id = administration_id
        self.lock = threading.RLock()
        self.contacts: dict[str, Contact] = {}
        self.invoices: dict[str, Invoice] = {}
        self._today = today
        self._last_id = FIRST_ID
        self._last_version = 0
        self._invoice_numbers: dict[int, int] = {}
        self.workflow_id = self.new_id()
        self.document_style_id = self.new_id()
        self.identity_id = self.new_id()

    # -- clock and ids -------------------------------------------------------------------------

    @property
    def today(self) -> date:
        return self._today or datetime.now(UTC).date()

    @today.setter
    def today(self, value: date) -> None:
        with self.lock:
            self._today = value
            for invoice in self.invoices.values():
                before = invoice.state
                self._settle(invoice)
                if invoice.state != before:
                    self._touch(invoice)

    def now(self) -> datetime:
        real = datetime.now(UTC)
        if self._today is None:
            return real
        return datetime.combine(self._today, real.timetz())

    def new_id(self) -> str:
        with self.lock:
            self._last_id += 7_340_033
            return str(self._last_id)

    def _stamp(self) -> tuple[int, datetime]:
        now = self.now()
        self._last_version = max(self._last_version + 1, int(now.timestamp()))
        return self._last_version, now

    def _touch(self, record: Invoice | Contact) -> None:
        record.version, record.updated_at = self._stamp()

    # -- lookups -------------------------------------------------------------------------------

    def invoice(self, invoice_id: Any) -> Invoice:
        key = parse_identifier(invoice_id)
        if key is None or key not in self.invoices:
            raise UnknownRecord(invoice_id)
        return self.invoices[key]

    def contact(self, contact_id: Any) -> Contact:
        key = parse_identifier(contact_id)
        if key is None or key not in self.contacts:
            raise UnknownRecord(contact_id)
        return self.contacts[key]

    # -- seeding and outside edits -------------------------------------------------------------

    def add_contact(
        self, contact_people: list[dict[str, Any]] | None = None, **values: Any
    ) -> Contact:
        """A contact; ``values`` are :class:`Contact` fields, ``contact_people`` dicts of
        ``firstname``, ``lastname``, ``phone``, ``email``, ``department``."""
        unknown = set(values) - CONTACT_FIELDS
        if unknown:
            raise TypeError(f"unknown contact fields: {sorted(unknown)}")
        with self.lock:
            version, now = self._stamp()
            contact = Contact(id=self.new_id(), version=version, created_at=now, updated_at=now)
            for name, value in values.items():
                setattr(contact, name, value)
            for person in contact_people or []:
                contact.contact_people.append(
                    ContactPerson(id=self.new_id(), version=version, **person)
                )
            if not contact.customer_id:
                contact.customer_id = str(len(self.contacts) + 1)
            self.contacts[contact.id] = contact
            return contact

    def add_invoice(
        self,
        contact_id: Any,
        total: Any = "100.0",
        *,
        invoice_date: date | None = None,
        due_date: date | None = None,
        state: str = "open",
        paid: Any = "0",
        **values: Any,
    ) -> Invoice:
        """An invoice for an existing contact. ``state`` ``draft`` gets no number, ``paid``
        gets a payment for the whole amount; ``paid`` (an amount) registers a part payment."""
        unknown = set(values) - INVOICE_FIELDS
        if unknown:
            raise TypeError(f"unknown invoice fields: {sorted(unknown)}")
        with self.lock:
            contact = self.contact(contact_id)
            invoice_date = invoice_date or self.today
            version, now = self._stamp()
            invoice = Invoice(
                id=self.new_id(),
                contact_id=contact.id,
                version=version,
                created_at=now,
                updated_at=now,
                invoice_date=invoice_date,
                due_date=due_date or invoice_date + timedelta(days=14),
                total_price_incl_tax=parse_money(total),
                state=state,
                workflow_id=self.workflow_id,
                document_style_id=self.document_style_id,
                identity_id=self.identity_id,
                public_token=secrets.token_hex(16),
            )
            if state != "draft":
                number = self._invoice_numbers.get(invoice_date.year, 0) + 1
                self._invoice_numbers[invoice_date.year] = number
                invoice.invoice_id = f"{invoice_date.year}-{number:04d}"
                invoice.payment_reference = rf_reference(invoice.invoice_id.replace("-", ""))
                invoice.sent_at = datetime.combine(invoice_date, now.timetz())
            for name, value in values.items():
                setattr(invoice, name, value)
            amount_paid = invoice.total_price_incl_tax if state == "paid" else parse_money(paid)
            if amount_paid:
                invoice.payments.append(
                    Payment(
                        id=self.new_id(),
                        invoice_id=invoice.id,
                        price=amount_paid,
                        payment_date=min(invoice.due_date, self.today),
                        created_at=now,
                    )
                )
            self._settle(invoice)
            self.invoices[invoice.id] = invoice
            return invoice

    def change_invoice(self, invoice_id: Any, **changes: Any) -> Invoice:
        """An edit made in Moneybird itself: sets :class:`Invoice` fields, bumps the version."""
        unknown = set(changes) - INVOICE_FIELDS
        if unknown:
            raise TypeError(f"unknown invoice fields: {sorted(unknown)}")
        with self.lock:
            invoice = self.invoice(invoice_id)
            for name, value in changes.items():
                if name == "total_price_incl_tax":
                    value = parse_money(value)
                setattr(invoice, name, value)
            self._settle(invoice)
            self._touch(invoice)
            return invoice

    def change_contact(self, contact_id: Any, **changes: Any) -> Contact:
        unknown = set(changes) - CONTACT_FIELDS
        if unknown:
            raise TypeError(f"unknown contact fields: {sorted(unknown)}")
        with self.lock:
            contact = self.contact(contact_id)
            for name, value in changes.items():
                setattr(contact, name, value)
            self._touch(contact)
            return contact

    # -- changes the API makes -----------------------------------------------------------------

    def register_payment(
        self,
        invoice: Invoice,
        price: Decimal,
        payment_date: date,
        transaction_identifier: str | None = None,
        manual_payment_action: str | None = None,
        financial_mutation_id: str | None = None,
    ) -> Payment:
        with self.lock:
            payment = Payment(
                id=self.new_id(),
                invoice_id=invoice.id,
                price=price,
                payment_date=payment_date,
                created_at=self.now(),
                transaction_identifier=transaction_identifier,
                manual_payment_action=manual_payment_action,
                financial_mutation_id=financial_mutation_id,
            )
            invoice.payments.append(payment)
            self._settle(invoice)
            self._touch(invoice)
            return payment

    def delete_payment(self, invoice: Invoice, payment_id: Any) -> None:
        with self.lock:
            key = parse_identifier(payment_id)
            kept = [p for p in invoice.payments if p.id != key]
            if len(kept) == len(invoice.payments):
                raise UnknownRecord(payment_id)
            invoice.payments = kept
            self._settle(invoice)
            self._touch(invoice)

    def add_note(self, invoice: Invoice, text: str, todo: bool, assignee_id: str | None) -> Note:
        with self.lock:
            note = Note(
                id=self.new_id(),
                entity_id=invoice.id,
                note=text,
                todo=todo,
                created_at=self.now(),
                assignee_id=assignee_id,
            )
            invoice.notes.append(note)
            self._touch(invoice)
            return note

    def set_paused(self, invoice: Invoice, paused: bool) -> None:
        with self.lock:
            if invoice.paused != paused:
                invoice.paused = paused
                self._touch(invoice)

    def _settle(self, invoice: Invoice) -> None:
        """Derive ``paid``/``late``/``open`` from the amounts, the due date and ``today``."""
        if invoice.state not in OPEN_STATES:
            return
        if invoice.total_unpaid <= 0 and invoice.total_price_incl_tax > 0:
            invoice.state = "paid"
            if invoice.paid_at is None:
                invoice.paid_at = max(p.payment_date for p in invoice.payments)
            return
        invoice.paid_at = None
        if invoice.state == "paid":
            invoice.state = "open"
        if invoice.state in ("open", "late"):
            invoice.state = "late" if invoice.due_date < self.today else "open"
