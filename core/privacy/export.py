"""Everything the ledger holds about one debtor, as one JSON-ready dict (a data subject access
request, GDPR art. 15). Read-only and dialect-neutral (SQLAlchemy Core)."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, Engine, Row, Table, select

from dunning.core.errors import UsageError
from dunning.core.ledger.schema import (
    agency_reports,
    call_tasks,
    debtors,
    handoffs,
    instalments,
    invoices,
    legal_letters,
    message_items,
    messages,
    opt_outs,
    pauses,
    payment_links,
    payments,
    receipts,
)

JSON_COLUMNS = frozenset({"contacts", "address", "invoice_numbers", "open_cents", "effect"})
"""Text columns that hold JSON: exported as the structure, not as a string."""


def plain(row: Row[Any]) -> dict[str, Any]:
    """A row as JSON-ready data: dates in ISO 8601, JSON columns decoded."""
    data: dict[str, Any] = {}
    for key, value in row._mapping.items():
        if isinstance(value, datetime | date):
            value = value.isoformat()
        elif key in JSON_COLUMNS and isinstance(value, str):
            with contextlib.suppress(ValueError):
                value = json.loads(value)
        data[str(key)] = value
    return data


def _of_debtor(connection: Connection, table: Table, pipeline: str, debtor_id: str) -> list[Any]:
    query = select(table).where(table.c.pipeline == pipeline, table.c.debtor_id == debtor_id)
    return list(connection.execute(query.order_by(*table.primary_key.columns)))


def pipelines_of(connection: Connection, debtor_id: str) -> list[str]:
    """The pipelines whose ledger data mentions ``debtor_id`` (debtor, invoice or message)."""
    found: set[str] = set()
    for table in (debtors, invoices, messages):
        found.update(
            connection.execute(
                select(table.c.pipeline).where(table.c.debtor_id == debtor_id).distinct()
            ).scalars()
        )
    return sorted(found)


def debtor_data(connection: Connection, pipeline: str, debtor_id: str) -> dict[str, Any]:
    """One pipeline's data about one debtor: every table, linked rows nested."""
    debtor_rows = _of_debtor(connection, debtors, pipeline, debtor_id)
    invoice_rows = [plain(r) for r in _of_debtor(connection, invoices, pipeline, debtor_id)]
    numbers = [i["number"] for i in invoice_rows]
    message_rows = []
    for message in _of_debtor(connection, messages, pipeline, debtor_id):
        data = plain(message)
        items = connection.execute(
            select(message_items).where(message_items.c.message_id == message.id)
        )
        data["items"] = [plain(i) for i in items]
        receipt = connection.execute(
            select(receipts).where(receipts.c.message_id == message.id)
        ).first()
        data["receipt"] = plain(receipt) if receipt is not None else None
        message_rows.append(data)
    pause_rows = []
    for pause in _of_debtor(connection, pauses, pipeline, debtor_id):
        data = plain(pause)
        due = connection.execute(
            select(instalments)
            .where(instalments.c.pause_id == pause.id)
            .order_by(instalments.c.due_on)
        )
        data["instalments"] = [plain(i) for i in due]
        pause_rows.append(data)
    keys = {m["idempotency_key"] for m in message_rows}
    links = connection.execute(
        select(payment_links).where(payment_links.c.pipeline == pipeline)
    ).all()

    def by_invoice(table: Table) -> list[dict[str, Any]]:
        if not numbers:
            return []
        rows = connection.execute(
            select(table)
            .where(table.c.pipeline == pipeline, table.c.invoice_number.in_(numbers))
            .order_by(table.c.id)
        )
        return [plain(r) for r in rows]

    return {
        "pipeline": pipeline,
        "debtor": plain(debtor_rows[0]) if debtor_rows else None,
        "invoices": invoice_rows,
        "payments": by_invoice(payments),
        "messages": message_rows,
        "legal_letters": [
            plain(r) for r in _of_debtor(connection, legal_letters, pipeline, debtor_id)
        ],
        "pauses": pause_rows,
        "call_tasks": [plain(r) for r in _of_debtor(connection, call_tasks, pipeline, debtor_id)],
        "handoffs": [plain(r) for r in _of_debtor(connection, handoffs, pipeline, debtor_id)],
        "agency_reports": by_invoice(agency_reports),
        "opt_outs": [plain(r) for r in _of_debtor(connection, opt_outs, pipeline, debtor_id)],
        "payment_links": [plain(r) for r in links if link_of(r.key, keys)],
    }


def link_of(link_key: str, message_keys: set[str]) -> bool:
    """Whether a payment link belongs to one of the messages: its key is the message's key,
    or that key plus ``:amount`` when the amount changed."""
    return link_key in message_keys or link_key.rsplit(":", 1)[0] in message_keys


def export_debtor(engine: Engine, debtor_id: str, pipeline: str | None = None) -> dict[str, Any]:
    """Everything stored about ``debtor_id`` (in ``pipeline``, or in every pipeline that knows
    it). Raises :class:`UsageError` (exit 2) when the ledger knows nothing about the debtor."""
    with engine.connect() as connection:
        known = pipelines_of(connection, debtor_id)
        chosen = [p for p in known if pipeline is None or p == pipeline]
        if not chosen:
            where = f" in pipeline {pipeline!r}" if pipeline else ""
            raise UsageError(
                f"debtor {debtor_id!r} is not in the ledger{where}; give the debtor id as the "
                "source knows it (see dunning plan --json, field debtor_id)"
            )
        return {
            "debtor_id": debtor_id,
            "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "pipelines": [debtor_data(connection, name, debtor_id) for name in chosen],
        }
