"""The variables a template sees, built from an :class:`OutgoingMessage`.

The context is plain data: the debtor and creditor records as they are, invoices as
:class:`InvoiceLine` (amounts as ``Decimal``), dates as ``date``. Formatting (money, dates) is
the templates' job, through the ``money`` and ``date`` filters.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from dunning.core.channel import OutgoingMessage, PreviousContact
from dunning.core.models import Creditor, Debtor, DebtorKind, Invoice

CONTEXT_VARIABLES = (
    "debtor",
    "greeting_name",
    "invoices",
    "total_open",
    "currency",
    "creditor",
    "previous_contacts",
    "today",
    "step",
    "language",
    "payment_link",
)
"""Every name a template may use (besides the filters ``money``, ``date`` and ``nl2br``)."""


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    """One invoice as a template shows it (a row of the invoice table)."""

    number: str
    issue_date: date
    due_date: date
    amount_total: Decimal
    amount_open: Decimal
    days_overdue: int
    payment_link: str | None
    currency: str

    @property
    def partly_paid(self) -> bool:
        """True when part of the invoice has been paid already."""
        return self.amount_open != self.amount_total

    @classmethod
    def of(cls, invoice: Invoice, today: date) -> InvoiceLine:
        return cls(
            number=invoice.number,
            issue_date=invoice.issue_date,
            due_date=invoice.due_date,
            amount_total=invoice.amount_total,
            amount_open=invoice.amount_open,
            days_overdue=invoice.days_overdue(today),
            payment_link=invoice.payment_link,
            currency=invoice.currency,
        )


def greeting_name(debtor: Debtor) -> str:
    """The name after "Beste"/"Dear": first name, else contact name, else the debtor's name."""
    for candidate in (debtor.first_name, debtor.contact_name, debtor.name):
        if candidate and candidate.strip():
            return candidate.strip()
    return debtor.name


def build_context(message: OutgoingMessage, language: str) -> dict[str, Any]:
    """The template context for ``message`` rendered in ``language``.

    ``previous_contacts`` are sorted oldest first, so ``previous_contacts[0].sent_on`` is the date
    of the first earlier reminder. ``payment_link`` is that of the first invoice that has one.
    """
    lines = [InvoiceLine.of(invoice, message.today) for invoice in message.invoices]
    return {
        "debtor": message.debtor,
        "greeting_name": greeting_name(message.debtor),
        "invoices": lines,
        "total_open": sum((line.amount_open for line in lines), Decimal(0)),
        "currency": lines[0].currency if lines else "EUR",
        "creditor": message.creditor,
        "previous_contacts": sorted(message.previous_contacts, key=lambda c: c.sent_on),
        "today": message.today,
        "step": message.step,
        "language": language,
        "payment_link": next((line.payment_link for line in lines if line.payment_link), None),
    }


def sample_message(template: str, creditor: Creditor, *, invoice_count: int = 2) -> OutgoingMessage:
    """A realistic message for ``check()``: renders every branch a template is likely to have."""
    today = date(2026, 3, 17)
    debtor = Debtor(
        debtor_id="D000",
        name="Voorbeeld B.V.",
        email="jan@example.com",
        contact_name="Jan de Vries",
        first_name="Jan",
        kind=DebtorKind.BUSINESS,
    )
    invoices = tuple(
        Invoice(
            number=f"2026-{12 + i:04d}",
            debtor_id=debtor.debtor_id,
            issue_date=today - timedelta(days=45 + i),
            due_date=today - timedelta(days=15 + i),
            amount_total=Decimal("1234.56") + i,
            amount_open=Decimal("1234.56") + i - (Decimal("200") if i == 1 else 0),
            payment_link="https://pay.example.com/2026-0012" if i == 0 else None,
        )
        for i in range(invoice_count)
    )
    return OutgoingMessage(
        idempotency_key=f"check:{template}",
        pipeline="check",
        debtor=debtor,
        recipient="jan@example.com",
        step=template,
        template=template,
        invoices=invoices,
        today=today,
        creditor=creditor,
        previous_contacts=(
            PreviousContact(step="second-reminder", sent_on=date(2026, 3, 10), channel="email"),
            PreviousContact(step="friendly-reminder", sent_on=date(2026, 3, 3), channel="email"),
        ),
    )
