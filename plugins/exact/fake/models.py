"""The records one Exact division keeps: accounts, contacts, payment terms, bank entry lines and
the ``sync/Deleted`` rows. Money is ``Decimal`` and dates are ``date`` here; ``entities.py`` turns
them into Exact's JSON. Every record carries the division's ``Timestamp`` (row version) of its
last change and the fake-clock moment of that change (``modified``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

OPEN = 20
MATCHED = 50
RECEIVABLE = 20
PAYABLE = 22


@dataclass(slots=True)
class Account:
    id: str
    code: str
    name: str
    timestamp: int
    modified: datetime
    email: str | None = None
    phone: str | None = None
    language: str = "NL"
    main_contact: str | None = None
    blocked: bool = False
    status: str = "C"
    chamber_of_commerce: str | None = None
    vat_number: str | None = None
    address_line1: str | None = None
    postcode: str | None = None
    city: str | None = None
    country: str = "NL"


@dataclass(slots=True)
class Contact:
    id: str
    account_id: str
    first_name: str
    last_name: str
    timestamp: int
    modified: datetime
    email: str | None = None
    business_email: str | None = None
    phone: str | None = None
    mobile: str | None = None
    business_mobile: str | None = None
    is_main: bool = False

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


@dataclass(slots=True)
class Term:
    """One payment term (a row of ``cashflow/Receivables``). ``amount_dc`` is this term's part
    (what is open while ``status`` is 20); ``transaction_amount_dc`` the whole invoice."""

    id: str
    hid: int
    account_id: str
    invoice_number: int
    entry_id: str
    transaction_entry_id: str
    amount_dc: Decimal
    transaction_amount_dc: Decimal
    invoice_date: date
    due_date: date
    timestamp: int
    modified: datetime
    line_type: int = RECEIVABLE
    status: int = OPEN
    currency: str = "EUR"
    description: str | None = None
    payment_reference: str | None = None
    your_ref: str | None = None
    last_payment_date: date | None = None
    journal_code: str = "70"

    @property
    def is_open(self) -> bool:
        return self.status == OPEN

    @property
    def is_fully_paid(self) -> bool:
        return self.status == MATCHED


@dataclass(slots=True)
class BankLine:
    id: str
    entry_id: str
    amount_fc: Decimal
    date: date
    timestamp: int
    account_id: str | None = None
    description: str | None = None
    our_ref: int | None = None
    gl_account: str | None = None
    matched: bool = False


@dataclass(slots=True)
class Deleted:
    """A ``sync/Deleted`` row. ``id`` is the deleted record's key (``EntityKey``)."""

    id: str
    entity_type: int
    timestamp: int
    deleted: datetime
