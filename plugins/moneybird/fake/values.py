"""Moneybird's value conventions: 64-bit ids as strings, money as decimal strings, RF references.

Requests may send an id as a string or a number and an amount as a number, ``"10.95"`` or
``"10,95"`` (API-CONTRACTS.md 2.1); answers always use strings.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any


class InvalidValue(ValueError):
    """A request value the API would refuse; the message is the one put in the 422 body."""


def parse_money(value: Any) -> Decimal:
    """An amount from a request: int, float, ``"363.0"`` or ``"10,95"``."""
    if isinstance(value, bool) or value is None:
        raise InvalidValue("is not a number")
    text = str(value).strip().replace(",", ".")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise InvalidValue("is not a number") from None
    if not amount.is_finite():
        raise InvalidValue("is not a number")
    return amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def format_money(amount: Decimal) -> str:
    """Moneybird's rendering: ``"363.0"``, ``"10.95"``, ``"-5.5"`` (at least one decimal)."""
    text = f"{amount.quantize(Decimal('0.01')):f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


def parse_identifier(value: Any) -> str | None:
    """The canonical string of an id given as a string or an int; ``None`` when not an id."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value) if value > 0 else None
    if isinstance(value, str) and value.isdigit() and len(value) <= 19:
        return str(int(value))
    return None


def rf_reference(base: str) -> str:
    """An ISO 11649 creditor reference (``RF`` + two check digits + ``base``)."""
    digits = "".join(str(int(char, 36)) for char in (base + "RF00").upper())
    return f"RF{98 - int(digits) % 97:02d}{base.upper()}"


def timestamp(moment: datetime) -> str:
    """``2026-08-21T10:26:49.532Z``: the form Moneybird uses for ``created_at``/``updated_at``."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"
