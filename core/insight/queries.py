"""The ledger queries behind the report's figures; the definitions are in
:mod:`dunning.core.insight.figures`. Sums and counts are left to the database where they can be.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Engine, and_, case, func, literal, select

from dunning.core.ledger.outbox import STEP
from dunning.core.ledger.schema import (
    bank_lines,
    debtors,
    invoices,
    message_items,
    messages,
    pauses,
)
from dunning.core.ledger.snapshots import open_invoice_filter
from dunning.core.models import MessageState

REACHED_STATES = (MessageState.SENT.value, MessageState.UNCERTAIN.value)
CHANNEL_COUNTS = ("sent", "bounced", "failed", "pending", "uncertain", "cancelled")


def aging(engine: Engine, pipeline: str, as_of: date) -> list[tuple[int, int]]:
    """(count, cents open) of the open receivables per aging bucket, in bucket order."""
    due = invoices.c.due_date
    bucket = case(
        (due >= as_of, 0),
        (due >= as_of - timedelta(days=30), 1),
        (due >= as_of - timedelta(days=60), 2),
        (due >= as_of - timedelta(days=90), 3),
        else_=4,
    ).label("bucket")
    query = (
        select(bucket, func.count(), func.sum(invoices.c.amount_open_cents))
        .where(open_invoice_filter(pipeline))
        .group_by(bucket)
    )
    found = [(0, 0)] * 5
    with engine.connect() as connection:
        for index, count, cents in connection.execute(query):
            found[int(index)] = (int(count), int(cents))
    return found


def reached_steps(engine: Engine, pipeline: str) -> dict[str, set[str]]:
    """Per invoice, the ladder steps it reached (a ``step`` message sent or uncertain, the
    invoice not dropped from it before sending)."""
    query = (
        select(message_items.c.invoice_number, message_items.c.step)
        .join(messages, messages.c.id == message_items.c.message_id)
        .where(
            messages.c.pipeline == pipeline,
            messages.c.kind == STEP,
            messages.c.state.in_(REACHED_STATES),
            message_items.c.cancelled_reason.is_(None),
        )
        .distinct()
    )
    found: dict[str, set[str]] = defaultdict(set)
    with engine.connect() as connection:
        for number, step in connection.execute(query):
            found[number].add(step)
    return found


def paid_invoices(engine: Engine, pipeline: str) -> list[tuple[str, int]]:
    """(number, total cents) of the paid invoices: no credit note, positive total, none open."""
    c = invoices.c
    query = select(c.number, c.amount_total_cents).where(
        c.pipeline == pipeline,
        c.is_credit_note == 0,
        c.amount_total_cents > 0,
        c.amount_open_cents <= 0,
    )
    with engine.connect() as connection:
        return [(number, int(total)) for number, total in connection.execute(query)]


def agreements(engine: Engine, pipeline: str) -> dict[str, dict[str, tuple[int, int]]]:
    """kind -> status -> (count, cents open when agreed) of the pauses of ``pipeline``."""
    p = pauses.c
    query = (
        select(p.kind, p.status, func.count(), func.sum(p.open_at_start_cents))
        .where(p.pipeline == pipeline)
        .group_by(p.kind, p.status)
    )
    found: dict[str, dict[str, tuple[int, int]]] = defaultdict(dict)
    with engine.connect() as connection:
        for kind, status, count, cents in connection.execute(query):
            found[kind][status] = (int(count), int(cents or 0))
    return found


@dataclass(frozen=True, slots=True)
class DebtorOpen:
    debtor_id: str
    name: str
    open_cents: int
    invoices: int
    oldest_due: date


def top_debtors(engine: Engine, pipeline: str, limit: int) -> list[DebtorOpen]:
    """The ``limit`` debtors with the most open receivables, most first (ties by id)."""
    c = invoices.c
    total = func.sum(c.amount_open_cents).label("total")
    owed = (
        select(c.debtor_id, total, func.count().label("n"), func.min(c.due_date).label("oldest"))
        .where(open_invoice_filter(pipeline))
        .group_by(c.debtor_id)
        .subquery()
    )
    query = (
        select(
            owed.c.debtor_id,
            func.coalesce(debtors.c.name, owed.c.debtor_id),
            owed.c.total,
            owed.c.n,
            owed.c.oldest,
        )
        .select_from(owed)
        .outerjoin(
            debtors,
            and_(debtors.c.pipeline == pipeline, debtors.c.debtor_id == owed.c.debtor_id),
        )
        .order_by(owed.c.total.desc(), owed.c.debtor_id)
        .limit(limit)
    )
    with engine.connect() as connection:
        return [
            DebtorOpen(debtor_id, name, int(cents), int(count), oldest)
            for debtor_id, name, cents, count, oldest in connection.execute(query)
        ]


def channel_counts(engine: Engine, pipeline: str) -> dict[str, dict[str, int]]:
    """channel -> {sent, bounced, failed, pending, uncertain, cancelled} over every message."""
    m = messages.c
    failed = MessageState.FAILED.value
    outcome = case(
        (and_(m.state == failed, m.bounced == 1), literal("bounced")),
        (m.state == MessageState.SENDING.value, literal("pending")),
        else_=m.state,
    ).label("outcome")
    query = (
        select(m.channel, outcome, func.count())
        .where(m.pipeline == pipeline)
        .group_by(m.channel, outcome)
    )
    found: dict[str, dict[str, int]] = defaultdict(dict)
    with engine.connect() as connection:
        for channel, state, count in connection.execute(query):
            found[channel][state] = found[channel].get(state, 0) + int(count)
    return found


BANK_OUTCOMES = ("matched", "assigned", "waiting", "set-aside", "returned")


def bank_outcomes(engine: Engine, pipeline: str) -> dict[str, tuple[int, int]]:
    """outcome -> (lines, cents) over every imported bank line that is money in or a return:
    ``matched`` by the rules, ``assigned`` by a person, ``waiting`` for one (cents: what is
    left), ``set-aside`` by a person, ``returned`` payments (cents: what went back)."""
    b = bank_lines.c
    outcome = case(
        (b.kind == "reversal", literal("returned")),
        (b.status == "matched", literal("matched")),
        (b.status == "assigned", literal("assigned")),
        (and_(b.status == "unmatched", b.resolved_at.is_(None)), literal("waiting")),
        else_=literal("set-aside"),
    ).label("outcome")
    cents = case(
        (b.kind == "reversal", -b.amount_cents),
        (b.status == "unmatched", b.remaining_cents),
        else_=b.amount_cents,
    )
    query = (
        select(outcome, func.count(), func.sum(cents))
        .where(b.pipeline == pipeline, b.kind != "debit")
        .group_by(outcome)
    )
    with engine.connect() as connection:
        return {str(name): (int(n), int(c or 0)) for name, n, c in connection.execute(query)}
