"""The recipient's lines in the envelope window, and an IBAN as printed."""

from __future__ import annotations

from dunning.channels.letter.labels import label
from dunning.core.errors import BadRecipient
from dunning.core.models import Debtor, DebtorKind

MAX_ADDRESS_LINES = 8
"""Lines that fit in the window below the return address (name and "t.a.v." included)."""


def address_lines(debtor: Debtor, language: str = "nl") -> list[str]:
    """The lines in the envelope window: the debtor's name, for a business "t.a.v." the contact
    person, then the postal address lines.

    Raises :class:`BadRecipient` naming the debtor when the address is missing, has no
    postcode-and-city line, or does not fit the window.
    """
    address = [line.strip() for line in debtor.address if line.strip()]
    who = f"debtor {debtor.debtor_id} ({debtor.name})"
    if not address:
        raise BadRecipient(
            f"{who} has no postal address; add street, postcode and city in the source "
            "(CSV columns adres, postcode, plaats)"
        )
    if len(address) < 2:
        raise BadRecipient(
            f"{who} has an incomplete postal address ({address[0]}); add street, postcode and "
            "city in the source (CSV columns adres, postcode, plaats)"
        )
    lines = [debtor.name]
    contact = (debtor.contact_name or "").strip()
    if debtor.kind is DebtorKind.BUSINESS and contact and contact != debtor.name:
        lines.append(f"{label('attention', language)} {contact}")
    lines.extend(address)
    if len(lines) > MAX_ADDRESS_LINES:
        raise BadRecipient(
            f"{who}: the address has {len(lines)} lines with the name, more than the "
            f"{MAX_ADDRESS_LINES} an envelope window holds; shorten it in the source"
        )
    return lines


def grouped_iban(iban: str) -> str:
    """``NL91ABNA0417164300`` as printed: ``NL91 ABNA 0417 1643 00``."""
    compact = "".join(iban.split()).upper()
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))
