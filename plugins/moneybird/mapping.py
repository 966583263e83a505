"""Moneybird's JSON to dunning's records (API-CONTRACTS.md 2.4 and 2.5).

States ``open``, ``late`` and ``reminded`` are open with ``total_unpaid`` still to pay.
``paid`` closes the case (nothing open, ``paid_on`` from ``paid_at``). ``uncollectible`` closes
it too: the bookkeeper wrote the money off in Moneybird, so the pipeline stops chasing it
(nothing open, no ``paid_on``: it was never paid). Drafts are never asked for.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from dunning.core.ibans import normal_iban
from dunning.core.models import ContactPerson, Debtor, DebtorKind, Invoice

OPEN_STATES = frozenset({"open", "late", "reminded"})
CLOSED_STATES = frozenset({"paid", "uncollectible"})
SYNCED_STATES = ("open", "late", "reminded", "paid", "uncollectible")
DEFAULT_LANGUAGE = "nl"


class Unmappable(ValueError):
    """A Moneybird record that cannot become a dunning record; the message says why."""


def _text(value: Any) -> str:
    return str(value).strip() if value is not None else ""


def _full_name(record: dict[str, Any]) -> str:
    return " ".join(p for p in (_text(record.get("firstname")), _text(record.get("lastname"))) if p)


def _money(record: dict[str, Any], key: str) -> Decimal:
    try:
        return Decimal(_text(record.get(key)).replace(",", "."))
    except InvalidOperation:
        raise Unmappable(f"{key} {record.get(key)!r} is not an amount") from None


def _day(record: dict[str, Any], key: str, required: bool = True) -> date | None:
    value = _text(record.get(key))
    if not value:
        if required:
            raise Unmappable(f"{key} is missing")
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        raise Unmappable(f"{key} {value!r} is not a date") from None


def language_of(record: dict[str, Any]) -> str:
    return _text(record.get("language")).lower()[:2] or DEFAULT_LANGUAGE


def contact_people(contact: dict[str, Any]) -> tuple[ContactPerson, ...]:
    people = []
    for person in contact.get("contact_people") or []:
        name = _full_name(person)
        if name:
            people.append(
                ContactPerson(
                    name=name,
                    phone=_text(person.get("phone")) or None,
                    email=_text(person.get("email")) or None,
                )
            )
    return tuple(people)


def contact_to_debtor(contact: dict[str, Any], language: str = DEFAULT_LANGUAGE) -> Debtor:
    """A contact as a debtor: company (business) or person (consumer).

    The reminder email follows Moneybird's own order: ``send_invoices_to_email``, ``email``,
    then the first contact person's. The person addressed is the contact person (a business) or
    the contact's own name; the phone is kept as typed (the engine normalises it). The IBANs are
    ``sepa_iban`` (the direct-debit mandate's) and ``bank_account`` when that is an IBAN (it may
    hold any account number), compact and once each."""
    contact_id = _text(contact.get("id"))
    if not contact_id:
        raise Unmappable("the contact has no id")
    company = _text(contact.get("company_name"))
    own_name = _full_name(contact)
    people = contact_people(contact)
    person = people[0] if people else None
    if company:
        kind = DebtorKind.BUSINESS
        name = company
        contact_name = person.name if person else own_name or None
        first_source = (contact.get("contact_people") or [{}])[0] if person else contact
    else:
        kind = DebtorKind.CONSUMER
        name = own_name
        contact_name = own_name or None
        first_source = contact
    if not name:
        raise Unmappable(f"contact {contact_id} has neither a company name nor a person's name")
    emails = [
        _text(contact.get("send_invoices_to_email")),
        _text(contact.get("email")),
        *(p.email or "" for p in people),
    ]
    phones = [_text(contact.get("phone")), *(p.phone or "" for p in people)]
    zip_city = " ".join(p for p in (_text(contact.get("zipcode")), _text(contact.get("city"))) if p)
    address = [_text(contact.get("address1")), _text(contact.get("address2")), zip_city]
    country = _text(contact.get("country")).upper()
    accounts = (normal_iban(_text(contact.get(key))) for key in ("sepa_iban", "bank_account"))
    return Debtor(
        debtor_id=contact_id,
        name=name,
        email=next((e for e in emails if e), None),
        phone=next((p for p in phones if p), None),
        contact_name=contact_name,
        first_name=_text(first_source.get("firstname")) or None,
        language=language,
        kind=kind,
        country=country if len(country) == 2 else None,
        contacts=people,
        address=tuple(line for line in address if line),
        ibans=tuple(dict.fromkeys(iban for iban in accounts if iban)),
    )


def invoice_to_record(data: dict[str, Any], *, left: bool = False) -> Invoice:
    """A sales invoice as an :class:`Invoice`; raises :class:`Unmappable`.

    ``left``: the invoice was synced before and has left the synced states (back to draft,
    ``pending_payment`` while a direct debit is collected, ``scheduled``); it is closed, so
    the pipeline stops chasing it, and opens again if it comes back."""
    number = _text(data.get("invoice_id"))
    if not number:
        raise Unmappable("the invoice has no invoice_id (a draft?)")
    state = _text(data.get("state"))
    if left and state not in OPEN_STATES:
        state = "uncollectible" if state != "paid" else state
    if state not in OPEN_STATES | CLOSED_STATES:
        raise Unmappable(f"state {state!r} is not one of {', '.join(SYNCED_STATES)}")
    contact_id = _text(data.get("contact_id")) or _text((data.get("contact") or {}).get("id"))
    if not contact_id:
        raise Unmappable("the invoice has no contact_id")
    total = _money(data, "total_price_incl_tax")
    issue_date = _day(data, "invoice_date")
    due_date = _day(data, "due_date")
    assert issue_date is not None and due_date is not None
    open_amount = _money(data, "total_unpaid") if state in OPEN_STATES else Decimal("0")
    return Invoice(
        number=number,
        debtor_id=contact_id,
        issue_date=issue_date,
        due_date=due_date,
        amount_total=total,
        amount_open=open_amount,
        currency=_text(data.get("currency")).upper() or "EUR",
        payment_link=_text(data.get("payment_url")) or None,
        is_credit_note=total < 0,
        place=f"moneybird:sales_invoice:{_text(data.get('id'))}",
        paid_on=_day(data, "paid_at", required=False) if state == "paid" else None,
        payment_reference=_text(data.get("payment_reference")) or None,
        your_ref=_text(data.get("reference")) or None,
    )
