"""Call tasks: created by the call channel and by outcomes that ask for a follow-up, worked by
credit controllers (``dunning calls``, the desk). Nothing is deleted: a task ends ``done``
with its outcome, or ``cancelled`` with a reason (paid before the call, handed over)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Engine, func, select, update
from sqlalchemy.exc import IntegrityError

from dunning.core.calls.model import CallOutcome, CallTask, NewCallTask, TaskStatus
from dunning.core.ledger.schema import call_tasks
from dunning.core.privacy.redaction import redact

c = call_tasks.c


def _task(r: Any) -> CallTask:
    """A :class:`CallTask` from a row of ``call_tasks``."""
    return CallTask(
        id=r.id,
        pipeline=r.pipeline,
        debtor_id=r.debtor_id,
        step=r.step,
        reason=r.reason,
        invoice_numbers=tuple(r.invoice_numbers.split()),
        due_on=r.due_on,
        due_time=r.due_time,
        hours=r.hours,
        assigned_to=r.assigned_to,
        contact_role=r.contact_role,
        contact_name=r.contact_name,
        contact_phone=r.contact_phone,
        talking_points=tuple(json.loads(r.talking_points or "[]")),
        attempt=r.attempt,
        status=TaskStatus(r.status),
        flag=r.flag,
        created_at=r.created_at,
        message_id=r.message_id,
        follows_task_id=r.follows_task_id,
        done_at=r.done_at,
        done_by=r.done_by,
        outcome=CallOutcome(r.outcome) if r.outcome else None,
        spoken_to=r.spoken_to,
        details=json.loads(r.details) if r.details else {},
        note=r.note,
        effect=r.effect,
        source_ref=r.source_ref,
    )


class CallStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create(self, pipeline: str, new: NewCallTask) -> tuple[CallTask, bool]:
        """Record ``new``; returns the task and whether it was created now. A task for the same
        step message, or following the same task, is never created twice: the existing one is
        returned instead."""
        values = {
            "pipeline": pipeline,
            "debtor_id": new.debtor_id,
            "message_id": new.message_id,
            "follows_task_id": new.follows_task_id,
            "step": new.step,
            "reason": new.reason,
            "invoice_numbers": " ".join(new.invoice_numbers),
            "due_on": new.due_on,
            "due_time": new.due_time,
            "hours": new.hours,
            "assigned_to": new.assigned_to,
            "contact_role": new.contact_role,
            "contact_name": new.contact_name,
            "contact_phone": new.contact_phone,
            "talking_points": json.dumps(list(new.talking_points)),
            "attempt": new.attempt,
            "status": TaskStatus.OPEN.value,
            "flag": new.flag,
            "created_at": datetime.now(UTC),
        }
        try:
            with self.engine.begin() as connection:
                task_id = connection.execute(
                    call_tasks.insert().values(**values).returning(c.id)
                ).scalar_one()
        except IntegrityError:
            key = (
                c.message_id == new.message_id
                if new.message_id is not None
                else c.follows_task_id == new.follows_task_id
            )
            existing = self._load(c.pipeline == pipeline, key)
            if not existing:
                raise
            return existing[0], False
        task = self.get(pipeline, int(task_id))
        assert task is not None
        return task, True

    def _load(self, *conditions: object) -> list[CallTask]:
        query = select(call_tasks).where(*conditions).order_by(c.due_on, c.id)  # type: ignore[arg-type]
        with self.engine.connect() as connection:
            return [_task(row) for row in connection.execute(query)]

    def get(self, pipeline: str, task_id: int) -> CallTask | None:
        found = self._load(c.pipeline == pipeline, c.id == task_id)
        return found[0] if found else None

    def find(self, task_id: int) -> CallTask | None:
        """The task with this id in any pipeline (ids are unique across the ledger)."""
        found = self._load(c.id == task_id)
        return found[0] if found else None

    def open(self, pipeline: str, due_by: date | None = None) -> list[CallTask]:
        """Open tasks, due first; only those due on or before ``due_by`` when given."""
        conditions: list[object] = [c.pipeline == pipeline, c.status == TaskStatus.OPEN.value]
        if due_by is not None:
            conditions.append(c.due_on <= due_by)
        return self._load(*conditions)

    def of_debtor(self, pipeline: str, debtor_id: str) -> list[CallTask]:
        """Every task of the debtor, any status, oldest due first: the call history."""
        return self._load(c.pipeline == pipeline, c.debtor_id == debtor_id)

    def follow_up_of(self, pipeline: str, task_id: int) -> CallTask | None:
        found = self._load(c.pipeline == pipeline, c.follows_task_id == task_id)
        return found[0] if found else None

    def complete(
        self,
        pipeline: str,
        task_id: int,
        outcome: CallOutcome,
        *,
        spoken_to: str | None,
        details: dict[str, str],
        note: str | None,
        by: str,
    ) -> bool:
        """Record the outcome of an open task. False when it was not open (done, cancelled)."""
        with self.engine.begin() as connection:
            result = connection.execute(
                update(call_tasks)
                .where(
                    c.pipeline == pipeline,
                    c.id == task_id,
                    c.status == TaskStatus.OPEN.value,
                )
                .values(
                    status=TaskStatus.DONE.value,
                    outcome=outcome.value,
                    spoken_to=spoken_to,
                    details=json.dumps(details, sort_keys=True),
                    note=note,
                    done_by=by,
                    done_at=datetime.now(UTC),
                )
            )
            return result.rowcount == 1

    def set_effect(self, pipeline: str, task_id: int, effect: str) -> None:
        self._update(pipeline, task_id, effect=effect)

    def set_flag(self, pipeline: str, task_id: int, flag: str | None) -> None:
        self._update(pipeline, task_id, flag=flag)

    def cancel(self, pipeline: str, task_ids: Iterable[int], reason: str) -> int:
        """Cancel open tasks (paid before the call, handed over); the reason is kept."""
        ids = list(task_ids)
        if not ids:
            return 0
        with self.engine.begin() as connection:
            result = connection.execute(
                update(call_tasks)
                .where(
                    c.pipeline == pipeline,
                    c.id.in_(ids),
                    c.status == TaskStatus.OPEN.value,
                )
                .values(status=TaskStatus.CANCELLED.value, effect=reason, done_at=datetime.now(UTC))
            )
            return int(result.rowcount)

    def unmirrored(self, pipeline: str) -> list[CallTask]:
        """Open tasks not yet created in the source's own task list."""
        return self._load(
            c.pipeline == pipeline, c.status == TaskStatus.OPEN.value, c.source_ref.is_(None)
        )

    def mark_mirrored(self, pipeline: str, task_id: int, ref: str) -> None:
        self._update(pipeline, task_id, source_ref=ref, mirror_error=None)

    def mark_mirror_failed(self, pipeline: str, task_id: int, error: str) -> None:
        self._update(pipeline, task_id, mirror_error=redact(error))

    def outcome_count(self, pipeline: str, debtor_id: str, outcome: CallOutcome) -> int:
        query = select(func.count()).where(
            c.pipeline == pipeline, c.debtor_id == debtor_id, c.outcome == outcome.value
        )
        with self.engine.connect() as connection:
            return int(connection.execute(query).scalar_one())

    def _update(self, pipeline: str, task_id: int, **values: object) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                update(call_tasks).where(c.pipeline == pipeline, c.id == task_id).values(**values)
            )
