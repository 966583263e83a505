"""The desk's forms: what was typed, kept as text to show again, and read exactly as the
command line reads its options: the outcome form into an :class:`OutcomeInput` like
``dunning call done``, the bank line forms like ``dunning payments assign`` and ``dismiss``.

Reading only checks the form of each field (a day, an amount, whole days of grace); whether
the fields fit the outcome is for :func:`dunning.core.calls.outcomes.record_outcome` to say,
so the desk and the command line refuse the same things with the same words.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from dunning.core.calls.model import CallOutcome
from dunning.core.calls.outcomes import OutcomeInput
from dunning.core.commands.common import amount_from
from dunning.core.commands.pauses import parse_instalment
from dunning.core.errors import UsageError
from dunning.core.models import Instalment

TEXT_FIELDS = (
    "outcome",
    "by",
    "spoken_to",
    "note",
    "on",
    "at",
    "amount",
    "paid_on",
    "reference",
    "instalments",
    "grace",
)
CONFIRM_FIELD = "confirm"


@dataclass(frozen=True, slots=True)
class OutcomeForm:
    """The form's fields as typed (missing ones are ``""``) and the "confirm in writing" box."""

    values: dict[str, str] = field(default_factory=dict)
    confirm: bool = True

    def __getitem__(self, name: str) -> str:
        return self.values.get(name, "")


def blank_form(by: str) -> OutcomeForm:
    """The form as first shown: made by ``by``, confirmed in writing."""
    return OutcomeForm({"by": by}, confirm=True)


def entered_form(form: Mapping[str, str]) -> OutcomeForm:
    """What a submitted form holds; an unticked checkbox is simply absent."""
    return OutcomeForm({name: form.get(name, "") for name in TEXT_FIELDS}, CONFIRM_FIELD in form)


def _text(entered: OutcomeForm, name: str) -> str | None:
    return entered[name].strip() or None


def _day(entered: OutcomeForm, name: str) -> date | None:
    text = _text(entered, name)
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{name}: {text!r} is not a day; write it like 2026-03-20") from None


def typed_amount(typed: str) -> Decimal | None:
    """An amount field: blank is ``None``; ``125.50`` or ``125,50``; anything else a
    :class:`UsageError` naming the field."""
    text = typed.strip()
    if not text:
        return None
    amount = amount_from(text)
    if amount is None:
        raise UsageError(f"amount: {text!r} is not an amount; write it like 125.50")
    return amount


def _amount(entered: OutcomeForm) -> Decimal | None:
    return typed_amount(entered["amount"])


def _grace(entered: OutcomeForm) -> int | None:
    text = _text(entered, "grace")
    if text is None:
        return None
    if not (text.isascii() and text.isdigit()):
        raise UsageError(f"grace: {text!r} is not a number of days; give 0 or more")
    return int(text)


def _instalments(entered: OutcomeForm) -> tuple[Instalment, ...]:
    found = []
    for number, line in enumerate(entered["instalments"].splitlines(), start=1):
        if not line.strip():
            continue
        try:
            found.append(parse_instalment(line))
        except UsageError:
            raise UsageError(
                f"instalments, line {number}: {line.strip()!r}: write one instalment a line "
                "as YYYY-MM-DD=AMOUNT, like 2026-12-01=150.00"
            ) from None
    return tuple(found)


def outcome_input(entered: OutcomeForm, default_by: str) -> OutcomeInput:
    """``entered`` as an :class:`OutcomeInput`; blank fields are not given, "by" defaults to
    ``default_by``. Raises :class:`UsageError` (one line naming the field) when a field is
    not of its kind."""
    outcome_text = entered["outcome"].strip()
    try:
        outcome = CallOutcome(outcome_text)
    except ValueError:
        known = ", ".join(o.value for o in CallOutcome)
        raise UsageError(f"outcome: choose one of {known}") from None
    return OutcomeInput(
        outcome=outcome,
        by=_text(entered, "by") or default_by,
        spoken_to=_text(entered, "spoken_to"),
        note=_text(entered, "note"),
        on=_day(entered, "on"),
        at=_text(entered, "at"),
        amount=_amount(entered),
        paid_on=_day(entered, "paid_on"),
        reference=_text(entered, "reference"),
        instalments=_instalments(entered),
        grace=_grace(entered),
        confirm=entered.confirm,
    )


BANK_FIELDS = ("invoices", "amount", "reason", "by", "pipeline")
INVOICE_SEPARATORS = re.compile(r"[\s,;]+")


@dataclass(frozen=True, slots=True)
class BankForm:
    """The assign or dismiss form of one bank line as typed (missing fields are ``""``)."""

    line_id: int
    values: dict[str, str] = field(default_factory=dict)

    def __getitem__(self, name: str) -> str:
        return self.values.get(name, "")


def entered_bank_form(line_id: int, form: Mapping[str, str]) -> BankForm:
    return BankForm(line_id, {name: form.get(name, "") for name in BANK_FIELDS})


def invoice_numbers(typed: str) -> list[str]:
    """``F-110, F-111`` or ``F-110 F-111`` as ``["F-110", "F-111"]``, in the order typed; at
    least one, else a :class:`UsageError`."""
    numbers = [number for number in INVOICE_SEPARATORS.split(typed.strip()) if number]
    if not numbers:
        raise UsageError("invoices: name at least one invoice to assign the payment to")
    return numbers


def dismiss_reason(typed: str) -> str:
    """The reason to set a line aside; required, as ``--reason`` is."""
    reason = " ".join(typed.split())
    if not reason:
        raise UsageError("reason: say why dunning has nothing to do with this line")
    return reason
