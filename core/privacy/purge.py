"""``dunning purge``: anonymise the personal data of debtors whose cases are closed and whose
last activity is older than the retention period, keeping the figures.

What counts (all must hold for a debtor, per pipeline):

* every invoice is closed: nothing open (paid, settled to zero, released, or gone from the
  source), and none is handed over to an agency with an amount still open;
* no active pause (promise, arrangement, dispute), no open call task, no message that is
  pending, being sent or uncertain;
* the last activity (invoice dates, payments, messages, calls, pauses, letters, handoffs,
  last contact) is before the cutoff; a debtor without any dated activity is left alone.

What happens, in one transaction: the debtor id becomes a random pseudonym (``purged-<hex>``)
in every table and in the keys that embed it, so rows stay linked to each other but no longer
to the person; names, contacts, e-mail addresses, phone numbers, postal addresses, recipients,
free-text notes and references are blanked (NOT NULL columns get ``[purged]``); run summaries
have the debtor's names, addresses and id replaced. Amounts, dates, steps, states, days late
and outcomes stay, so reports still count. Pseudonymised debtors are never selected again.
"""

from __future__ import annotations

import json
import re
import secrets
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Column, Connection, Engine, Table, select, update

from dunning.core.errors import UsageError
from dunning.core.ledger.schema import (
    call_tasks,
    debtors,
    handoffs,
    invoices,
    legal_letters,
    message_items,
    messages,
    opt_outs,
    pauses,
    payment_links,
    payments,
    receipts,
    runs,
)

PURGED = "[purged]"
PSEUDONYM_PREFIX = "purged-"
BUSY_MESSAGE_STATES = ("pending", "sending", "uncertain")
_PERIOD = re.compile(r"^\s*(\d+)\s*([dmy]?)\s*$", re.IGNORECASE)


def cutoff_for(period: str, today: date) -> date:
    """The day before which activity is old enough: ``7y``, ``18m``, ``730d`` or ``730``."""
    match = _PERIOD.match(period)
    if match is None or int(match.group(1)) == 0:
        raise UsageError(
            f"--older-than {period!r}: give a period like 7y, 18m or 730d (years, months, days)"
        )
    count, unit = int(match.group(1)), match.group(2).lower() or "d"
    if unit == "d":
        return date.fromordinal(today.toordinal() - count)
    months = today.year * 12 + today.month - 1 - (count * 12 if unit == "y" else count)
    year, month = divmod(months, 12)
    for day in range(today.day, 27, -1):
        try:
            return date(year, month + 1, day)
        except ValueError:
            continue
    return date(year, month + 1, min(today.day, 28))


@dataclass(frozen=True, slots=True)
class Candidate:
    """A debtor whose personal data would be purged."""

    pipeline: str
    debtor_id: str
    last_activity: date | None
    invoices: int


def _day(value: date | datetime | None) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    return value


def _invoice_closed(row: Any) -> bool:
    if row.amount_open_cents <= 0 or row.paid_on is not None:
        return True
    if row.handed_over_on is not None:
        return False  # still with the agency
    return row.released_on is not None or not row.in_source


