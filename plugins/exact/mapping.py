"""Exact Online records -> the engine's :class:`Debtor` and :class:`Invoice` (API-CONTRACTS.md 1.5).

A debtor is an account (``crm/Accounts``) with its main contact (``crm/Contacts``): the
account's number (``Code``, without its padding spaces) is the debtor id; email and phone come
from the account, else from the main contact; the contact person's name and first name from the
main contact. Exact has no consumer flag: :data:`~dunning.plugins.exact.config.ConsumerRule`
decides (by default an account with neither a Chamber of Commerce nor a VAT number is a
consumer, the side on which collection law is stricter).

An invoice is the set of payment terms of one sales entry (``TransactionEntryID``): what is
open is the sum of the terms neither matched (``Status`` 50) nor fully paid, in the invoice's
currency (``AmountFC``); the total is ``TransactionAmountFC``; the due date is that of the
earliest open term.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from dunning.core.models import Debtor, DebtorKind
from dunning.plugins.exact.config import ConsumerRule

DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")
LANGUAGES = {"NL": "nl", "EN": "en", "FR": "fr", "DE": "de"}
MATCHED = 50


class Unmappable(ValueError):
    """A record the engine cannot use; the message says which field and why."""


def text(record: dict[str, Any], key: str) -> str:
    value = record.get(key)
    return str(value).strip() if value is not None else ""


def exact_date(value: Any) -> date | None:
    """``"/Date(1392163200000)/"`` -> 2014-02-12: epoch milliseconds, read as UTC, whose
    calendar date is the one meant (date-only fields are midnight UTC). ``None`` for null;
    ISO strings (what writes use) are accepted too."""
    if value is None or value == "":
        return None
    found = DATE.match(str(value))
    if found:
        return datetime.fromtimestamp(int(found.group(1)) / 1000, tz=UTC).date()
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise Unmappable(f"{value!r} is not an Exact date") from None


def money(record: dict[str, Any], key: str) -> Decimal:
    value = record.get(key)
    if value is None:
        raise Unmappable(f"{key} is missing")
    try:
        return Decimal(str(value)).quantize(Decimal("0.01"))
    except InvalidOperation:
        raise Unmappable(f"{key} {value!r} is not an amount") from None


def is_open(term: dict[str, Any]) -> bool:
    """A term still to be paid: neither matched nor fully paid."""
    return term.get("Status") != MATCHED and not term.get("IsFullyPaid")


def debtor_id_of(account: dict[str, Any]) -> str:
    code = text(account, "Code")
    if not code:
        raise Unmappable(f"account {text(account, 'ID')} has no Code (customer number)")
    return code


def _kind(account: dict[str, Any], rule: ConsumerRule) -> DebtorKind:
    if rule == "all":
        return DebtorKind.CONSUMER
    if rule == "none":
        return DebtorKind.BUSINESS
    registered = text(account, "ChamberOfCommerce") or text(account, "VATNumber")
    return DebtorKind.BUSINESS if registered else DebtorKind.CONSUMER


def account_to_debtor(
    account: dict[str, Any], contact: dict[str, Any] | None, rule: ConsumerRule
) -> Debtor:
    """The debtor of ``account``, with ``contact`` (its main contact, if known)."""
    name = text(account, "Name")
    if not name:
        raise Unmappable(f"account {text(account, 'ID')} has no Name")
    person = contact or {}
    full_name = text(person, "FullName") or " ".join(
        part for part in (text(person, "FirstName"), text(person, "LastName")) if part
    )
    email = text(account, "Email") or text(person, "Email") or text(person, "BusinessEmail") or None
    phone = (
        text(person, "Mobile")
        or text(person, "BusinessMobile")
        or text(account, "Phone")
        or text(person, "Phone")
        or None
    )
    place = " ".join(p for p in (text(account, "Postcode"), text(account, "City")) if p)
    address = tuple(line for line in (text(account, "AddressLine1"), place) if line)
    country = text(account, "Country").upper() or None
    return Debtor(
        debtor_id=debtor_id_of(account),
        name=name,
        email=email,
        phone=phone,
        contact_name=full_name or None,
        first_name=text(person, "FirstName") or None,
        language=LANGUAGES.get(text(account, "Language").upper(), "nl"),
        kind=_kind(account, rule),
        tags=("blocked",) if account.get("Blocked") else (),
        country=country if country and len(country) == 2 else None,
        address=address,
    )
