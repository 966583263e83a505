"""Read CAMT.053 bank statements (versions camt.053.001.02 to .001.08).

Namespaces are ignored: elements are matched by local name, so every version in that range is
read by the same code. Each ``TxDtls`` of an entry becomes its own line; an entry without
details becomes one line. Bad input raises :class:`StatementError` naming the element path.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException  # type: ignore[import-untyped]
from defusedxml.ElementTree import fromstring  # type: ignore[import-untyped]

from dunning.core.bank.statement import (
    Statement,
    StatementError,
    StatementLine,
    checked_currency,
)

_VERSIONS = range(2, 9)
#: ISO bank transaction sub-family codes that mean "a payment came back".
RETURN_CODES = frozenset({"RRTN", "ARET", "UPDD", "RPCR", "RCDD", "RRCT"})
_KIND = re.compile(r"tech:xsd:([a-z]{4}\.\d{3})\.(\d{3})\.(\d{2})")


def _local(element: Element) -> str:
    return element.tag.rsplit("}", 1)[-1]


def _children(element: Element, name: str) -> Iterator[Element]:
    return (child for child in element if _local(child) == name)


def _find(element: Element, path: str) -> Element | None:
    """The first element at ``path`` (local names joined by ``/``), or ``None``."""
    current: Element | None = element
    for name in path.split("/"):
        if current is None:
            return None
        current = next(_children(current, name), None)
    return current


def _text(element: Element, path: str) -> str | None:
    found = _find(element, path)
    if found is None or found.text is None or not found.text.strip():
        return None
    return found.text.strip()


def parse_camt(data: bytes, name: str) -> list[Statement]:
    """Parse a CAMT.053 document; ``name`` is the file name used in messages."""
    try:
        root = _parse(data)
    except ParseError as error:
        line, column = error.position
        reason = str(error).split(":")[0]
        raise StatementError(
            f"{name}: not a complete XML document (line {line}, column {column}): {reason}; "
            "nothing was imported, download the statement again"
        ) from None
    except DefusedXmlException as error:
        raise StatementError(
            f"{name}: the XML uses a DTD or entities ({type(error).__name__}), which a bank "
            "statement never needs; nothing was imported"
        ) from None
    _check_kind(root, name)
    group = next(iter(root), None)
    assert group is not None  # _check_kind saw BkToCstmrStmt
    statements = [
        _statement(stmt, number, name)
        for number, stmt in enumerate(_children(group, "Stmt"), start=1)
    ]
    if not statements:
        raise StatementError(f"{name}: BkToCstmrStmt holds no Stmt; nothing was imported")
    return statements


def _parse(data: bytes) -> Element:
    """Parse ``data``; a file that is not valid UTF-8 and declares no other encoding is retried
    as ISO-8859-15, because some banks (ABN AMRO) mix up encodings."""
    try:
        root: Element = fromstring(data)
    except ParseError:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            head = data[:100].lower()
            if b"encoding=" in head and b"utf-8" not in head:
                raise
            text = re.sub(r"^<\?xml[^>]*\?>", "", data.decode("iso-8859-15"))
            root = fromstring(text)
        else:
            raise
    return root


def _check_kind(root: Element, name: str) -> None:
    match = _KIND.search(root.tag)
    kind = ".".join(match.groups()) if match else None
    first = next(iter(root), None)
    if _local(root) != "Document" or first is None or _local(first) != "BkToCstmrStmt":
        what = f"a {kind}" if kind else f"an XML <{_local(root)}>"
        raise StatementError(
            f"{name} is {what} document, not a CAMT.053 bank statement; "
            "export the account statement as CAMT.053 or MT940"
        )
    if match and (match.group(1) != "camt.053" or int(match.group(3)) not in _VERSIONS):
        raise StatementError(
            f"{name} is a {kind} document; camt.053.001.02 to camt.053.001.08 are read, "
            "export the statement in one of those versions"
        )


def _statement(stmt: Element, number: int, name: str) -> Statement:
    where = f"{name}: Stmt {number}"
    statement_id = _text(stmt, "Id")
    if statement_id is None:
        raise StatementError(f"{where}: missing Stmt/Id; the file is incomplete")
    currency_text = _text(stmt, "Acct/Ccy")
    currency = checked_currency(currency_text, f"{where}, Acct/Ccy") if currency_text else None
    lines: list[StatementLine] = []
    seen: set[str] = set()
    booked_total = Decimal(0)
    for entry_number, entry in enumerate(_children(stmt, "Ntry"), start=1):
        entry_where = f"{where}, Ntry {entry_number}"
        if not _is_booked(entry):
            continue  # pending or information only: it may never be booked
        value, _ = _amount(entry, "Amt", entry_where)
        booked_total += _signed(value, _credit(entry, entry_where))
        for line in _entry_lines(entry, statement_id, entry_where):
            key = line.key if line.key not in seen else f"{line.key}#{entry_number}"
            seen.add(key)
            lines.append(line if key == line.key else _with_key(line, key))
    _check_balances(stmt, booked_total, where)
    if currency is None:
        currency = lines[0].currency if lines else _balance_currency(stmt, where)
    return Statement(
        account_iban=_text(stmt, "Acct/Id/IBAN"),
        currency=currency,
        statement_id=statement_id,
        created=_datetime(_text(stmt, "CreDtTm")),
        lines=tuple(lines),
        source=name,
    )


def _is_booked(entry: Element) -> bool:
    """``Sts`` (``Sts/Cd`` from .08 on) is ``BOOK``, or absent; ``PDNG`` and ``INFO`` are not."""
    status = _text(entry, "Sts") or _text(entry, "Sts/Cd")
    return status is None or status.upper() == "BOOK"


def _balance(stmt: Element, codes: tuple[str, ...], where: str) -> Decimal | None:
    """The first balance of type ``codes`` (in that order of preference), signed."""
    for code in codes:
        for balance in _children(stmt, "Bal"):
            if _text(balance, "Tp/CdOrPrtry/Cd") == code:
                value, _ = _amount(balance, "Amt", f"{where}, Bal {code}")
                return value if _text(balance, "CdtDbtInd") != "DBIT" else -value
    return None


def _check_balances(stmt: Element, booked_total: Decimal, where: str) -> None:
    """Opening balance + booked entries must equal the closing balance when the statement gives
    both: an export that is valid XML but lacks entries is refused."""
    opening = _balance(stmt, ("OPBD", "PRCD"), where)
    closing = _balance(stmt, ("CLBD",), where)
    if opening is None or closing is None or opening + booked_total == closing:
        return
    raise StatementError(
        f"{where}: the balances do not add up: opening {opening} + booked entries "
        f"{booked_total} = {opening + booked_total}, but the closing balance is {closing}; the "
        "export is incomplete, download the statement again (nothing was imported)"
    )


def _with_key(line: StatementLine, key: str) -> StatementLine:
    return replace(line, key=key)


def _balance_currency(stmt: Element, where: str) -> str:
    for balance in _children(stmt, "Bal"):
        amount = _find(balance, "Amt")
        if amount is not None and amount.get("Ccy"):
            return checked_currency(amount.get("Ccy", ""), f"{where}, Bal/Amt/@Ccy")
    raise StatementError(f"{where}: no currency in Acct/Ccy or any Amt/@Ccy")


def _datetime(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _entry_lines(entry: Element, statement_id: str, where: str) -> list[StatementLine]:
    entry_amount = _amount(entry, "Amt", where)
    booked_on = _booking_date(entry, where)
    is_credit = _credit(entry, where)
    is_reversal = (_text(entry, "RvslInd") or "").lower() in {"true", "1"}
    entry_ref = _text(entry, "NtryRef") or _text(entry, "AcctSvcrRef") or "-"
    details = [d for e in _children(entry, "NtryDtls") for d in _children(e, "TxDtls")]
    entry_return = _is_return_code(entry)
    if not details:
        return [
            StatementLine(
                key=f"{statement_id}/{entry_ref}/0",
                booked_on=booked_on,
                amount=_signed(entry_amount[0], is_credit),
                currency=entry_amount[1],
                is_credit=is_credit,
                is_reversal=is_reversal,
                is_return=entry_return,
                structured_reference=None,
                remittance_text=_text(entry, "AddtlNtryInf") or "",
                payer_name=None,
                payer_iban=None,
                end_to_end_id=None,
                place=where,
            )
        ]
    lines = []
    for index, tx in enumerate(details, start=1):
        place = f"{where}, TxDtls {index}" if len(details) > 1 else where
        if len(details) == 1:
            value, currency = entry_amount
        else:
            value, currency = _tx_amount(tx, place)
        ustrd = " ".join(
            (u.text or "").strip() for r in _children(tx, "RmtInf") for u in _children(r, "Ustrd")
        ).strip()
        lines.append(
            StatementLine(
                key=f"{statement_id}/{entry_ref}/{index}",
                booked_on=booked_on,
                amount=_signed(value, is_credit),
                currency=currency,
                is_credit=is_credit,
                is_reversal=is_reversal,
                is_return=entry_return or _is_return_code(tx) or _find(tx, "RtrInf") is not None,
                structured_reference=_structured_reference(tx),
                remittance_text=ustrd or _text(tx, "AddtlTxInf") or "",
                payer_name=_party_name(tx, is_credit),
                payer_iban=_party_iban(tx, is_credit),
                end_to_end_id=_end_to_end(tx),
                place=place,
            )
        )
    return lines


def _signed(value: Decimal, is_credit: bool) -> Decimal:
    return value if is_credit else -value


def _amount(element: Element, path: str, where: str) -> tuple[Decimal, str]:
    found = _find(element, path)
    if found is None or not (found.text or "").strip():
        raise StatementError(f"{where}: missing {path}; the file is incomplete")
    try:
        value = Decimal(found.text.strip() if found.text else "")
    except InvalidOperation:
        raise StatementError(f"{where}: {path} is not an amount: {found.text!r}") from None
    currency = checked_currency(found.get("Ccy", ""), f"{where}, {path}/@Ccy")
    return abs(value), currency


def _tx_amount(tx: Element, place: str) -> tuple[Decimal, str]:
    if _find(tx, "Amt") is not None:
        return _amount(tx, "Amt", place)
    if _find(tx, "AmtDtls/TxAmt/Amt") is not None:
        return _amount(tx, "AmtDtls/TxAmt/Amt", place)
    raise StatementError(
        f"{place}: missing TxDtls/Amt (or AmtDtls/TxAmt/Amt) in an entry with several "
        "transactions; the file is incomplete"
    )


def _booking_date(entry: Element, where: str) -> date:
    for path in ("BookgDt/Dt", "BookgDt/DtTm", "ValDt/Dt", "ValDt/DtTm"):
        text = _text(entry, path)
        if text is not None:
            try:
                return date.fromisoformat(text[:10])
            except ValueError:
                raise StatementError(f"{where}: {path} is not a date: {text!r}") from None
    raise StatementError(f"{where}: missing BookgDt/Dt (or ValDt/Dt); the file is incomplete")


def _credit(entry: Element, where: str) -> bool:
    indicator = _text(entry, "CdtDbtInd")
    if indicator not in {"CRDT", "DBIT"}:
        raise StatementError(f"{where}: CdtDbtInd must be CRDT or DBIT, found {indicator!r}")
    return indicator == "CRDT"


def _is_return_code(element: Element) -> bool:
    return _text(element, "BkTxCd/Domn/Fmly/SubFmlyCd") in RETURN_CODES


def _structured_reference(tx: Element) -> str | None:
    for remittance in _children(tx, "RmtInf"):
        for structured in _children(remittance, "Strd"):
            reference = _text(structured, "CdtrRefInf/Ref")
            if reference:
                return reference
    return None


def _party_name(tx: Element, is_credit: bool) -> str | None:
    order = ("Dbtr", "Cdtr") if is_credit else ("Cdtr", "Dbtr")
    for party in order:
        name = _text(tx, f"RltdPties/{party}/Nm") or _text(tx, f"RltdPties/{party}/Pty/Nm")
        if name:
            return name
    return None


def _party_iban(tx: Element, is_credit: bool) -> str | None:
    order = ("DbtrAcct", "CdtrAcct") if is_credit else ("CdtrAcct", "DbtrAcct")
    for account in order:
        iban = _text(tx, f"RltdPties/{account}/Id/IBAN") or _text(
            tx, f"RltdPties/{account}/Id/Othr/Id"
        )
        if iban:
            return iban.replace(" ", "")
    return None


def _end_to_end(tx: Element) -> str | None:
    value = _text(tx, "Refs/EndToEndId")
    return None if value in {None, "NOTPROVIDED"} else value
