"""The variables a template sees, built from an :class:`OutgoingMessage`.

The context is plain data: the debtor and creditor records as they are, invoices as
:class:`InvoiceLine` (amounts as ``Decimal``), dates as ``date``. Formatting (money, dates,
percentages) is the templates' job, through the ``money``, ``date`` and ``percent`` filters.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from dunning.core.channel import OutgoingMessage
from dunning.core.models import (
    Confirmation,
    ConfirmationEvent,
    Debtor,
    Instalment,
    Invoice,
    PauseKind,
    ResumeNote,
)

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
    "early_discount",
    "resume_notes",
    "confirmation",
    "claim",
    "legal",
    "payment",
)
"""Every name a template may use (besides the filters ``money``, ``date``, ``percent`` and
``nl2br``)."""


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
    paid_on: date | None = None
    your_ref: str | None = None
    """The debtor's own reference (their order number), when the source has one."""

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
            paid_on=invoice.paid_on,
            your_ref=invoice.your_ref,
        )


@dataclass(frozen=True, slots=True)
class ConfirmationDetails:
    """What a ``confirm-*`` template confirms: the event and the agreement or pause it is about.

    The ledger's bookkeeping (record id, status, who recorded it) stays out of templates.
    ``invoice_numbers`` empty means the pause covers every invoice of the debtor.
    """

    event: ConfirmationEvent
    kind: PauseKind
    starts_on: date
    until: date | None
    grace_days: int
    instalments: tuple[Instalment, ...]
    invoice_numbers: tuple[str, ...]
    reason: str
    open_at_start: Decimal
    ended_on: date | None

    @property
    def all_invoices(self) -> bool:
        """True when the pause covers every invoice of the debtor, also later ones."""
        return not self.invoice_numbers

    @property
    def instalments_total(self) -> Decimal:
        return sum((instalment.amount for instalment in self.instalments), Decimal(0))

    @classmethod
    def of(cls, confirmation: Confirmation) -> ConfirmationDetails:
        pause = confirmation.pause
        return cls(
            event=confirmation.event,
            kind=pause.kind,
            starts_on=pause.starts_on,
            until=pause.until,
            grace_days=pause.grace_days,
            instalments=tuple(sorted(pause.instalments, key=lambda i: i.due_on)),
            invoice_numbers=pause.invoice_numbers,
            reason=pause.reason,
            open_at_start=pause.open_at_start,
            ended_on=pause.ended_on,
        )


def greeting_name(debtor: Debtor) -> str:
    """The name after "Beste"/"Dear": first name, else contact name, else the debtor's name."""
    for candidate in (debtor.first_name, debtor.contact_name, debtor.name):
        if candidate and candidate.strip():
            return candidate.strip()
    return debtor.name


def distinct_resume_notes(notes: tuple[ResumeNote, ...]) -> list[ResumeNote]:
    """``notes`` without repeats, oldest agreement first.

    Every invoice of a grouped message may carry the note of the same broken promise; the
    message states it once.
    """
    unique = list(dict.fromkeys(notes))
    return sorted(unique, key=lambda n: (n.agreed_on, n.promised_for or n.agreed_on))


def build_context(message: OutgoingMessage, language: str) -> dict[str, Any]:
    """The template context for ``message`` rendered in ``language``.

    ``previous_contacts`` are sorted oldest first, so ``previous_contacts[0].sent_on`` is the date
    of the first earlier reminder. ``payment_link`` is that of the first invoice that has one.
    ``early_discount`` and ``confirmation`` are ``None`` unless the message carries them;
    ``resume_notes`` is a (possibly empty) list.
    """
    lines = [InvoiceLine.of(invoice, message.today) for invoice in message.invoices]
    confirmation = message.confirmation
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
        "early_discount": message.early_discount,
        "resume_notes": distinct_resume_notes(message.resume_notes),
        "confirmation": None if confirmation is None else ConfirmationDetails.of(confirmation),
        "claim": message.claim,
        "legal": message.legal,
        "payment": message.payment,
    }
