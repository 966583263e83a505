"""Read MT940 statements with the ``mt-940`` package.

A file may hold several statements, each opened by ``:20:``; each is parsed on its own so that
its account (``:25:``), number (``:28C:``) and currency (``:60F:``) stay with its lines. Dutch
banks put structured fields (``/EREF/``, ``/NAME/``, ``/IBAN/``, ``/REMI/``, ``/CDTRREF/``)
inside ``:86:``; those are picked out when present.
"""

from __future__ import annotations

import logging
import re
from datetime import date
from decimal import Decimal
from itertools import pairwise

import mt940

from dunning.core.bank.statement import (
    Statement,
    StatementError,
    StatementLine,
    checked_currency,
)

_KEYS = (
    "TRTP|CSID|IBAN|BIC|NAME|REMI|EREF|MARF|CDTRREFTP|CDTRREF|CD|ISSR|PREF|ORDP|BENM|ID|ADDR"
    "|RTRN|ULTC|ULTD|PURP|SVCL|CNTP"
)
_FIELD = re.compile(rf"/({_KEYS})/")


def parse_mt940(text: str, name: str) -> list[Statement]:
    """Parse every statement in an MT940 text; ``name`` is the file name used in messages."""
    lines = text.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith(":20:")]
    if not starts:
        raise StatementError(f"{name}: no :20: statement found; this is not an MT940 file")
    bounds = [*starts, len(lines)]
    return [_statement(lines[begin:end], begin, name) for begin, end in pairwise(bounds)]


def _statement(lines: list[str], offset: int, name: str) -> Statement:
    chunk = "\n".join(line for line in lines if line.strip() not in {"-", "-}"}) + "\n"
    # mt-940 logs every failed match at ERROR (with its regex); our one-line error replaces it.
    tags_logger = logging.getLogger("mt940.tags")
    old_level = tags_logger.level
    tags_logger.setLevel(logging.CRITICAL + 1)
    try:
        transactions = mt940.models.Transactions()
        transactions.parse(chunk)
    except (RuntimeError, ValueError, ArithmeticError) as error:
        bad = str(error.args[2]) if len(error.args) > 2 else ""
        number = _line_of(lines, bad.split("\n")[0], offset)
        raise StatementError(
            f"{name}:{number}: this MT940 line cannot be read; "
            "download the statement again, nothing was imported"
        ) from None
    finally:
        tags_logger.setLevel(old_level)
    data = transactions.data
    where = f"{name}:{offset + 1}"
    if "account_identification" not in data:
        raise StatementError(f"{where}: statement without :25: account; not a usable MT940 file")
    currency = transactions.currency
    if currency is None:
        raise StatementError(f"{where}: statement without :60F: opening balance currency")
    currency = checked_currency(currency, f"{where} (:60F:)")
    _check_balances(transactions, where)
    statement_id = f"{data.get('transaction_reference', '')}/{data.get('statement_number', '')}"
    tx_lines = [offset + i + 1 for i, line in enumerate(lines) if line.startswith(":61:")]
    records = tuple(
        _line(
            tx.data,
            index,
            statement_id,
            currency,
            f"{name}:{tx_lines[index - 1] if index <= len(tx_lines) else offset + 1}",
        )
        for index, tx in enumerate(transactions, start=1)
    )
    return Statement(
        account_iban=_iban(str(data["account_identification"])),
        currency=currency,
        statement_id=statement_id,
        created=None,
        lines=records,
        source=name,
    )


def _check_balances(transactions: mt940.models.Transactions, where: str) -> None:
    """Opening (``:60F:``) + the entries must equal the closing balance (``:62F:``)."""
    opening = transactions.data.get("final_opening_balance")
    closing = transactions.data.get("final_closing_balance")
    if opening is None or closing is None:
        return
    total = sum((Decimal(tx.data["amount"].amount) for tx in transactions), Decimal(0))
    start, end = Decimal(opening.amount.amount), Decimal(closing.amount.amount)
    if start + total != end:
        raise StatementError(
            f"{where}: the balances do not add up: opening {start} (:60F:) + entries {total} = "
            f"{start + total}, but the closing balance (:62F:) is {end}; the export is "
            "incomplete, download the statement again (nothing was imported)"
        )


def _line_of(lines: list[str], fragment: str, offset: int) -> int:
    for i, line in enumerate(lines):
        if fragment and fragment in line:
            return offset + i + 1
    return offset + 1


def _iban(account: str) -> str | None:
    candidate = account.split("/")[0].replace(" ", "")
    return candidate if re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{10,30}", candidate) else None


def _line(
    tx: dict[str, object], index: int, statement_id: str, currency: str, place: str
) -> StatementLine:
    status = str(tx.get("status") or "")
    booked = tx["date"]
    assert isinstance(booked, date)
    amount = tx["amount"]
    value = abs(Decimal(getattr(amount, "amount", "0")))
    line_currency = checked_currency(str(tx.get("currency") or currency), place)
    is_credit = status in {"C", "RD"}
    details = str(tx.get("transaction_details") or "").replace("\n", "")
    fields = _fields(details)
    reference = str(tx.get("bank_reference") or "")
    structured = fields.get("CDTRREF") or _remi_structured(fields.get("REMI", ""))
    remittance = fields.get("REMI", details if not fields else "")
    remittance = "" if remittance.startswith("STRD/") else re.sub(r"^USTD/*", "", remittance)
    return StatementLine(
        key=f"{statement_id}/{reference or '-'}/{index}",
        booked_on=date(booked.year, booked.month, booked.day),
        amount=value if is_credit else -value,
        currency=line_currency,
        is_credit=is_credit,
        is_reversal=status.startswith("R"),
        is_return="RTRN" in fields,
        structured_reference=structured,
        remittance_text=remittance.strip(),
        payer_name=fields.get("NAME"),
        payer_iban=fields.get("IBAN"),
        end_to_end_id=fields.get("EREF") if fields.get("EREF") != "NOTPROVIDED" else None,
        place=place,
    )


def _fields(details: str) -> dict[str, str]:
    """The ``/KEY/value`` fields of a structured ``:86:``; empty if it is plain text."""
    if not details.startswith("/"):
        return {}
    parts = _FIELD.split(details)
    fields: dict[str, str] = {}
    for key, value in zip(parts[1::2], parts[2::2], strict=False):
        fields.setdefault(key, value.strip("/ ").strip())
    return {key: value for key, value in fields.items() if value or key == "RTRN"}


def _remi_structured(remi: str) -> str | None:
    match = re.match(r"STRD/[A-Z]+/(.+)", remi)
    return match.group(1).strip("/ ") if match else None
