"""The emails to the agency's intake address: a dossier with its files attached, or a notice.

The ``Message-ID`` is derived from the reference only: every attempt to send the same dossier
carries the same id, so the agency's mailbox or intake system can drop a duplicate. A notice
refers to its dossier's email (``In-Reply-To``), so it lands in the same thread.
"""

from __future__ import annotations

import hashlib
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate

from dunning.channels.agency.bundle import RenderedDossier, RenderedUpdate
from dunning.channels.agency.files import AgencyFile
from dunning.channels.agency.labels import label
from dunning.core.handoff.dossier import AgencyUpdate, Dossier
from dunning.core.models import DebtorKind
from dunning.core.pdf import format_day, format_money

MIME_POLICY = policy.SMTP
REFERENCE_HEADER = "X-Dunning-Reference"


def message_id_for(reference: str, from_address: str) -> str:
    """``<sha256(reference)[:32]@sender-domain>``: the same reference always gives the same id."""
    digest = hashlib.sha256(reference.encode("utf-8")).hexdigest()[:32]
    domain = from_address.rpartition("@")[2] or "dunning.invalid"
    return f"<{digest}@{domain}>"


def _address(address: str, name: str | None) -> Address:
    username, _, domain = address.rpartition("@")
    return Address(display_name=name or "", username=username, domain=domain)


def _attach(message: EmailMessage, file: AgencyFile) -> None:
    maintype, _, subtype = file.content_type.split(";", 1)[0].strip().partition("/")
    message.add_attachment(
        file.content, maintype=maintype, subtype=subtype or "octet-stream", filename=file.basename
    )


def _envelope(
    reference: str, subject: str, to: str, from_address: str, from_name: str | None
) -> EmailMessage:
    message = EmailMessage(policy=MIME_POLICY)
    message["Subject"] = subject
    message["From"] = _address(from_address, from_name)
    message["To"] = _address(to, None)
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = message_id_for(reference, from_address)
    message[REFERENCE_HEADER] = reference
    return message


def dossier_email(
    dossier: Dossier,
    rendered: RenderedDossier,
    *,
    to: str,
    from_address: str,
    from_name: str | None,
    language: str,
) -> EmailMessage:
    """The handoff email: a short text naming the debtor and the claim, every file attached."""
    debtor, claim = dossier.debtor, dossier.claim
    currency = dossier.invoices[0].currency if dossier.invoices else "EUR"
    kind = "consumer" if debtor.kind is DebtorKind.CONSUMER else "business"
    message = _envelope(
        dossier.reference,
        f"{label('dossier_subject', language)} {dossier.reference}: {debtor.name}",
        to,
        from_address,
        from_name,
    )
    body = [
        label("dossier_body", language),
        "",
        f"{label('debtor', language)}: {debtor.name} ({debtor.debtor_id}), {label(kind, language)}",
        f"{label('invoices', language)}: {', '.join(i.number for i in dossier.invoices)}",
        f"{label('total_open', language)}: {format_money(dossier.total_open, currency, language)}",
        f"{label('claim_total', language)}: {format_money(claim.total, currency, language)}",
        f"{label('reference', language)}: {dossier.reference}",
        "",
        dossier.creditor.signature or dossier.creditor.name,
    ]
    message.set_content("\n".join(body) + "\n")
    for file in rendered.files:
        _attach(message, file)
    return message


def update_email(
    update: AgencyUpdate,
    rendered: RenderedUpdate,
    *,
    to: str,
    from_address: str,
    from_name: str | None,
    language: str,
) -> EmailMessage:
    """The payment notice: a few lines of text, the JSON notice attached."""
    invoice = update.invoice
    message = _envelope(
        update.reference,
        f"{label('update_subject', language)}: {label('invoice', language).lower()} "
        f"{invoice.number} ({update.handoff_reference})",
        to,
        from_address,
        from_name,
    )
    thread = message_id_for(update.handoff_reference, from_address)
    message["In-Reply-To"] = thread
    message["References"] = thread
    paid_on = format_day(update.paid_on, language) if update.paid_on else "-"
    body = [
        label("update_body", language),
        "",
        f"{label('debtor', language)}: {update.debtor.name} ({update.debtor.debtor_id})",
        f"{label('invoice', language)}: {invoice.number}",
        f"{label('open_before', language)}: "
        f"{format_money(update.open_before, invoice.currency, language)}",
        f"{label('open_now', language)}: "
        f"{format_money(invoice.amount_open, invoice.currency, language)}",
        f"{label('paid_on', language)}: {paid_on}",
        f"{label('reference', language)}: {update.handoff_reference}",
    ]
    message.set_content("\n".join(body) + "\n")
    _attach(message, rendered.file)
    return message
