"""Bank account numbers (IBANs) as the sources give them, in the one form the ledger keeps.

Statements carry the payer's IBAN compact and upper case; a source's copy of the same account
is often typed by hand (``nl91 abna 0417 1643 00``, ``NL91.ABNA.0417.1643.00``). Both sides are
brought to that compact form, so the "known account of a debtor" matching rule compares equals.
"""

from __future__ import annotations

from stdnum.iban import is_valid


def compact_iban(text: str) -> str:
    """``text`` without spaces, upper case: how statements write an account, unchecked."""
    return "".join(text.split()).upper()


def normal_iban(text: str) -> str | None:
    """``text`` without spaces and dots, upper case; None when that is not a valid IBAN (wrong
    length for its country, bad check digits, or another kind of account number)."""
    compact = compact_iban(text).replace(".", "")
    return compact if compact and is_valid(compact) else None
