"""Telling the agency when a handed-over invoice is paid to the creditor directly.

After each sync, every delivered handoff is compared with the ledger: when an invoice's open
amount is below what the agency should expect (open at handoff minus what the agency itself
reported collecting), a notice is planned through the agency channel that received the
dossier. The notice's item key carries the new open amount in cents, so each change is
notified once, however often the run repeats.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

from dunning.core.config import LoadedPipeline
from dunning.core.ledger import Ledger
from dunning.core.ledger.outbox import AGENCY_UPDATE
from dunning.core.models import PlannedItem, PlannedMessage, to_cents

AGENCY_ORIGIN = "agency"
"""``Payment.origin`` of payments the agency reported (``dunning agency import``)."""


def plan_agency_updates(
    ledger: Ledger, pipeline: LoadedPipeline, today: date
) -> list[PlannedMessage]:
    """Notices due for handed-over invoices paid (in part) to the creditor since handoff."""
    name = pipeline.name
    handoffs = ledger.handoffs.all(name)
    if not handoffs:
        return []
    latest = {number: h for h in handoffs for number in h.invoice_numbers}
    current = ledger.invoices.get(name, list(latest))
    collected: dict[str, Decimal] = {}
    for payment in ledger.payments.of_invoices(name, list(latest)):
        if payment.origin == AGENCY_ORIGIN:
            collected[payment.invoice_number] = (
                collected.get(payment.invoice_number, Decimal(0)) + payment.amount
            )
    messages = []
    for number, handoff in sorted(latest.items()):
        if number not in current or handoff.channel not in pipeline.channels:
            continue
        invoice, in_source = current[number]
        open_now = invoice.amount_open if in_source else Decimal(0)
        expected = handoff.open_at_handoff.get(number, invoice.amount_total) - collected.get(
            number, Decimal(0)
        )
        if open_now >= expected:
            continue
        debtor = ledger.invoices.debtor(name, handoff.debtor_id)
        if debtor is None:
            continue
        cents = to_cents(max(open_now, Decimal(0)))
        event = "paid" if open_now <= 0 else "partly-paid"
        messages.append(
            PlannedMessage(
                pipeline=name,
                debtor=debtor,
                channel=handoff.channel,
                step=AGENCY_UPDATE,
                template=f"agency-{event}",
                planned_for=today,
                items=(
                    PlannedItem(
                        replace(invoice, amount_open=open_now),
                        f"{AGENCY_UPDATE}-{cents}",
                        -1,
                        f"{event} to the creditor after handoff; the agency is told",
                    ),
                ),
                kind=AGENCY_UPDATE,
                key_suffix=f"agency-{number}-{cents}",
            )
        )
    return messages
