"""The filters the desk's templates use for money, phones and times (and the desk's messages)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from dunning.core.calls.model import CallTask
from dunning.core.phones import display_phone


def money(amount: Decimal) -> str:
    """Two decimals, exact (never through float), as the command line prints amounts."""
    return f"{amount:.2f}"


def cents(amount: int) -> str:
    """Integer cents as :func:`money` shows them: ``2000`` as ``20.00``."""
    return money(Decimal(amount).scaleb(-2))


def share(fraction: Decimal) -> str:
    """``0.25`` as ``25%``."""
    return f"{fraction:.0%}"


def phone(number: str | None) -> str:
    return display_phone(number) if number else "no number"


def due(task: CallTask) -> str:
    """``2026-03-11`` or ``2026-03-12 14:30`` when a time was agreed."""
    return f"{task.due_on}{' ' + task.due_time if task.due_time else ''}"


def moment(value: datetime) -> str:
    """A stored moment in this machine's local time, to the minute."""
    return value.astimezone().strftime("%Y-%m-%d %H:%M")


FILTERS = {"money": money, "share": share, "phone": phone, "due": due, "moment": moment}
