"""The records the fake keeps, and their JSON as Moneybird sends it (API-CONTRACTS.md 2.4-2.6).

Money is kept as ``Decimal`` and dates as ``date``; :func:`invoice_json` and friends turn them
into Moneybird's strings. ``state`` is stored, and kept right by the store on every change
(``late`` once the due date has passed, ``paid`` once nothing is left).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from dunning.plugins.moneybird.fake.values import format_money, timestamp

JSON = dict[str, Any]


@dataclass
class ContactPerson:
    id: str
    firstname: str = ""
    lastname: str = ""
    phone: str | None = None
    email: str | None = None
    department: str | None = None
    version: int = 0


@dataclass
class Contact:
    id: str
    version: int
    created_at: datetime
    updated_at: datetime
    company_name: str = ""
    firstname: str | None = None
    lastname: str | None = None
    attention: str = ""
    email: str = ""
    phone: str = ""
    send_invoices_to_email: str = ""
    send_invoices_to_attention: str = ""
    send_estimates_to_email: str = ""
    customer_id: str = ""
    address1: str = ""
    address2: str = ""
    zipcode: str = ""
    city: str = ""
    country: str = "NL"
    delivery_method: str = "Email"
    tax_number: str = ""
    chamber_of_commerce: str = ""
    bank_account: str = ""
    sepa_iban: str = ""
    sepa_active: bool = False
    direct_debit: bool = False
    invoice_workflow_id: str | None = None
    archived: bool = False
    contact_people: list[ContactPerson] = field(default_factory=list)


@dataclass
class Payment:
    id: str
    invoice_id: str
    price: Decimal
    payment_date: date
    created_at: datetime
    transaction_identifier: str | None = None
    manual_payment_action: str | None = None
    financial_mutation_id: str | None = None


@dataclass
class Note:
    id: str
    entity_id: str
    note: str
    todo: bool
    created_at: datetime
    assignee_id: str | None = None


@dataclass
class Invoice:
    id: str
    contact_id: str
    version: int
    created_at: datetime
    updated_at: datetime
    invoice_date: date
    due_date: date
    total_price_incl_tax: Decimal
    invoice_id: str | None = None
    state: str = "open"
    contact_person_id: str | None = None
    reference: str = ""
    language: str = "nl"
    currency: str = "EUR"
    paused: bool = False
    paid_at: date | None = None
    sent_at: datetime | None = None
    tax_rate: Decimal = Decimal("21")
    workflow_id: str = ""
    document_style_id: str = ""
    identity_id: str = ""
    payment_reference: str = ""
    public_token: str = ""
    reminder_count: int = 0
    marked_uncollectible_on: date | None = None
    payments: list[Payment] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)

    @property
    def total_paid(self) -> Decimal:
        return sum((payment.price for payment in self.payments), Decimal("0"))

    @property
    def total_unpaid(self) -> Decimal:
        return self.total_price_incl_tax - self.total_paid


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def contact_person_json(person: ContactPerson, administration_id: str) -> JSON:
    return {
        "id": person.id,
        "contact_id": None,
        "administration_id": administration_id,
        "firstname": person.firstname,
        "lastname": person.lastname,
        "phone": person.phone,
        "email": person.email,
        "department": person.department,
        "version": person.version,
    }


def contact_json(contact: Contact, administration_id: str) -> JSON:
    people = []
    for person in contact.contact_people:
        entry = contact_person_json(person, administration_id)
        entry["contact_id"] = contact.id
        people.append(entry)
    return {
        "id": contact.id,
        "administration_id": administration_id,
        "company_name": contact.company_name,
        "firstname": contact.firstname,
        "lastname": contact.lastname,
        "address1": contact.address1,
        "address2": contact.address2,
        "zipcode": contact.zipcode,
        "city": contact.city,
        "country": contact.country,
        "phone": contact.phone,
        "delivery_method": contact.delivery_method,
        "customer_id": contact.customer_id,
        "tax_number": contact.tax_number,
        "chamber_of_commerce": contact.chamber_of_commerce,
        "bank_account": contact.bank_account,
        "attention": contact.attention,
        "email": contact.email,
        "email_ubl": True,
        "send_invoices_to_attention": contact.send_invoices_to_attention,
        "send_invoices_to_email": contact.send_invoices_to_email,
        "send_estimates_to_attention": "",
        "send_estimates_to_email": contact.send_estimates_to_email,
        "sepa_active": contact.sepa_active,
        "sepa_iban": contact.sepa_iban,
        "direct_debit": contact.direct_debit,
        "invoice_workflow_id": contact.invoice_workflow_id,
        "archived": contact.archived,
        "created_at": timestamp(contact.created_at),
        "updated_at": timestamp(contact.updated_at),
        "version": contact.version,
        "sales_invoices_url": None,
        "notes": [],
        "custom_fields": [],
        "contact_people": people,
        "events": [],
    }


def payment_json(payment: Payment, administration_id: str) -> JSON:
    price = format_money(payment.price)
    return {
        "id": payment.id,
        "administration_id": administration_id,
        "invoice_type": "SalesInvoice",
        "invoice_id": payment.invoice_id,
        "financial_account_id": None,
        "user_id": None,
        "payment_transaction_id": None,
        "transaction_identifier": payment.transaction_identifier,
        "price": price,
        "price_base": price,
        "payment_date": payment.payment_date.isoformat(),
        "credit_invoice_id": None,
        "financial_mutation_id": payment.financial_mutation_id,
        "ledger_account_id": None,
        "linked_payment_id": None,
        "manual_payment_action": payment.manual_payment_action,
        "created_at": timestamp(payment.created_at),
        "updated_at": timestamp(payment.created_at),
    }


def note_json(note: Note, administration_id: str) -> JSON:
    return {
        "id": note.id,
        "administration_id": administration_id,
        "entity_id": note.entity_id,
        "entity_type": "SalesInvoice",
        "user_id": None,
        "assignee_id": note.assignee_id,
        "todo": note.todo,
        "note": note.note,
        "completed_at": None,
        "completed_by_id": None,
        "todo_type": None,
        "data": {},
        "created_at": timestamp(note.created_at),
        "updated_at": timestamp(note.created_at),
    }


def invoice_json(
    invoice: Invoice, contact: Contact, administration_id: str, public_base: str
) -> JSON:
    """The full sales invoice, as ``GET sales_invoices/{id}.json`` returns it."""
    person = next((p for p in contact.contact_people if p.id == invoice.contact_person_id), None)
    incl = invoice.total_price_incl_tax
    excl = (incl * 100 / (100 + invoice.tax_rate)).quantize(Decimal("0.01"))
    view_url = f"{public_base}/{administration_id}/sales_invoices/{invoice.public_token}"
    return {
        "id": invoice.id,
        "administration_id": administration_id,
        "contact_id": invoice.contact_id,
        "contact": contact_json(contact, administration_id),
        "contact_person_id": invoice.contact_person_id,
        "contact_person": (
            {
                "firstname": person.firstname,
                "lastname": person.lastname,
                "phone": person.phone,
                "email": person.email,
            }
            if person
            else None
        ),
        "invoice_id": invoice.invoice_id,
        "recurring_sales_invoice_id": None,
        "subscription_id": None,
        "workflow_id": invoice.workflow_id,
        "document_style_id": invoice.document_style_id,
        "identity_id": invoice.identity_id,
        "draft_id": None,
        "state": invoice.state,
        "invoice_date": _day(invoice.invoice_date),
        "due_date": _day(invoice.due_date),
        "payment_conditions": "We verzoeken u vriendelijk het bovenstaande bedrag van "
        "{document.total_price} voor {document.due_date} te voldoen.",
        "payment_reference": invoice.payment_reference,
        "short_payment_reference": invoice.payment_reference[-12:],
        "reference": invoice.reference,
        "language": invoice.language,
        "currency": invoice.currency,
        "discount": "0.0",
        "original_sales_invoice_id": None,
        "paused": invoice.paused,
        "paid_at": _day(invoice.paid_at),
        "sent_at": timestamp(invoice.sent_at) if invoice.sent_at else None,
        "created_at": timestamp(invoice.created_at),
        "updated_at": timestamp(invoice.updated_at),
        "public_view_code": None,
        "public_view_code_expires_at": None,
        "version": invoice.version,
        "details": [
            {
                "id": str(int(invoice.id) + 1),
                "description": invoice.reference or "Geleverde diensten",
                "amount": "1",
                "price": format_money(excl),
                "tax_rate_id": None,
                "total_price_excl_tax_with_discount": format_money(excl),
            }
        ],
        "payments": [payment_json(p, administration_id) for p in invoice.payments],
        "total_paid": format_money(invoice.total_paid),
        "total_unpaid": format_money(invoice.total_unpaid),
        "total_unpaid_base": format_money(invoice.total_unpaid),
        "prices_are_incl_tax": False,
        "total_price_excl_tax": format_money(excl),
        "total_price_excl_tax_base": format_money(excl),
        "total_price_incl_tax": format_money(incl),
        "total_price_incl_tax_base": format_money(incl),
        "total_discount": "0.0",
        "marked_dubious_on": None,
        "marked_uncollectible_on": _day(invoice.marked_uncollectible_on),
        "reminder_count": invoice.reminder_count,
        "next_reminder": None,
        "original_estimate_id": None,
        "url": view_url,
        "payment_url": f"{view_url}/pay",
        "custom_fields": [],
        "notes": [note_json(n, administration_id) for n in invoice.notes],
        "attachments": [],
        "events": [],
        "tax_totals": [
            {
                "tax_rate_id": None,
                "taxable_amount": format_money(excl),
                "taxable_amount_base": format_money(excl),
                "tax_amount": format_money(incl - excl),
                "tax_amount_base": format_money(incl - excl),
            }
        ],
    }
