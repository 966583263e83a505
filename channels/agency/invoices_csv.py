"""``invoices.csv``: one row per handed-over invoice, for an agency's spreadsheet or import.

Comma-separated UTF-8 with a header row; amounts with a dot and two decimals, dates ISO, so the
file reads the same in every locale. Interest is the claim's interest on that invoice.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from dunning.channels.agency.files import money
from dunning.core.handoff.dossier import Dossier

COLUMNS = (
    "invoice_number",
    "issue_date",
    "due_date",
    "days_overdue",
    "currency",
    "total",
    "open",
    "interest",
    "interest_from",
    "claimed",
    "payment_link",
)
"""``claimed`` is open plus interest (collection costs are for the dossier as a whole)."""


def invoices_csv(dossier: Dossier) -> bytes:
    """The CSV of ``dossier.invoices`` in dossier order."""
    lines = {line.invoice: line for line in dossier.claim.lines}
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for invoice in dossier.invoices:
        line = lines.get(invoice.number)
        interest = line.interest if line else None
        interest_amount = interest.amount if interest else Decimal(0)
        writer.writerow(
            (
                invoice.number,
                invoice.issue_date.isoformat(),
                invoice.due_date.isoformat(),
                max(invoice.days_overdue(dossier.created_on), 0),
                invoice.currency,
                money(invoice.amount_total),
                money(invoice.amount_open),
                money(interest_amount),
                interest.start.isoformat() if interest else "",
                money(invoice.amount_open + interest_amount),
                invoice.payment_link or "",
            )
        )
    return buffer.getvalue().encode("utf-8")
