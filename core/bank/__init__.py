"""Bank statements: read CAMT.053 and MT940 files into :class:`Statement` records.

Only reading lives here; matching lines to invoices is a separate step."""

from __future__ import annotations

from dunning.core.bank.read import read_statement
from dunning.core.bank.statement import Statement, StatementError, StatementLine

__all__ = ["Statement", "StatementError", "StatementLine", "read_statement"]
