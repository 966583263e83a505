"""The records a bank statement is read into, whatever its file format.

A :class:`StatementLine` is one transaction (a CAMT ``TxDtls``, or an entry without details,
or an MT940 ``:61:``). ``key`` is stable across re-imports of the same file, so importing a
file twice can be detected; ``place`` says where in the file the line came from.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from babel.numbers import is_currency

from dunning.core.errors import UsageError


class StatementError(UsageError):
    """A bank statement file cannot be read; nothing from it is recorded (exit code 2)."""


@dataclass(frozen=True)
class StatementLine:
    """One booked transaction.

    ``amount`` is signed: positive for money in (credit), negative for money out (debit).
    ``is_reversal`` marks a booking that undoes an earlier one (CAMT ``RvslInd``, MT940
    ``RC``/``RD``); ``is_return`` marks a returned payment (a return bank transaction code or
    return information). ``structured_reference`` is the creditor reference (RF… or the Dutch
    16-digit betalingskenmerk) when the bank gave one."""

    key: str
    booked_on: date
    amount: Decimal
    currency: str
    is_credit: bool
    is_reversal: bool
    is_return: bool
    structured_reference: str | None
    remittance_text: str
    payer_name: str | None
    payer_iban: str | None
    end_to_end_id: str | None
    place: str


@dataclass(frozen=True)
class Statement:
    """One account statement. ``created`` is timezone-aware when the file gives an offset."""

    account_iban: str | None
    currency: str
    statement_id: str
    created: datetime | None
    lines: tuple[StatementLine, ...]
    source: str


def checked_currency(code: str, place: str) -> str:
    """Return ``code`` if it is an ISO 4217 currency, else raise :class:`StatementError`."""
    if len(code) != 3 or not code.isalpha() or not is_currency(code.upper()):
        raise StatementError(
            f"{place}: unknown currency {code!r} (not an ISO 4217 code); "
            "check the export settings of your bank, nothing was imported"
        )
    return code.upper()
