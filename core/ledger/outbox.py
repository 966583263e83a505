"""The outbox: every message is written here before it is sent and marked after.

Two unique keys guard against sending twice: ``messages.idempotency_key``
(pipeline + debtor + channel + day: one message per debtor per channel per day) and
``message_items.item_key`` (pipeline + invoice + step: one step per invoice, ever).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import ColumnElement, Engine, bindparam, func, select, update
from sqlalchemy.exc import IntegrityError

from dunning.core.ledger.schema import debtors, invoices, message_items, messages, receipts
from dunning.core.models import (
    MessageState,
    PauseKind,
    PlannedMessage,
    Receipt,
    ResumeNote,
    StepHistory,
    to_cents,
)
from dunning.core.privacy.redaction import redact

STEP = "step"
"""``messages.kind`` of ladder steps; ``thanks`` and ``confirmation`` are the other kinds."""
THANKS = "thanks"
CONFIRMATION = "confirmation"
AGENCY_UPDATE = "agency-update"
"""A notice to the collection agency about a handed-over invoice (paid to the creditor)."""


def message_key(pipeline: str, debtor_id: str, channel: str, day: date) -> str:
    return f"{pipeline}:{debtor_id}:{channel}:{day.isoformat()}"


def item_key(pipeline: str, invoice_number: str, step: str) -> str:
    return f"{pipeline}:{invoice_number}:{step}"


def note_to_text(note: ResumeNote | None) -> str | None:
    if note is None:
        return None
    return json.dumps(
        {
            "kind": note.kind.value,
            "agreed_on": note.agreed_on.isoformat(),
            "promised_for": note.promised_for.isoformat() if note.promised_for else None,
            "amount": str(note.amount) if note.amount is not None else None,
        }
    )


def note_from_text(text: str | None) -> ResumeNote | None:
    if not text:
        return None
    data = json.loads(text)
    return ResumeNote(
        kind=PauseKind(data["kind"]),
        agreed_on=date.fromisoformat(data["agreed_on"]),
        promised_for=date.fromisoformat(data["promised_for"]) if data["promised_for"] else None,
        amount=Decimal(data["amount"]) if data["amount"] is not None else None,
    )


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class OutboxItem:
    id: int
    invoice_number: str
    step: str
    note: ResumeNote | None = None


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    id: int
    pipeline: str
    idempotency_key: str
    debtor_id: str
    channel: str
    step: str
    template: str
    planned_for: date
    state: MessageState
    attempts: int
    reason: str | None
    items: tuple[OutboxItem, ...]
    kind: str = STEP


@dataclass(frozen=True, slots=True)
class Contact:
    """A message that went out (or may have): for templates and ``status``."""

    debtor_id: str
    step: str
    channel: str
    planned_for: date
    state: MessageState


class Outbox:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(self, run_id: int, planned: PlannedMessage) -> bool:
        """Write ``planned`` as a pending message. False when its keys already exist.

        Insertion is all-or-nothing per message, so a concurrent run that planned the same
        step loses cleanly instead of sending it a second time.
        """
        now = _now()
        key = message_key(
            planned.pipeline, planned.debtor.debtor_id, planned.channel, planned.planned_for
        )
        if planned.key_suffix:
            key = f"{key}:{planned.key_suffix}"
        try:
            with self.engine.begin() as connection:
                message_id = connection.execute(
                    messages.insert()
                    .values(
                        pipeline=planned.pipeline,
                        idempotency_key=key,
                        debtor_id=planned.debtor.debtor_id,
                        channel=planned.channel,
                        step=planned.step,
                        template=planned.template,
                        planned_for=planned.planned_for,
                        state=MessageState.PENDING.value,
                        attempts=0,
                        run_id=run_id,
                        created_at=now,
                        updated_at=now,
                        kind=planned.kind,
                    )
                    .returning(messages.c.id)
                ).scalar_one()
                connection.execute(
                    message_items.insert(),
                    [
                        {
                            "message_id": message_id,
                            "pipeline": planned.pipeline,
                            "invoice_number": item.invoice.number,
                            "step": item.step,
                            "item_key": item_key(planned.pipeline, item.invoice.number, item.step),
                            "amount_open_cents": to_cents(item.invoice.amount_open),
                            "note": note_to_text(item.resume_note),
                        }
                        for item in planned.items
                    ],
                )
                if planned.kind == STEP:
                    connection.execute(
                        update(invoices)
                        .where(
                            invoices.c.pipeline == planned.pipeline,
                            invoices.c.number == bindparam("b_number"),
                        )
                        .values(ladder_step=bindparam("b_step"), ladder_day=planned.planned_for),
                        [{"b_number": i.invoice.number, "b_step": i.step} for i in planned.items],
                    )
                if planned.hands_over:
                    connection.execute(
                        update(invoices)
                        .where(
                            invoices.c.pipeline == planned.pipeline,
                            invoices.c.number.in_([i.invoice.number for i in planned.items]),
                            invoices.c.handed_over_on.is_(None),
                        )
                        .values(handed_over_on=planned.planned_for)
                    )
                if planned.kind == STEP:
                    last = debtors.c.last_contact_day
                    connection.execute(
                        update(debtors)
                        .where(
                            debtors.c.pipeline == planned.pipeline,
                            debtors.c.debtor_id == planned.debtor.debtor_id,
                            last.is_(None) | (last < planned.planned_for),
                        )
                        .values(last_contact_day=planned.planned_for)
                    )
        except IntegrityError:
            return False
        return True

    def _load(self, where: ColumnElement[bool]) -> list[OutboxMessage]:
        with self.engine.connect() as connection:
            rows = list(connection.execute(select(messages).where(where).order_by(messages.c.id)))
            if not rows:
                return []
            items: dict[int, list[OutboxItem]] = defaultdict(list)
            ids = [row.id for row in rows]
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                for item in connection.execute(
                    select(message_items)
                    .where(
                        message_items.c.message_id.in_(chunk),
                        message_items.c.cancelled_reason.is_(None),
                    )
                    .order_by(message_items.c.id)
                ):
                    items[item.message_id].append(
                        OutboxItem(
                            item.id, item.invoice_number, item.step, note_from_text(item.note)
                        )
                    )
        return [
            OutboxMessage(
                id=row.id,
                pipeline=row.pipeline,
                idempotency_key=row.idempotency_key,
                debtor_id=row.debtor_id,
                channel=row.channel,
                step=row.step,
                template=row.template,
                planned_for=row.planned_for,
                state=MessageState(row.state),
                attempts=row.attempts,
                reason=row.reason,
                items=tuple(items[row.id]),
                kind=row.kind,
            )
            for row in rows
        ]

    def pending(self, pipeline: str) -> list[OutboxMessage]:
        return self._load(
            (messages.c.pipeline == pipeline) & (messages.c.state == MessageState.PENDING.value)
        )

    def in_state(self, state: MessageState, pipeline: str | None = None) -> list[OutboxMessage]:
        where = messages.c.state == state.value
        if pipeline:
            where = where & (messages.c.pipeline == pipeline)
        return self._load(where)

    def claim(self, message_id: int, run_id: int, recipient: str) -> bool:
        """pending -> sending, committed before the channel is called. False if not pending."""
        with self.engine.begin() as connection:
            result = connection.execute(
                update(messages)
                .where(
                    messages.c.id == message_id,
                    messages.c.state == MessageState.PENDING.value,
                )
                .values(
                    state=MessageState.SENDING.value,
                    attempts=messages.c.attempts + 1,
                    recipient=recipient,
                    run_id=run_id,
                    updated_at=_now(),
                )
            )
            return result.rowcount == 1

    def mark_sent(self, message_id: int, receipt: Receipt) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                update(messages)
                .where(messages.c.id == message_id)
                .values(state=MessageState.SENT.value, reason=None, updated_at=_now())
            )
            connection.execute(
                receipts.insert().values(
                    message_id=message_id,
                    provider_message_id=receipt.provider_message_id,
                    accepted_at=receipt.accepted_at,
                    detail=receipt.detail,
                )
            )

    def mark_failed(
        self, message_id: int, reason: str, *, retry: bool, bounced: bool = False
    ) -> None:
        """A send that did not succeed: back to pending (``retry``) or failed for good.
        ``bounced``: it failed because of the recipient (bounce, rejected address, opt-out);
        the report counts those apart from other failures."""
        state = MessageState.PENDING if retry else MessageState.FAILED
        self._set_state(message_id, state, reason, bounced=1 if bounced else None)

    def mark_uncertain_one(self, message_id: int, reason: str) -> None:
        """The channel failed in a way that leaves delivery unknown: report, never re-send."""
        self._set_state(message_id, MessageState.UNCERTAIN, reason)

    def by_key(self, key: str) -> OutboxMessage | None:
        found = self._load(messages.c.idempotency_key == key)
        return found[0] if found else None

    def requeue_failed(self, message_id: int, why: str) -> bool:
        """A ``failed`` message back to ``pending`` with fresh attempts (a person fixed the
        cause). False when it was not failed."""
        with self.engine.begin() as connection:
            result = connection.execute(
                update(messages)
                .where(
                    messages.c.id == message_id,
                    messages.c.state == MessageState.FAILED.value,
                )
                .values(state=MessageState.PENDING.value, attempts=0, reason=why, updated_at=_now())
            )
            return result.rowcount == 1

    def cancel(self, message_id: int, reason: str) -> None:
        self._set_state(message_id, MessageState.CANCELLED, reason)

    def _set_state(
        self, message_id: int, state: MessageState, reason: str | None, bounced: int | None = None
    ) -> None:
        extra = {} if bounced is None else {"bounced": bounced}
        with self.engine.begin() as connection:
            connection.execute(
                update(messages)
                .where(messages.c.id == message_id)
                .values(state=state.value, reason=_redacted(reason), updated_at=_now(), **extra)
            )

    def cancel_items(self, item_ids: list[int], reason: str) -> None:
        """Drop invoices from a message before sending (paid meanwhile); kept for the audit."""
        if not item_ids:
            return
        with self.engine.begin() as connection:
            connection.execute(
                update(message_items)
                .where(message_items.c.id.in_(item_ids))
                .values(cancelled_reason=reason)
            )

    def mark_uncertain(self, run_ids: list[int]) -> int:
        """Messages left in ``sending`` by dead runs: their fate is unknown, never re-sent."""
        if not run_ids:
            return 0
        with self.engine.begin() as connection:
            result = connection.execute(
                update(messages)
                .where(
                    messages.c.run_id.in_(run_ids),
                    messages.c.state == MessageState.SENDING.value,
                )
                .values(
                    state=MessageState.UNCERTAIN.value,
                    reason="the run sending it stopped before the result was recorded; "
                    "check the recipient's mailbox or provider log, then resolve it by hand",
                    updated_at=_now(),
                )
            )
            return int(result.rowcount)

    def history(self, pipeline: str) -> dict[str, list[StepHistory]]:
        """Every step each invoice has had (any state), oldest first: the policy's memory."""
        query = (
            select(
                message_items.c.invoice_number,
                message_items.c.step,
                messages.c.planned_for,
                messages.c.state,
            )
            .join(messages, messages.c.id == message_items.c.message_id)
            .where(message_items.c.pipeline == pipeline, messages.c.kind == STEP)
            .order_by(messages.c.planned_for, message_items.c.id)
        )
        result: dict[str, list[StepHistory]] = defaultdict(list)
        with self.engine.connect() as connection:
            for number, step, planned_for, state in connection.execute(query):
                result[number].append(StepHistory(step, planned_for, MessageState(state)))
        return dict(result)

    def contacted(self, pipeline: str, day: date) -> set[tuple[str, str]]:
        """(debtor, channel) pairs that already have a message for ``day``."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(messages.c.debtor_id, messages.c.channel).where(
                    messages.c.pipeline == pipeline,
                    messages.c.planned_for == day,
                    messages.c.kind == STEP,
                )
            )
            return {(debtor, channel) for debtor, channel in rows}

    def contacts_of(self, pipeline: str, debtor_id: str) -> list[Contact]:
        """Messages certainly sent to the debtor, oldest first (uncertain ones are left out:
        a template must not claim "we wrote to you on ..." when that is not known)."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(messages)
                .where(
                    messages.c.pipeline == pipeline,
                    messages.c.debtor_id == debtor_id,
                    messages.c.state == MessageState.SENT.value,
                    messages.c.kind == STEP,
                )
                .order_by(messages.c.planned_for)
            )
            return [
                Contact(r.debtor_id, r.step, r.channel, r.planned_for, MessageState(r.state))
                for r in rows
            ]

    def invoices_with(
        self, pipeline: str, kind: str, among: Collection[str] | None = None
    ) -> set[str]:
        """Invoice numbers (of ``among``, when given) that have a message of ``kind``."""
        query = (
            select(message_items.c.invoice_number)
            .join(messages, messages.c.id == message_items.c.message_id)
            .where(message_items.c.pipeline == pipeline, messages.c.kind == kind)
        )
        if among is None:
            with self.engine.connect() as connection:
                return set(connection.execute(query).scalars())
        wanted, found = list(among), set()
        with self.engine.connect() as connection:
            for start in range(0, len(wanted), 500):
                chunk = query.where(message_items.c.invoice_number.in_(wanted[start : start + 500]))
                found |= set(connection.execute(chunk).scalars())
        return found

    def of_debtor(self, pipeline: str, debtor_id: str) -> list[SentRecord]:
        """Every message to the debtor, any kind and state, oldest first, with its receipt."""
        return debtor_messages(self.engine, pipeline, debtor_id)

    def unnoted(self, pipeline: str, limit: int = 1000) -> list[SentRecord]:
        """Sent messages not yet noted at the source (oldest first, at most ``limit``)."""
        query = (
            select(messages.c.id, messages.c.debtor_id)
            .where(
                messages.c.pipeline == pipeline,
                messages.c.state == MessageState.SENT.value,
                messages.c.noted_at.is_(None),
                messages.c.kind != AGENCY_UPDATE,
            )
            .order_by(messages.c.id)
            .limit(limit)
        )
        with self.engine.connect() as connection:
            rows = list(connection.execute(query))
        wanted = {row.id for row in rows}
        found: list[SentRecord] = []
        for debtor_id in dict.fromkeys(row.debtor_id for row in rows):
            sent = debtor_messages(self.engine, pipeline, debtor_id)
            found += [m for m in sent if m.id in wanted]
        return sorted(found, key=lambda m: m.id)

    def mark_noted(self, message_id: int, error: str | None = None) -> None:
        """Noted at the source; with ``error``, the attempt failed and is retried next run."""
        values: dict[str, object] = {"note_error": _redacted(error)}
        if error is None:
            values["noted_at"] = _now()
        with self.engine.begin() as connection:
            connection.execute(update(messages).where(messages.c.id == message_id).values(**values))

    def state_counts(self, pipeline: str | None = None) -> dict[str, int]:
        query = select(messages.c.state, func.count()).group_by(messages.c.state)
        if pipeline:
            query = query.where(messages.c.pipeline == pipeline)
        with self.engine.connect() as connection:
            return {state: int(count) for state, count in connection.execute(query)}


