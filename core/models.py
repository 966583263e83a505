"""The domain records that flow between sources, the ledger, the policy and channels.

Money is ``Decimal`` in the currency's major unit (euros); the ledger stores it as integer cents.
Dates are ``datetime.date``; instants are timezone-aware ``datetime``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

CENT = Decimal("0.01")


def to_cents(amount: Decimal) -> int:
    """Convert an amount to integer cents, rounding half-up to the cent."""
    return int((amount.quantize(CENT, rounding="ROUND_HALF_UP") * 100).to_integral_value())


def from_cents(cents: int) -> Decimal:
    """Convert integer cents back to a two-decimal amount."""
    return (Decimal(cents) / 100).quantize(CENT)


class DebtorKind(enum.StrEnum):
    BUSINESS = "business"
    CONSUMER = "consumer"


@dataclass(frozen=True, slots=True)
class ContactPerson:
    """Someone at the debtor to speak to, besides the main contact: ``role`` ``management``
    is whom a credit controller escalates to when the payer keeps being absent."""

    name: str
    role: str = "contact"
    phone: str | None = None
    email: str | None = None


@dataclass(slots=True, eq=True)
class Debtor:
    """A customer who owes money, as the source knows them.

    ``debtor_id`` is the source's stable key (customer number). ``contact_name`` is the person
    addressed in messages; ``first_name`` is derived from it when the source has no separate field.
    Treat it as immutable; like :class:`Invoice` it is not frozen only because planning builds
    hundreds of thousands per run.
    """

    debtor_id: str
    name: str
    email: str | None = None
    phone: str | None = None
    contact_name: str | None = None
    first_name: str | None = None
    language: str = "nl"
    kind: DebtorKind = DebtorKind.BUSINESS
    tags: tuple[str, ...] = ()
    """Labels from the source (``vip``, ``no-sms``), lowercase; step conditions can test them."""
    country: str | None = None
    """ISO 3166 two-letter code; chooses the holiday calendar (default: the pipeline's)."""
    timezone: str | None = None
    """IANA zone (``Europe/Brussels``) for the send window (default: the pipeline's)."""
    contacts: tuple[ContactPerson, ...] = ()
    """Further people to call (a manager, the accounts-payable desk), as the source has them."""
    address: tuple[str, ...] = ()
    """Postal address lines as the source has them (street and number, postcode and city,
    country): the address block of a printed letter."""
    ibans: tuple[str, ...] = ()
    """Bank accounts the debtor pays from, as the source has them; normalised: no spaces, upper
    case (:func:`dunning.core.ibans.normal_iban`). Payment matching knows them from the first
    statement on, before any payment of the debtor was matched."""

    def contact_with_role(self, role: str) -> ContactPerson | None:
        return next((c for c in self.contacts if c.role == role), None)


@dataclass(slots=True, eq=True)
class Invoice:
    """An invoice (or credit note) as last seen in the source.

    ``amount_open`` is what is still to be paid. A credit note has a negative ``amount_total``;
    neither credit notes nor invoices with ``amount_open <= 0`` are ever dunned.

    Treat it as immutable (use ``dataclasses.replace``). It is not declared frozen because
    planning builds a million of them per run and a frozen dataclass takes several times as
    long to construct (``bench/plan.py``).
    """

    number: str
    debtor_id: str
    issue_date: date
    due_date: date
    amount_total: Decimal
    amount_open: Decimal
    currency: str = "EUR"
    payment_link: str | None = None
    is_credit_note: bool = False
    place: str | None = None  # where the source read it (file:line), for messages
    tags: tuple[str, ...] = ()
    """Labels from the source, lowercase; step conditions can test them."""
    paid_on: date | None = None
    """The day the invoice was settled in full, when the source knows it (payment behaviour)."""
    discount_percent: Decimal | None = None
    """Early-payment discount the invoice's terms offer (``2`` for 2%); ``None``: ask the config."""
    discount_days: int | None = None
    """Days after the invoice date within which the discount applies."""
    payment_reference: str | None = None
    """The reference the debtor quotes when paying (an RF creditor reference, a Dutch 16-digit
    betalingskenmerk), as the source has it."""
    your_ref: str | None = None
    """The debtor's own reference for the invoice (their order or purchase-order number), as
    the source has it: messages show it, so the debtor's accounts-payable desk can find it."""

    @property
    def is_dunnable(self) -> bool:
        """True when the invoice may be chased at all: a real invoice with money still open."""
        return not self.is_credit_note and self.amount_total > 0 and self.amount_open > 0

    def days_overdue(self, today: date) -> int:
        return (today - self.due_date).days


@dataclass(frozen=True, slots=True)
class RowProblem:
    """A source record that could not be used: reported, skipped and counted; the run goes on.

    ``place`` is ``file:line`` or a platform record id. ``invoice_number`` is set when the record's
    number could be read, so that a snapshot source does not mistake the invoice for settled.
    ``skipped`` False makes it a warning about a record that *was* used, without the bad value
    (an invalid IBAN beside a good invoice): reported, not counted as skipped.
    """

    place: str
    problem: str
    invoice_number: str | None = None
    skipped: bool = True

    def __str__(self) -> str:
        return f"{self.place}: {self.problem}"


@dataclass(frozen=True, slots=True)
class SyncIncomplete:
    """Emitted by a sync that had to stop before the end (a platform's daily limit).

    What was yielded before it is good and the :class:`SyncCursor` after it (if any) covers just
    that, so the next sync goes on from there. The ledger may still miss changes the platform
    holds (payments among them), so the run chases nobody on it: it plans and sends nothing and
    says ``reason`` ("Exact's daily limit ... is used up until 00:00 UTC")."""

    reason: str


@dataclass(frozen=True, slots=True)
class SyncCursor:
    """Emitted last by a source's sync: where the next incremental sync resumes."""

    value: str


@dataclass(frozen=True, slots=True)
class Creditor:
    """Who is owed: shown in every message (name, how to pay, how to reach us)."""

    name: str
    email: str | None = None
    phone: str | None = None
    iban: str | None = None
    website: str | None = None
    signature: str | None = None


@dataclass(frozen=True, slots=True)
class Payment:
    """Money received against one invoice. ``origin`` is ``manual``, ``source`` or a bank name."""

    invoice_number: str
    amount: Decimal
    paid_on: date
    origin: str = "manual"
    reference: str | None = None
    key: str | None = None
    """Stable per payment the ledger recorded (``dunning-<pipeline>-payment-<id>``): a source
    stores it with the payment (a transaction identifier) so that writing the same payment back
    again, after a lost answer or a crash, is recognised and not done twice."""
    reverses: Payment | None = None
    """Set on a returned payment (a negative ``amount``): the payment it undoes, as it was
    written back (with its ``key``)."""

    @property
    def identifier(self) -> str:
        """What a source stores with the payment to recognise it: :attr:`key`, else one made of
        the payment itself (invoice, day and amount)."""
        if self.key:
            return self.key
        return f"dunning-{self.invoice_number}-{self.paid_on.isoformat()}-{self.amount}"


class MessageState(enum.StrEnum):
    """Life of an outbox message. Only ``pending`` messages are ever handed to a channel.

    ``sending`` is written (and committed) right before the channel is called; a message found in
    ``sending`` after its run died is moved to ``uncertain`` and never re-sent automatically.
    """

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    UNCERTAIN = "uncertain"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class StepHistory:
    """One step the ledger remembers for an invoice: which step, when, in what state.

    Every state counts for the ladder's position (and the contact gap): a step that failed for
    good (a bad address) is reported in its run and the ladder moves on; it is not retried day
    after day."""

    step: str
    planned_for: date
    state: MessageState


@dataclass(frozen=True, slots=True)
class PlannedItem:
    """One invoice reaching one step: the unit the idempotency key guards."""

    invoice: Invoice
    step: str
    step_index: int
    reason: str
    resume_note: ResumeNote | None = None


@dataclass(frozen=True, slots=True)
class PlannedMessage:
    """What the policy decided to send to one debtor through one channel on one day.

    ``step`` and ``template`` are those of the most severe item; ``items`` lists every invoice
    the message covers, in due-date order.
    """

    pipeline: str
    debtor: Debtor
    channel: str
    step: str
    template: str
    planned_for: date
    items: tuple[PlannedItem, ...]
    kind: str = "step"
    """``step`` (a rung of the ladder), ``thanks`` or ``confirmation``: only steps are the
    ladder's memory and count for the once-per-channel-per-day rule."""
    key_suffix: str = ""
    """Appended to the idempotency key of messages that are not steps (``confirm-7-set``)."""
    hands_over: bool = False
    """The channel hands the invoices to a collection agency: from this message on, the
    pipeline never contacts the debtor about them again."""

    @property
    def total_open(self) -> Decimal:
        return sum((i.invoice.amount_open for i in self.items), Decimal(0))


@dataclass(frozen=True, slots=True)
class SkippedItem:
    """An invoice the policy looked at and did not plan today, with the reason (for ``plan``)."""

    invoice_number: str
    debtor_id: str
    reason: str


@dataclass(slots=True)
class Plan:
    messages: list[PlannedMessage] = field(default_factory=list)
    skipped: list[SkippedItem] = field(default_factory=list)
    not_planned: int = 0
    """Invoices that get nothing today (``skipped`` lists them only when reasons were asked)."""


@dataclass(frozen=True, slots=True)
class Receipt:
    """Proof a channel accepted a message: the provider's id and when."""

    provider_message_id: str
    accepted_at: datetime
    detail: str = ""


class PauseKind(enum.StrEnum):
    """Why the ladder stands still for a debtor or some of their invoices."""

    MANUAL = "pause"
    PROMISE = "promise"
    ARRANGEMENT = "arrangement"
    DISPUTE = "dispute"


class PauseStatus(enum.StrEnum):
    """``active`` until a person lifts it (``lifted``, ``resolved`` for a dispute), the debtor
    pays everything it covers (``kept``) or breaks the agreement (``broken``)."""

    ACTIVE = "active"
    KEPT = "kept"
    BROKEN = "broken"
    LIFTED = "lifted"
    RESOLVED = "resolved"


@dataclass(frozen=True, slots=True)
class Instalment:
    """One agreed payment of a payment arrangement."""

    due_on: date
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Pause:
    """A promise, arrangement, dispute or manual pause, as recorded in the ledger.

    ``invoice_numbers`` empty means every invoice of the debtor, also later ones (manual pauses and
    disputes on a debtor). Promises and arrangements always name the invoices they cover, fixed
    when the agreement was made; ``open_at_start`` is what those invoices had open then, so the
    amount paid since is ``open_at_start`` minus what is open now.
    """

    id: int
    debtor_id: str
    kind: PauseKind
    starts_on: date
    reason: str
    invoice_numbers: tuple[str, ...] = ()
    until: date | None = None
    grace_days: int = 0
    instalments: tuple[Instalment, ...] = ()
    open_at_start: Decimal = Decimal("0.00")
    status: PauseStatus = PauseStatus.ACTIVE
    ended_on: date | None = None
    created_by: str = ""

    def covers(self, invoice_number: str) -> bool:
        return not self.invoice_numbers or invoice_number in self.invoice_numbers


@dataclass(frozen=True, slots=True)
class ResumeNote:
    """Why the ladder moved again after standing still: the next message says so."""

    kind: PauseKind
    agreed_on: date
    promised_for: date | None
    """The promised payment day, or the missed instalment's due day."""
    amount: Decimal | None = None
    """The missed instalment's amount (arrangements)."""


@dataclass(frozen=True, slots=True)
class EarlyDiscount:
    """An early-payment discount that still applies when the message is sent."""

    percent: Decimal
    deadline: date
    amount: Decimal
    """The discount on the message's open total, in money."""
    pay_amount: Decimal
    """What the debtor pays when paying by ``deadline``."""
    applies_to: tuple[str, ...] = ()
    """Numbers of the invoices the discount applies to (all of the message's when it equals
    them; a template names them when it is only some)."""


@dataclass(frozen=True, slots=True)
class PaymentDetails:
    """How the debtor can pay what a message asks for: a link to pay online when there is one,
    and always the bank details with the reference to quote."""

    amount: Decimal
    currency: str
    reference: str
    """The payment reference to quote: the invoice's own, else the invoice numbers."""
    iban: str | None
    url: str | None = None
    """A link to pay online: a payment link made for this message (Mollie), else the invoice's
    own payment URL from the source; ``None`` when there is neither."""
    source: str = "bank"
    """Where ``url`` comes from: ``mollie``, ``invoice``, or ``bank`` (no link)."""


class ConfirmationEvent(enum.StrEnum):
    SET = "set"
    LIFTED = "lifted"
    RESOLVED = "resolved"


@dataclass(frozen=True, slots=True)
class Confirmation:
    """What a confirmation message confirms in writing: an agreement made, or a pause ended."""

    event: ConfirmationEvent
    pause: Pause
