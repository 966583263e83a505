"""The handoff dossier: everything a collection agency needs about one debtor, as plain data.

Built by the core from the ledger (:func:`dunning.core.handoff.build.build_dossier`) and handed to
an agency channel in :attr:`dunning.core.channel.OutgoingMessage.dossier`; the channel renders it
(JSON manifest, CSV of invoices, PDF summary) and delivers it. Nothing here reads the ledger.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from dunning.core.law.claim import Claim
from dunning.core.models import Creditor, Debtor, Instalment, Invoice


@dataclass(frozen=True, slots=True)
class DossierMessage:
    """One message the debtor was sent (or may have been), for the reminder history."""

    planned_for: date
    sent_at: datetime | None
    """When the channel accepted it (``None`` when it was never accepted)."""
    channel: str
    channel_kind: str
    step: str
    kind: str
    """``step``, ``thanks``, ``confirmation`` or ``agency-update``."""
    state: str
    recipient: str | None
    invoice_numbers: tuple[str, ...]
    provider_message_id: str | None = None


@dataclass(frozen=True, slots=True)
class DossierCall:
    """A call task and what came of it."""

    task_id: int
    due_on: date
    status: str
    """``open``, ``done`` or ``cancelled``."""
    outcome: str | None = None
    spoken_to: str | None = None
    done_at: datetime | None = None
    done_by: str | None = None
    note: str | None = None
    details: dict[str, str] = field(default_factory=dict)
    """The outcome's facts as recorded (``on``, ``at``, ``amount``, ``paid_on``, ``reference``,
    ``instalments``), as text."""


@dataclass(frozen=True, slots=True)
class DossierAgreement:
    """A promise, arrangement, dispute or pause, and how it ended."""

    pause_id: int
    kind: str
    starts_on: date
    status: str
    reason: str
    until: date | None = None
    ended_on: date | None = None
    invoice_numbers: tuple[str, ...] = ()
    instalments: tuple[Instalment, ...] = ()


@dataclass(frozen=True, slots=True)
class DossierPayment:
    invoice_number: str
    amount: Decimal
    paid_on: date
    origin: str
    reference: str | None = None


@dataclass(frozen=True, slots=True)
class DossierLetter:
    """Proof of a Dutch 14-day letter (consumers): sent, received, the term's last day."""

    sent_on: date
    received_on: date
    last_day: date
    channel: str
    invoice_numbers: tuple[str, ...]
    principal: Decimal
    costs: Decimal


@dataclass(frozen=True, slots=True)
class InvoiceDocument:
    """An invoice's PDF as the source keeps it."""

    invoice_number: str
    filename: str
    content: bytes


@dataclass(frozen=True, slots=True)
class Dossier:
    """One debtor handed over: identity, invoices, history, agreements and the claim.

    ``reference`` is the handoff's idempotency key: an agency that receives the same reference
    twice has received the same dossier twice.
    """

    reference: str
    pipeline: str
    created_on: date
    creditor: Creditor
    debtor: Debtor
    invoices: tuple[Invoice, ...]
    """The invoices handed over, with their open amounts now."""
    claim: Claim
    credit_notes: tuple[Invoice, ...] = ()
    messages: tuple[DossierMessage, ...] = ()
    calls: tuple[DossierCall, ...] = ()
    agreements: tuple[DossierAgreement, ...] = ()
    payments: tuple[DossierPayment, ...] = ()
    letters: tuple[DossierLetter, ...] = ()
    documents: tuple[InvoiceDocument, ...] = ()
    vat_deductible: bool = True
    """Whether the creditor can deduct VAT (agencies charge VAT on costs only when not)."""

    @property
    def total_open(self) -> Decimal:
        return sum((i.amount_open for i in self.invoices), Decimal(0))


@dataclass(frozen=True, slots=True)
class AgencyUpdate:
    """News about a handed-over invoice for the agency: the creditor was paid (in part) directly.

    Sent through the agency channel that received the dossier, once per change of open amount.
    """

    reference: str
    """The idempotency key of this notice."""
    handoff_reference: str
    """The dossier's reference the invoice was handed over with."""
    pipeline: str
    debtor: Debtor
    invoice: Invoice
    """The invoice as the ledger knows it now (``amount_open`` 0 when settled)."""
    open_before: Decimal
    """What was open when the invoice was handed over."""
    paid_on: date | None
    event: str = "paid"
    """``paid`` (nothing left open) or ``partly-paid``."""
