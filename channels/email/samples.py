"""Sample messages for ``check()``: render every template with data that reaches its branches.

A template that only breaks on a rarely seen combination (three invoices, a broken promise, a
lifted arrangement without invoices) should fail in ``dunning check``, not in the middle of a run.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

from dunning.core.channel import OutgoingMessage, PreviousContact
from dunning.core.models import (
    Confirmation,
    ConfirmationEvent,
    Creditor,
    Debtor,
    DebtorKind,
    EarlyDiscount,
    Instalment,
    Invoice,
    Pause,
    PauseKind,
    ResumeNote,
)

TODAY = date(2026, 3, 17)
CONFIRMATION_PREFIX = "confirm-"
"""Templates named ``confirm-<kind>`` are rendered with a :class:`Confirmation` of that kind."""


def sample_message(template: str, creditor: Creditor, *, invoice_count: int = 2) -> OutgoingMessage:
    """A plain message with ``invoice_count`` invoices (the second one partly paid)."""
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
            issue_date=TODAY - timedelta(days=45 + i),
            due_date=TODAY - timedelta(days=15 + i),
            amount_total=Decimal("1234.56") + i,
            amount_open=Decimal("1234.56") + i - (Decimal("200") if i == 1 else 0),
            payment_link="https://pay.example.com/2026-0012" if i == 0 else None,
            paid_on=TODAY - timedelta(days=2) if i == 2 else None,
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
        today=TODAY,
        creditor=creditor,
    )


def sample_messages(template: str, creditor: Creditor) -> Iterator[OutgoingMessage]:
    """The messages ``check()`` renders ``template`` with.

    Every template gets one invoice without history, and one and three invoices with earlier
    contacts, broken agreements and an early-payment discount. A ``confirm-<kind>`` template gets
    each of those, and one without invoices, with every :class:`ConfirmationEvent`, plus an
    agreement that has no end date, instalments or invoice numbers.
    """
    plain = [
        sample_message(template, creditor, invoice_count=1),
        with_history(sample_message(template, creditor, invoice_count=1)),
        with_history(sample_message(template, creditor, invoice_count=3)),
    ]
    if not template.startswith(CONFIRMATION_PREFIX):
        yield from plain
        return
    kind = _pause_kind(template.removeprefix(CONFIRMATION_PREFIX))
    for message in [*plain, sample_message(template, creditor, invoice_count=0)]:
        for event in ConfirmationEvent:
            yield replace(message, confirmation=sample_confirmation(message, kind, event))
    bare = Pause(id=2, debtor_id="D000", kind=kind, starts_on=TODAY - timedelta(days=1), reason="")
    yield replace(plain[0], confirmation=Confirmation(ConfirmationEvent.SET, bare))


def with_history(message: OutgoingMessage) -> OutgoingMessage:
    """``message`` with earlier reminders, broken agreements and an early-payment discount."""
    total = sum((i.amount_open for i in message.invoices), Decimal(0))
    discount = (total * Decimal("0.02")).quantize(Decimal("0.01"))
    return replace(
        message,
        previous_contacts=(
            PreviousContact(step="second-reminder", sent_on=date(2026, 3, 10), channel="email"),
            PreviousContact(step="friendly-reminder", sent_on=date(2026, 3, 3), channel="email"),
        ),
        resume_notes=(
            ResumeNote(PauseKind.PROMISE, date(2026, 3, 2), date(2026, 3, 10)),
            ResumeNote(PauseKind.PROMISE, date(2026, 3, 4), None),
            ResumeNote(
                PauseKind.ARRANGEMENT, date(2026, 2, 1), date(2026, 3, 1), Decimal("400.00")
            ),
            ResumeNote(PauseKind.MANUAL, date(2026, 2, 20), None),
        ),
        early_discount=EarlyDiscount(
            percent=Decimal("2"),
            deadline=TODAY + timedelta(days=7),
            amount=discount,
            pay_amount=total - discount,
        ),
    )


def sample_confirmation(
    message: OutgoingMessage, kind: PauseKind, event: ConfirmationEvent
) -> Confirmation:
    """A confirmation of ``kind`` covering the invoices of ``message``."""
    open_now = sum((i.amount_open for i in message.invoices), Decimal(0))
    pause = Pause(
        id=1,
        debtor_id=message.debtor.debtor_id,
        kind=kind,
        starts_on=TODAY - timedelta(days=1),
        reason="sample",
        invoice_numbers=tuple(i.number for i in message.invoices),
        until=TODAY + timedelta(days=14),
        grace_days=3,
        instalments=(
            Instalment(TODAY + timedelta(days=14), Decimal("400.00")),
            Instalment(TODAY + timedelta(days=44), Decimal("400.00")),
            Instalment(TODAY + timedelta(days=74), Decimal("434.56")),
        ),
        open_at_start=open_now,
        ended_on=None if event == ConfirmationEvent.SET else TODAY,
    )
    return Confirmation(event=event, pause=pause)


def _pause_kind(name: str) -> PauseKind:
    try:
        return PauseKind(name)
    except ValueError:
        return PauseKind.MANUAL
