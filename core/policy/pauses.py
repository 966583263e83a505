"""What a pause means for an invoice today: holding, ended (and when), broken (and the note
the next message carries). Pure: the pause as recorded, today, and what is open now."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from dunning.core.models import Pause, PauseKind, PauseStatus, ResumeNote


@dataclass(frozen=True, slots=True)
class PauseEffect:
    pause: Pause
    holds: bool
    """True: the ladder stands still today for what the pause covers."""
    ended_on: date | None
    """The first day the pause no longer held (``None`` while it holds)."""
    status: PauseStatus
    """What the pause is (or would be, after the engine's review) today."""
    note: ResumeNote | None = None
    """Set for a broken promise or missed instalment: the next message says so."""

    @property
    def broken(self) -> bool:
        return self.status is PauseStatus.BROKEN


def _promise_note(pause: Pause) -> ResumeNote:
    return ResumeNote(PauseKind.PROMISE, pause.starts_on, pause.until)


def _missed_instalment(pause: Pause, today: date, paid: Decimal) -> tuple[date, Decimal] | None:
    """The first instalment whose day plus grace has passed without the money: (day, amount)."""
    due_so_far = Decimal(0)
    for instalment in pause.instalments:
        due_so_far += instalment.amount
        late_from = instalment.due_on + timedelta(days=pause.grace_days + 1)
        if today >= late_from and paid < due_so_far:
            return instalment.due_on, instalment.amount
    return None


def evaluate(pause: Pause, today: date, open_now: Decimal) -> PauseEffect:
    """The pause's effect on ``today``. ``open_now`` is what its invoices have open now."""
    if pause.status is not PauseStatus.ACTIVE:
        note = None
        if pause.status is PauseStatus.BROKEN:
            if pause.kind is PauseKind.PROMISE:
                note = _promise_note(pause)
            else:
                ended_on = pause.ended_on
                passed = [i for i in pause.instalments if ended_on and i.due_on < ended_on]
                last = passed[-1] if passed else None
                note = ResumeNote(
                    pause.kind,
                    pause.starts_on,
                    last.due_on if last else None,
                    last.amount if last else None,
                )
        return PauseEffect(pause, False, pause.ended_on or pause.starts_on, pause.status, note)
    if today < pause.starts_on:
        return PauseEffect(pause, False, None, PauseStatus.ACTIVE)
    if pause.kind in (PauseKind.MANUAL, PauseKind.DISPUTE):
        if pause.until is not None and today > pause.until:
            return PauseEffect(pause, False, pause.until + timedelta(days=1), PauseStatus.LIFTED)
        return PauseEffect(pause, True, None, PauseStatus.ACTIVE)
    if open_now <= 0:
        return PauseEffect(pause, False, today, PauseStatus.KEPT)
    if pause.kind is PauseKind.PROMISE:
        assert pause.until is not None
        last_day = pause.until + timedelta(days=pause.grace_days)
        if today <= last_day:
            return PauseEffect(pause, True, None, PauseStatus.ACTIVE)
        return PauseEffect(
            pause, False, last_day + timedelta(days=1), PauseStatus.BROKEN, _promise_note(pause)
        )
    paid = pause.open_at_start - open_now
    missed = _missed_instalment(pause, today, paid)
    if missed is None:
        return PauseEffect(pause, True, None, PauseStatus.ACTIVE)
    due_on, amount = missed
    return PauseEffect(
        pause,
        False,
        due_on + timedelta(days=pause.grace_days + 1),
        PauseStatus.BROKEN,
        ResumeNote(PauseKind.ARRANGEMENT, pause.starts_on, due_on, amount),
    )


def describe(effect: PauseEffect) -> str:
    """Why an invoice is paused, for ``dunning plan``."""
    pause = effect.pause
    if pause.kind is PauseKind.PROMISE:
        return f"paused: promise to pay by {pause.until} (+{pause.grace_days} grace days)"
    if pause.kind is PauseKind.ARRANGEMENT:
        count = len(pause.instalments)
        return f"paused: payment arrangement of {count} instalment(s) (#{pause.id})"
    if pause.kind is PauseKind.DISPUTE:
        return f"paused: disputed ({pause.reason}); a person resolves it"
    until = f" until {pause.until}" if pause.until else ""
    return f"paused{until}: {pause.reason}"


def paused_days(effects: Iterable[PauseEffect], since: date) -> int:
    """Days the ladder stood still from ``since`` on, over every ended pause (overlaps merged)."""
    spans = sorted(
        (max(e.pause.starts_on, since), e.ended_on)
        for e in effects
        if e.ended_on is not None and e.ended_on > max(e.pause.starts_on, since)
    )
    total, reach = 0, since
    for start, end in spans:
        start = max(start, reach)
        if end > start:
            total += (end - start).days
            reach = end
    return total