@dataclass(frozen=True, slots=True)
class SentRecord:
    """A message of any kind with its fate and receipt: the audit trail of one debtor."""

    id: int
    kind: str
    step: str
    channel: str
    planned_for: date
    state: MessageState
    recipient: str | None
    invoice_numbers: tuple[str, ...]
    accepted_at: datetime | None
    provider_message_id: str | None
    reason: str | None


def debtor_messages(engine: Engine, pipeline: str, debtor_id: str) -> list[SentRecord]:
    """Every message to the debtor, any kind and state, oldest first, with its receipt."""
    query = (
        select(messages, receipts.c.accepted_at, receipts.c.provider_message_id)
        .outerjoin(receipts, receipts.c.message_id == messages.c.id)
        .where(messages.c.pipeline == pipeline, messages.c.debtor_id == debtor_id)
        .order_by(messages.c.planned_for, messages.c.id)
    )
    numbers: dict[int, list[str]] = defaultdict(list)
    with engine.connect() as connection:
        rows = list(connection.execute(query))
        ids = [row.id for row in rows]
        for start in range(0, len(ids), 500):
            for message_id, number in connection.execute(
                select(message_items.c.message_id, message_items.c.invoice_number)
                .where(message_items.c.message_id.in_(ids[start : start + 500]))
                .order_by(message_items.c.id)
            ):
                numbers[message_id].append(number)
    return [
        SentRecord(
            row.id,
            row.kind,
            row.step,
            row.channel,
            row.planned_for,
            MessageState(row.state),
            row.recipient,
            tuple(numbers[row.id]),
            row.accepted_at,
            row.provider_message_id,
            row.reason,
        )
        for row in rows
    ]


def _redacted(text: str | None) -> str | None:
    """An error text as stored: secrets a provider echoed (a key in an error body) removed."""
    return redact(text) if text else text