def candidates(connection: Connection, cutoff: date, pipeline: str | None) -> list[Candidate]:
    """Debtors whose cases are all closed and whose last activity is before ``cutoff``."""

    def rows(table: Table, *columns: Column[Any]) -> list[Any]:
        query = select(table.c.pipeline, table.c.debtor_id, *columns)
        if pipeline is not None:
            query = query.where(table.c.pipeline == pipeline)
        return list(connection.execute(query))

    last: dict[tuple[str, str], list[date | None]] = defaultdict(list)
    blocked: set[tuple[str, str]] = set()
    count: dict[tuple[str, str], int] = defaultdict(int)
    known = {(r.pipeline, r.debtor_id) for r in rows(debtors, debtors.c.last_contact_day)}
    for r in rows(debtors, debtors.c.last_contact_day):
        last[r.pipeline, r.debtor_id].append(r.last_contact_day)
    c = invoices.c
    numbers: dict[tuple[str, str], str] = {}
    for r in rows(
        invoices, c.number, c.issue_date, c.due_date, c.paid_on, c.amount_open_cents,
        c.handed_over_on, c.released_on, c.in_source, c.taken_over_on,
    ):  # fmt: skip
        key = (r.pipeline, r.debtor_id)
        count[key] += 1
        numbers[r.pipeline, r.number] = r.debtor_id
        last[key] += [r.issue_date, r.due_date, r.paid_on, r.handed_over_on, r.released_on]
        if not _invoice_closed(r):
            blocked.add(key)
    for r in connection.execute(select(payments.c.pipeline, payments.c.invoice_number,
                                       payments.c.paid_on)):  # fmt: skip
        owner = numbers.get((r.pipeline, r.invoice_number))
        if owner is not None:
            last[r.pipeline, owner].append(r.paid_on)
    for r in rows(messages, messages.c.planned_for, messages.c.updated_at, messages.c.state):
        last[r.pipeline, r.debtor_id] += [r.planned_for, _day(r.updated_at)]
        if r.state in BUSY_MESSAGE_STATES:
            blocked.add((r.pipeline, r.debtor_id))
    for r in rows(call_tasks, call_tasks.c.due_on, call_tasks.c.done_at, call_tasks.c.status):
        last[r.pipeline, r.debtor_id] += [r.due_on, _day(r.done_at)]
        if r.status == "open":
            blocked.add((r.pipeline, r.debtor_id))
    for r in rows(pauses, pauses.c.starts_on, pauses.c.until, pauses.c.ended_on, pauses.c.status):
        last[r.pipeline, r.debtor_id] += [r.starts_on, r.until, r.ended_on]
        if r.status == "active":
            blocked.add((r.pipeline, r.debtor_id))
    for r in rows(legal_letters, legal_letters.c.last_day):
        last[r.pipeline, r.debtor_id].append(r.last_day)
    for r in rows(handoffs, handoffs.c.handed_on):
        last[r.pipeline, r.debtor_id].append(r.handed_on)
    found = []
    for key in sorted(known | set(count)):
        if key in blocked or key[1].startswith(PSEUDONYM_PREFIX):
            continue
        days = [d for d in last[key] if d is not None]
        latest = max(days) if days else None
        if latest is not None and latest < cutoff:
            found.append(Candidate(key[0], key[1], latest, count[key]))
    return found


def _personal_values(row: Any | None, debtor_id: str) -> list[str]:
    """The debtor's names, addresses and numbers, to find in free text."""
    if row is None:
        return []
    values = [row.name, row.contact_name, row.first_name, row.email, row.phone]
    for blob in (row.contacts, row.address):
        try:
            decoded = json.loads(blob) if blob else None
        except ValueError:
            decoded = blob
        values.extend(_strings(decoded))
    return [v for v in values if isinstance(v, str) and len(v.strip()) >= 3 and v != debtor_id]


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


class _Scrubber:
    """Replaces a debtor's personal values (with ``[purged]``) and id (with the pseudonym)."""

    def __init__(self, debtor_id: str, pseudonym: str, personal: list[str]) -> None:
        self.pseudonym = pseudonym
        self._id = re.compile(rf"(?<![\w.-]){re.escape(debtor_id)}(?![\w.-])")
        ordered = sorted(set(personal), key=len, reverse=True)
        self._personal = (
            re.compile("|".join(rf"(?<!\w){re.escape(v)}(?!\w)" for v in ordered), re.IGNORECASE)
            if ordered
            else None
        )

    def __call__(self, text: str | None) -> str | None:
        if text is None:
            return None
        if self._personal is not None:
            text = self._personal.sub(PURGED, text)
        return self._id.sub(self.pseudonym, text)


def _scrub_column(
    connection: Connection, table: Table, column: str, where: Any, scrub: _Scrubber
) -> None:
    key = table.c.id
    for row in connection.execute(select(key, table.c[column]).where(where)):
        cleaned = scrub(row[1])
        if cleaned != row[1]:
            connection.execute(update(table).where(key == row[0]).values({column: cleaned}))


