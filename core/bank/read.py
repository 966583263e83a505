"""Detect a bank statement's format by content and read it.

Accepted: CAMT.053 XML (camt.053.001.02 to .001.08) and MT940. Anything else (a PDF, a CSV,
an empty file) raises one :class:`StatementError` naming the accepted formats.
"""

from __future__ import annotations

import re
from pathlib import Path

from dunning.core.bank.camt import parse_camt
from dunning.core.bank.mt940 import parse_mt940
from dunning.core.bank.statement import Statement, StatementError
from dunning.core.ibans import compact_iban

ACCEPTED = "accepted are CAMT.053 (XML, versions .001.02 to .001.08) and MT940"


def read_statement(path: Path, *, own_iban: str | None = None) -> list[Statement]:
    """Read every statement in ``path``.

    With ``own_iban`` a statement of another account is refused, so nothing is recorded from
    a file that belongs to a different account."""
    name = path.name
    try:
        data = path.read_bytes()
    except OSError as error:
        raise StatementError(f"{path}: cannot be read ({error.strerror})") from None
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head:
        raise StatementError(f"{name} is empty; {ACCEPTED}")
    if head.startswith(b"<"):
        statements = parse_camt(data, name)
    elif head.startswith(b"%PDF"):
        raise StatementError(f"{name} is a PDF, not a bank statement file; {ACCEPTED}")
    else:
        text = _decode(data)
        if not re.search(r"^:20:", text, re.MULTILINE) or ":25:" not in text:
            raise StatementError(f"{name} is not a bank statement file; {ACCEPTED}")
        statements = parse_mt940(text, name)
    if own_iban is not None:
        wanted = compact_iban(own_iban)
        for statement in statements:
            if statement.account_iban and statement.account_iban.upper() != wanted:
                raise StatementError(
                    f"{name}: statement {statement.statement_id} is for account "
                    f"{statement.account_iban}, not {wanted}; nothing was imported"
                )
    return statements


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("iso-8859-15")
