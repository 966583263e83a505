"""The words of the PDF summary and the emails to the agency, in Dutch and English."""

from __future__ import annotations

LABELS: dict[str, tuple[str, str]] = {
    "title": ("Dossier overdracht incasso", "Collection handoff dossier"),
    "reference": ("Kenmerk", "Reference"),
    "created_on": ("Datum", "Date"),
    "agency": ("Incassobureau", "Collection agency"),
    "creditor": ("Schuldeiser", "Creditor"),
    "debtor": ("Schuldenaar", "Debtor"),
    "name": ("Naam", "Name"),
    "debtor_id": ("Klantnummer", "Customer number"),
    "kind": ("Soort", "Type"),
    "business": ("zakelijk (B2B)", "business (B2B)"),
    "consumer": ("consument (B2C)", "consumer (B2C)"),
    "contact": ("Contactpersoon", "Contact person"),
    "email": ("E-mail", "Email"),
    "phone": ("Telefoon", "Phone"),
    "iban": ("IBAN", "IBAN"),
    "website": ("Website", "Website"),
    "country": ("Land", "Country"),
    "language": ("Taal", "Language"),
    "tags": ("Labels", "Tags"),
    "vat_deductible": ("Btw aftrekbaar", "VAT deductible"),
    "yes": ("ja", "yes"),
    "no": ("nee", "no"),
    "none": ("Geen.", "None."),
    "invoices": ("Facturen", "Invoices"),
    "credit_notes": ("Creditnota's", "Credit notes"),
    "number": ("Nummer", "Number"),
    "invoice": ("Factuur", "Invoice"),
    "issue_date": ("Factuurdatum", "Invoice date"),
    "due_date": ("Vervaldatum", "Due date"),
    "days_overdue": ("Dagen over", "Days overdue"),
    "total": ("Bedrag", "Amount"),
    "open": ("Open", "Open"),
    "total_open": ("Totaal open", "Total open"),
    "claim": ("Vordering", "Claim"),
    "as_of": ("per", "as of"),
    "principal": ("Hoofdsom", "Principal"),
    "interest": ("Rente", "Interest"),
    "interest_from": ("rente vanaf", "interest from"),
    "costs": ("Incassokosten", "Collection costs"),
    "vat": ("Btw over kosten", "VAT on costs"),
    "claim_total": ("Totaal vordering", "Total claim"),
    "costs_later": (
        "De incassokosten mogen nog niet in rekening worden gebracht; ze zijn niet in het "
        "totaal opgenomen.",
        "The collection costs may not be charged yet; they are not part of the total.",
    ),
    "history": ("Correspondentie", "Correspondence"),
    "date": ("Datum", "Date"),
    "channel": ("Kanaal", "Channel"),
    "step": ("Stap", "Step"),
    "state": ("Status", "State"),
    "recipient": ("Ontvanger", "Recipient"),
    "calls": ("Telefoongesprekken", "Calls"),
    "outcome": ("Uitkomst", "Outcome"),
    "spoken_to": ("Gesproken met", "Spoken to"),
    "done_by": ("Door", "By"),
    "note": ("Notitie", "Note"),
    "details": ("Details", "Details"),
    "agreements": ("Afspraken en geschillen", "Agreements and disputes"),
    "period": ("Periode", "Period"),
    "reason": ("Omschrijving", "Description"),
    "instalments": ("Termijnen", "Instalments"),
    "payments": ("Betalingen", "Payments"),
    "amount": ("Bedrag", "Amount"),
    "origin": ("Herkomst", "Origin"),
    "letters": ("Veertiendagenbrief", "14-day letter"),
    "sent_on": ("Verzonden", "Sent"),
    "received_on": ("Ontvangen", "Received"),
    "last_day": ("Laatste dag termijn", "Last day of the term"),
    "attachments": ("Bijlagen", "Attachments"),
    "page": ("Pagina", "Page"),
    "dossier_subject": ("Overdracht dossier", "Handoff dossier"),
    "update_subject": ("Betaling ontvangen", "Payment received"),
    "dossier_body": (
        "Hierbij dragen wij de vordering op onderstaande schuldenaar aan u over. De gegevens "
        "staan in de bijlagen (manifest.json, invoices.csv, summary.pdf en de facturen).",
        "We hereby hand over our claim on the debtor below. The details are in the "
        "attachments (manifest.json, invoices.csv, summary.pdf and the invoices).",
    ),
    "update_body": (
        "De schuldenaar heeft rechtstreeks aan ons betaald op een overgedragen factuur. De "
        "gegevens staan in de bijlage.",
        "The debtor paid us directly on a handed-over invoice. The details are attached.",
    ),
    "open_before": ("Open bij overdracht", "Open at handoff"),
    "open_now": ("Nu open", "Open now"),
    "paid_on": ("Betaald op", "Paid on"),
}

LANGUAGES = ("nl", "en")


def label(key: str, language: str) -> str:
    """The text of ``key`` in ``language`` (``nl`` or ``en``; anything else gets English)."""
    dutch, english = LABELS[key]
    return dutch if language == "nl" else english
