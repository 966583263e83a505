"""The dossier as JSON (``manifest.json``) and the JSON notice of a payment after handoff.

Conventions an agency can rely on (``schema_version`` 1): amounts are strings with two decimals
and a dot (``"1234.56"``), dates ISO 8601 (``2026-03-16``), instants ISO 8601 with their offset.
Absent facts are ``null``; nothing is invented (the debtor's identity is what the source knows).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from dunning.channels.agency.files import AgencyFile, money
from dunning.core.handoff.dossier import (
    AgencyUpdate,
    Dossier,
    DossierAgreement,
    DossierCall,
    DossierLetter,
    DossierMessage,
    DossierPayment,
)
from dunning.core.law.claim import Claim, ClaimLine
from dunning.core.models import Creditor, Debtor, DebtorKind, Invoice

SCHEMA = "dunning.agency-dossier"
UPDATE_SCHEMA = "dunning.agency-update"
SCHEMA_VERSION = 1

JSONObject = dict[str, Any]


def _day(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _instant(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def creditor_json(creditor: Creditor) -> JSONObject:
    return {
        "name": creditor.name,
        "email": creditor.email,
        "phone": creditor.phone,
        "iban": creditor.iban,
        "website": creditor.website,
    }


def debtor_json(debtor: Debtor) -> JSONObject:
    return {
        "id": debtor.debtor_id,
        "name": debtor.name,
        "kind": str(debtor.kind),
        "business": debtor.kind is DebtorKind.BUSINESS,
        "contact_name": debtor.contact_name,
        "email": debtor.email,
        "phone": debtor.phone,
        "language": debtor.language,
        "country": debtor.country,
        "tags": list(debtor.tags),
        "contacts": [
            {"name": c.name, "role": c.role, "phone": c.phone, "email": c.email}
            for c in debtor.contacts
        ],
    }


def invoice_json(invoice: Invoice, today: date) -> JSONObject:
    return {
        "number": invoice.number,
        "issue_date": _day(invoice.issue_date),
        "due_date": _day(invoice.due_date),
        "days_overdue": None if invoice.is_credit_note else max(invoice.days_overdue(today), 0),
        "total": money(invoice.amount_total),
        "open": money(invoice.amount_open),
        "currency": invoice.currency,
        "payment_link": invoice.payment_link,
        "tags": list(invoice.tags),
    }


def message_json(message: DossierMessage) -> JSONObject:
    return {
        "planned_for": _day(message.planned_for),
        "sent_at": _instant(message.sent_at),
        "channel": message.channel,
        "channel_kind": message.channel_kind,
        "step": message.step,
        "kind": message.kind,
        "state": message.state,
        "recipient": message.recipient,
        "invoice_numbers": list(message.invoice_numbers),
        "provider_message_id": message.provider_message_id,
    }


def call_json(call: DossierCall) -> JSONObject:
    return {
        "task_id": call.task_id,
        "due_on": _day(call.due_on),
        "status": call.status,
        "outcome": call.outcome,
        "spoken_to": call.spoken_to,
        "done_at": _instant(call.done_at),
        "done_by": call.done_by,
        "note": call.note,
        "details": dict(call.details),
    }


def agreement_json(agreement: DossierAgreement) -> JSONObject:
    return {
        "id": agreement.pause_id,
        "kind": agreement.kind,
        "status": agreement.status,
        "starts_on": _day(agreement.starts_on),
        "until": _day(agreement.until),
        "ended_on": _day(agreement.ended_on),
        "reason": agreement.reason,
        "invoice_numbers": list(agreement.invoice_numbers),
        "instalments": [
            {"due_on": _day(i.due_on), "amount": money(i.amount)} for i in agreement.instalments
        ],
    }


def payment_json(payment: DossierPayment) -> JSONObject:
    return {
        "invoice_number": payment.invoice_number,
        "amount": money(payment.amount),
        "paid_on": _day(payment.paid_on),
        "origin": payment.origin,
        "reference": payment.reference,
    }


def letter_json(letter: DossierLetter) -> JSONObject:
    return {
        "sent_on": _day(letter.sent_on),
        "received_on": _day(letter.received_on),
        "last_day": _day(letter.last_day),
        "channel": letter.channel,
        "invoice_numbers": list(letter.invoice_numbers),
        "principal": money(letter.principal),
        "costs": money(letter.costs),
    }


def claim_line_json(line: ClaimLine) -> JSONObject:
    interest = line.interest
    return {
        "invoice": line.invoice,
        "due_date": _day(line.due_date),
        "principal": money(line.principal),
        "interest": money(interest.amount) if interest else "0.00",
        "interest_from": _day(interest.start) if interest else None,
        "interest_through": _day(interest.end) if interest else None,
        "interest_periods": [
            {
                "first_day": _day(period.first_day),
                "last_day": _day(period.last_day),
                "days": period.days,
                "percent": str(period.percent),
                "base": money(period.base),
                "amount": money(period.amount),
            }
            for period in (interest.lines if interest else ())
        ],
    }


def claim_json(claim: Claim) -> JSONObject:
    return {
        "as_of": _day(claim.as_of),
        "lines": [claim_line_json(line) for line in claim.lines],
        "principal": money(claim.principal),
        "interest": money(claim.interest),
        "interest_basis": claim.interest_basis,
        "costs": money(claim.costs),
        "vat": money(claim.vat),
        "costs_basis": claim.costs_basis,
        "costs_now": claim.costs_now,
        "total": money(claim.total),
    }


def attachment_json(file: AgencyFile) -> JSONObject:
    return {
        "name": file.name,
        "content_type": file.content_type,
        "size": len(file.content),
        "sha256": file.sha256,
    }


def dossier_manifest(
    dossier: Dossier, attachments: Sequence[AgencyFile], agency_name: str | None = None
) -> JSONObject:
    """The whole dossier as one JSON object; ``attachments`` are the files delivered with it
    (listed with size and SHA-256 so the agency can check it received them intact)."""
    today = dossier.created_on
    return {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "reference": dossier.reference,
        "pipeline": dossier.pipeline,
        "created_on": _day(today),
        "agency_name": agency_name,
        "creditor": creditor_json(dossier.creditor),
        "vat_deductible": dossier.vat_deductible,
        "debtor": debtor_json(dossier.debtor),
        "total_open": money(dossier.total_open),
        "invoices": [invoice_json(invoice, today) for invoice in dossier.invoices],
        "credit_notes": [invoice_json(note, today) for note in dossier.credit_notes],
        "claim": claim_json(dossier.claim),
        "messages": [message_json(message) for message in dossier.messages],
        "calls": [call_json(call) for call in dossier.calls],
        "agreements": [agreement_json(agreement) for agreement in dossier.agreements],
        "payments": [payment_json(payment) for payment in dossier.payments],
        "letters": [letter_json(letter) for letter in dossier.letters],
        "attachments": [attachment_json(file) for file in attachments],
    }


def update_notice(update: AgencyUpdate) -> JSONObject:
    """The JSON notice that a handed-over invoice was paid (in part) to the creditor.

    ``type`` and ``event`` are both the event (``paid`` or ``partly-paid``); ``amount_open`` is
    what is open now, ``open_before`` what was open when the invoice was handed over."""
    invoice = update.invoice
    return {
        "schema": UPDATE_SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "type": update.event,
        "event": update.event,
        "reference": update.reference,
        "handoff_reference": update.handoff_reference,
        "pipeline": update.pipeline,
        "debtor_id": update.debtor.debtor_id,
        "debtor_name": update.debtor.name,
        "invoice": invoice.number,
        "currency": invoice.currency,
        "open_before": money(update.open_before),
        "amount_open": money(invoice.amount_open),
        "paid_on": _day(update.paid_on),
    }


def to_json_bytes(document: JSONObject) -> bytes:
    """UTF-8 JSON, indented, keys in the order built (stable for the same input)."""
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
