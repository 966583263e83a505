"""Email address validation: the sender's own addresses (config) and the debtor's (recipient).

Every address goes through ``email-validator`` without a DNS look-up. Valid addresses come back
normalised (domain lower-cased; an internationalised domain in its ASCII form when the local part
is ASCII, so that any SMTP server can take it).
"""

from __future__ import annotations

import re

from email_validator import EmailNotValidError, validate_email

from dunning.core.errors import BadRecipient
from dunning.core.models import Debtor

SEPARATORS = re.compile(r"[;,]")


def normalise_address(value: str) -> str:
    """Return ``value`` as a normalised address; raise ``ValueError`` saying why it is invalid.

    The ``ValueError`` text is short and user-facing (pydantic shows it next to the config key).
    """
    try:
        result = validate_email(value.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(f"{value!r} is not a valid email address: {exc}") from None
    return result.ascii_email or result.normalized


def split_addresses(value: str) -> list[str]:
    """Split a list of addresses separated by ``;`` or ``,``; empty parts are dropped."""
    return [part.strip() for part in SEPARATORS.split(value) if part.strip()]


def debtor_label(debtor: Debtor) -> str:
    """``D012 (Bakkerij Jansen)``: how messages name a debtor."""
    return f"debtor {debtor.debtor_id} ({debtor.name})"


def debtor_recipients(debtor: Debtor) -> str:
    """The debtor's addresses, validated and normalised, joined by ``", "``.

    Several addresses separated by ``;`` or ``,`` are allowed; every one must be valid. Raises
    :class:`BadRecipient` naming the debtor, the bad value and the fix.
    """
    raw = (debtor.email or "").strip()
    if not raw or not split_addresses(raw):
        raise BadRecipient(
            f"{debtor_label(debtor)}: has no email address; add one in the source "
            "or send this step through another channel"
        )
    addresses: list[str] = []
    for part in split_addresses(raw):
        try:
            address = normalise_address(part)
        except ValueError:
            raise BadRecipient(
                f"{debtor_label(debtor)}: email {part!r} is not a valid address; "
                "correct it in the source"
            ) from None
        if address not in addresses:
            addresses.append(address)
    return ", ".join(addresses)


def domain_of(address: str) -> str:
    """The part after the last ``@`` (addresses here are already validated)."""
    return address.rpartition("@")[2]