def anonymise(connection: Connection, candidate: Candidate) -> str:
    """Anonymise one debtor in the open transaction; return the pseudonym."""
    pipeline, old = candidate.pipeline, candidate.debtor_id
    pseudonym = f"{PSEUDONYM_PREFIX}{secrets.token_hex(8)}"
    debtor = connection.execute(
        select(debtors).where(debtors.c.pipeline == pipeline, debtors.c.debtor_id == old)
    ).first()
    scrub = _Scrubber(old, pseudonym, _personal_values(debtor, old))

    def mine(table: Table) -> Any:
        return (table.c.pipeline == pipeline) & (table.c.debtor_id == old)

    numbers = list(connection.execute(select(invoices.c.number).where(mine(invoices))).scalars())
    message_ids = list(connection.execute(select(messages.c.id).where(mine(messages))).scalars())
    keys = list(
        connection.execute(select(messages.c.idempotency_key).where(mine(messages))).scalars()
    )
    if message_ids:
        for column in ("reason", "note_error"):
            _scrub_column(connection, messages, column, messages.c.id.in_(message_ids), scrub)
        _scrub_column(
            connection, message_items, "note", message_items.c.message_id.in_(message_ids), scrub
        )
        _scrub_column(connection, receipts, "detail", receipts.c.message_id.in_(message_ids), scrub)
        for message_id in message_ids:
            current = connection.execute(
                select(messages.c.idempotency_key).where(messages.c.id == message_id)
            ).scalar_one()
            connection.execute(
                update(messages)
                .where(messages.c.id == message_id)
                .values(idempotency_key=scrub(current), recipient=None)
            )
    if keys:
        for link in connection.execute(
            select(payment_links.c.id, payment_links.c.key, payment_links.c.description).where(
                payment_links.c.pipeline == pipeline
            )
        ):
            if link.key in keys or link.key.rsplit(":", 1)[0] in keys:
                connection.execute(
                    update(payment_links)
                    .where(payment_links.c.id == link.id)
                    .values(key=scrub(link.key), description=scrub(link.description))
                )
    if numbers:
        in_mine = (payments.c.pipeline == pipeline) & payments.c.invoice_number.in_(numbers)
        connection.execute(update(payments).where(in_mine).values(reference=None))
        _scrub_column(connection, payments, "writeback_error", in_mine, scrub)
    for column in ("reason", "flag", "mirror_error"):
        _scrub_column(connection, call_tasks, column, mine(call_tasks), scrub)
    connection.execute(
        update(call_tasks).where(mine(call_tasks)).values(
            contact_name=None, contact_phone=None, spoken_to=None, details=None, note=None,
            talking_points="", debtor_id=pseudonym,
        )
    )  # fmt: skip
    connection.execute(update(pauses).where(mine(pauses)).values(reason=PURGED, close_reason=None))
    for row in connection.execute(select(handoffs.c.id, handoffs.c.reference, handoffs.c.receipt)
                                  .where(mine(handoffs))):  # fmt: skip
        connection.execute(
            update(handoffs)
            .where(handoffs.c.id == row.id)
            .values(reference=scrub(row.reference), receipt=scrub(row.receipt))
        )
    for opt_out_id in connection.execute(select(opt_outs.c.id).where(mine(opt_outs))).scalars():
        connection.execute(
            update(opt_outs)
            .where(opt_outs.c.id == opt_out_id)
            .values(address=f"{PURGED} {opt_out_id}")
        )
    _scrub_column(
        connection, runs, "summary", (runs.c.pipeline == pipeline) & runs.c.summary.is_not(None),
        scrub,
    )  # fmt: skip
    connection.execute(
        update(invoices).where(mine(invoices)).values(
            debtor_id=pseudonym, your_ref=None, payment_link=None
        )
    )  # fmt: skip
    for table in (messages, pauses, legal_letters, handoffs, opt_outs):
        connection.execute(update(table).where(mine(table)).values(debtor_id=pseudonym))
    connection.execute(
        update(debtors).where(mine(debtors)).values(
            debtor_id=pseudonym, name=PURGED, contact_name=None, first_name=None, email=None,
            phone=None, contacts=None, address=None,
        )
    )  # fmt: skip
    return pseudonym


def purge(engine: Engine, chosen: list[Candidate]) -> dict[tuple[str, str], str]:
    """Anonymise every candidate in one transaction: all or nothing. Returns the pseudonyms."""
    with engine.begin() as connection:
        return {(c.pipeline, c.debtor_id): anonymise(connection, c) for c in chosen}


def find_candidates(engine: Engine, cutoff: date, pipeline: str | None) -> list[Candidate]:
    with engine.connect() as connection:
        return candidates(connection, cutoff, pipeline)
