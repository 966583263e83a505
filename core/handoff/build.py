"""Building a debtor's handoff dossier from the ledger (and the source's invoice PDFs)."""

from __future__ import annotations

from datetime import date

from dunning.core.config import LoadedPipeline
from dunning.core.errors import DunningError
from dunning.core.handoff.dossier import (
    Dossier,
    DossierAgreement,
    DossierCall,
    DossierLetter,
    DossierMessage,
    DossierPayment,
    InvoiceDocument,
)
from dunning.core.law.claim import Claim
from dunning.core.ledger import Ledger
from dunning.core.models import Debtor, Invoice
from dunning.core.source import Capability, Source


def _documents(
    source: Source | None, invoices: tuple[Invoice, ...], problems: list[str]
) -> tuple[InvoiceDocument, ...]:
    if source is None or Capability.INVOICE_DOCUMENTS not in source.capabilities:
        return ()
    found = []
    for invoice in invoices:
        try:
            document = source.invoice_document(invoice)
        except DunningError as error:
            problems.append(f"invoice {invoice.number}: PDF not added to the dossier: {error}")
            continue
        if document is not None:
            found.append(document)
    return tuple(found)


def build_dossier(
    ledger: Ledger,
    pipeline: LoadedPipeline,
    debtor: Debtor,
    invoices: tuple[Invoice, ...],
    claim: Claim,
    today: date,
    reference: str,
    source: Source | None = None,
    problems: list[str] | None = None,
) -> Dossier:
    """The complete file on ``debtor`` for handing ``invoices`` over.

    ``problems`` collects what could not be added (an invoice PDF the source failed to give);
    the dossier is still complete without it, and the run reports it."""
    name = pipeline.name
    kinds = {n: c.cls.kind for n, c in pipeline.channels.items()}
    messages = tuple(
        DossierMessage(
            planned_for=m.planned_for,
            sent_at=m.accepted_at,
            channel=m.channel,
            channel_kind=kinds.get(m.channel, m.channel),
            step=m.step,
            kind=m.kind,
            state=m.state.value,
            recipient=m.recipient,
            invoice_numbers=m.invoice_numbers,
            provider_message_id=m.provider_message_id,
        )
        for m in ledger.outbox.of_debtor(name, debtor.debtor_id)
    )
    calls = tuple(
        DossierCall(
            task_id=t.id,
            due_on=t.due_on,
            status=t.status.value,
            outcome=t.outcome.value if t.outcome else None,
            spoken_to=t.spoken_to,
            done_at=t.done_at,
            done_by=t.done_by,
            note=t.note,
            details=dict(t.details),
        )
        for t in ledger.calls.of_debtor(name, debtor.debtor_id)
    )
    agreements = tuple(
        DossierAgreement(
            pause_id=p.id,
            kind=p.kind.value,
            starts_on=p.starts_on,
            status=p.status.value,
            reason=p.reason,
            until=p.until,
            ended_on=p.ended_on,
            invoice_numbers=p.invoice_numbers,
            instalments=p.instalments,
        )
        for p in ledger.pauses.by_debtor(name).get(debtor.debtor_id, [])
    )
    numbers = ledger.invoices.numbers_of_debtor(name, debtor.debtor_id)
    payments = tuple(
        DossierPayment(p.invoice_number, p.amount, p.paid_on, p.origin, p.reference)
        for p in ledger.payments.of_invoices(name, numbers)
    )
    letters = tuple(
        DossierLetter(
            sent_on=letter.sent_on,
            received_on=letter.received_on,
            last_day=letter.last_day,
            channel=letter.channel,
            invoice_numbers=letter.invoice_numbers,
            principal=letter.principal,
            costs=letter.costs,
        )
        for letter in ledger.letters.of_debtor(name, debtor.debtor_id)
    )
    return Dossier(
        reference=reference,
        pipeline=name,
        created_on=today,
        creditor=pipeline.creditor,
        debtor=debtor,
        invoices=invoices,
        claim=claim,
        credit_notes=tuple(ledger.invoices.credit_notes_of(name, debtor.debtor_id)),
        messages=messages,
        calls=calls,
        agreements=agreements,
        payments=payments,
        letters=letters,
        documents=_documents(source, invoices, problems if problems is not None else []),
        vat_deductible=pipeline.config.law.vat_deductible,
    )
