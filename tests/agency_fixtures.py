"""A realistic handoff dossier, built by hand, for the agency channel's tests.

A Dutch consumer, Zoë Çelik, with two invoices (one of € 1.234,56 untouched, one partly paid),
a reminder and a 14-day letter, a call in which she promised to pay, the broken promise and an
arrangement, a payment, and the PDF of one invoice.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache
from typing import Any

from dunning.core.config.schema import LawConfig
from dunning.core.handoff.dossier import (
    AgencyUpdate,
    Dossier,
    DossierAgreement,
    DossierCall,
    DossierLetter,
    DossierMessage,
    DossierPayment,
    InvoiceDocument,
)
from dunning.core.law.claim import build_claim
from dunning.core.models import Creditor, Debtor, DebtorKind, Instalment, Invoice
from dunning.core.pdf import new_pdf

TODAY = date(2026, 4, 20)
REFERENCE = "p:D042:handoff:2026-04-20"
BIG_INVOICE = "F-2026-0007"
SMALL_INVOICE = "F-2026-0031"
LETTER_SENT = date(2026, 3, 9)
LETTER_RECEIVED = date(2026, 3, 10)
LETTER_LAST_DAY = date(2026, 3, 24)

CREDITOR = Creditor(
    name="Acme B.V.",
    email="debiteuren@acme.example.com",
    phone="020 123 4567",
    iban="NL91ABNA0417164300",
    website="https://acme.example.com",
)

DEBTOR = Debtor(
    debtor_id="D042",
    name="Zoë Çelik",
    email="zoe.celik@example.nl",
    phone="+31612345678",
    contact_name="Zoë Çelik",
    first_name="Zoë",
    language="nl",
    kind=DebtorKind.CONSUMER,
    tags=("webshop",),
    country="NL",
)


def invoice(number: str = BIG_INVOICE, **changes: Any) -> Invoice:
    fields: dict[str, Any] = {
        "number": number,
        "debtor_id": DEBTOR.debtor_id,
        "issue_date": date(2026, 1, 15),
        "due_date": date(2026, 2, 14),
        "amount_total": Decimal("1234.56"),
        "amount_open": Decimal("1234.56"),
    }
    return Invoice(**{**fields, **changes})


@cache
def invoice_pdf(number: str) -> bytes:
    """A small real PDF standing in for the invoice document the source keeps."""
    pdf = new_pdf(created_on=date(2026, 1, 15))
    pdf.add_page()
    pdf.cell(0, 10, f"Factuur {number}")
    return bytes(pdf.output())


def dossier(**changes: Any) -> Dossier:
    invoices = (
        invoice(),
        invoice(
            SMALL_INVOICE,
            issue_date=date(2026, 2, 1),
            due_date=date(2026, 3, 3),
            amount_total=Decimal("250.00"),
            amount_open=Decimal("150.00"),
        ),
    )
    claim = build_claim(invoices, DEBTOR.kind, TODAY, LawConfig(), term_passed=True)
    both = (BIG_INVOICE, SMALL_INVOICE)
    fields: dict[str, Any] = {
        "reference": REFERENCE,
        "pipeline": "p",
        "created_on": TODAY,
        "creditor": CREDITOR,
        "debtor": DEBTOR,
        "invoices": invoices,
        "claim": claim,
        "credit_notes": (
            invoice(
                "CN-2026-0002",
                amount_total=Decimal("-20.00"),
                amount_open=Decimal("0.00"),
                is_credit_note=True,
            ),
        ),
        "messages": (
            DossierMessage(
                planned_for=date(2026, 2, 21),
                sent_at=datetime(2026, 2, 21, 9, 0, tzinfo=UTC),
                channel="email",
                channel_kind="email",
                step="friendly-reminder",
                kind="step",
                state="sent",
                recipient=DEBTOR.email,
                invoice_numbers=(BIG_INVOICE,),
                provider_message_id="<a1@acme.example.com>",
            ),
            DossierMessage(
                planned_for=LETTER_SENT,
                sent_at=datetime(2026, 3, 9, 9, 0, tzinfo=UTC),
                channel="email",
                channel_kind="email",
                step="fourteen-day-letter",
                kind="step",
                state="sent",
                recipient=DEBTOR.email,
                invoice_numbers=both,
                provider_message_id="<b2@acme.example.com>",
            ),
        ),
        "calls": (
            DossierCall(
                task_id=7,
                due_on=date(2026, 3, 26),
                status="done",
                outcome="promise",
                spoken_to="Zoë Çelik",
                done_at=datetime(2026, 3, 26, 14, 30, tzinfo=UTC),
                done_by="marieke",
                note="Belooft te betalen na haar salaris",
                details={"promised_for": "2026-04-03"},
            ),
        ),
        "agreements": (
            DossierAgreement(
                pause_id=3,
                kind="promise",
                starts_on=date(2026, 3, 26),
                status="broken",
                reason="telefonische belofte",
                until=date(2026, 4, 3),
                ended_on=date(2026, 4, 7),
                invoice_numbers=both,
            ),
            DossierAgreement(
                pause_id=4,
                kind="arrangement",
                starts_on=date(2026, 4, 8),
                status="broken",
                reason="betalingsregeling in twee termijnen",
                ended_on=date(2026, 4, 18),
                invoice_numbers=both,
                instalments=(
                    Instalment(date(2026, 4, 15), Decimal("692.28")),
                    Instalment(date(2026, 5, 15), Decimal("692.28")),
                ),
            ),
        ),
        "payments": (
            DossierPayment(SMALL_INVOICE, Decimal("100.00"), date(2026, 3, 2), "bank", "TRX-881"),
        ),
        "letters": (
            DossierLetter(
                sent_on=LETTER_SENT,
                received_on=LETTER_RECEIVED,
                last_day=LETTER_LAST_DAY,
                channel="email",
                invoice_numbers=both,
                principal=Decimal("1384.56"),
                costs=Decimal("195.69"),
            ),
        ),
        "documents": (
            InvoiceDocument(BIG_INVOICE, f"{BIG_INVOICE}.pdf", invoice_pdf(BIG_INVOICE)),
        ),
        "vat_deductible": True,
    }
    return Dossier(**{**fields, **changes})


def paid_update(**changes: Any) -> AgencyUpdate:
    """The big invoice was paid in full to the creditor after the handoff."""
    fields: dict[str, Any] = {
        "reference": f"{REFERENCE}:update:{BIG_INVOICE}:0.00",
        "handoff_reference": REFERENCE,
        "pipeline": "p",
        "debtor": DEBTOR,
        "invoice": invoice(amount_open=Decimal("0.00"), paid_on=date(2026, 5, 2)),
        "open_before": Decimal("1234.56"),
        "paid_on": date(2026, 5, 2),
        "event": "paid",
    }
    return AgencyUpdate(**{**fields, **changes})
