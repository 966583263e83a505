"""The policy's view of the configuration: steps, their conditions, and pipeline-wide rules.

Built from ``pipelines.yaml`` by :mod:`dunning.core.policy.build`; plain frozen data so the
policy stays a pure function of (configuration, ledger state, today).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from dunning.core.calendar import BusinessCalendar, SendWindow, calendar_for

DelayUnit = Literal["calendar", "business"]


@dataclass(frozen=True, slots=True)
class Conditions:
    """When a step applies. Empty collections and ``None`` mean "no condition"."""

    min_open: Decimal | None = None
    max_open: Decimal | None = None
    amount_of: Literal["invoice", "debtor"] = "invoice"
    debtor_kinds: frozenset[str] = frozenset()
    languages: frozenset[str] = frozenset()
    tags: frozenset[str] = frozenset()
    not_tags: frozenset[str] = frozenset()
    segments: frozenset[str] = frozenset()
    not_segments: frozenset[str] = frozenset()
    min_open_invoices: int | None = None
    max_open_invoices: int | None = None


@dataclass(frozen=True, slots=True)
class Step:
    """One rung of the ladder. Exactly one of ``before_due``, ``after_due`` and
    ``after_previous`` is set; ``delays_in`` says whether the delay counts calendar or business
    days. ``variants`` maps a variant name (``humorous``) to the template used for it."""

    name: str
    channel: str
    template: str
    after_due: int | None = None
    after_previous: int | None = None
    before_due: int | None = None
    min_open_amount: Decimal = Decimal("0.01")
    delays_in: DelayUnit = "calendar"
    channel_kind: str = ""
    fallbacks: tuple[str, ...] = ()
    """Channels to try, in order, when ``channel`` cannot reach a debtor (chosen in planning)."""
    contacts_debtor: bool = True
    """False for steps whose channel only creates work for us (a call task): no send window."""
    conditions: Conditions = Conditions()
    variants: Mapping[str, str] = field(default_factory=dict)
    legal: str | None = None


@dataclass(frozen=True, slots=True)
class Discount:
    percent: Decimal
    within_days: int


@dataclass(frozen=True, slots=True)
class DebtorSettings:
    """What ``debtors:`` in pipelines.yaml says about one debtor."""

    variant: str | None = None
    discount: Discount | None = None
    no_discount: bool = False
    segment: str | None = None


@dataclass(frozen=True, slots=True)
class Rules:
    """Pipeline-wide policy settings.

    ``now`` is the moment of planning (timezone-aware); with a ``send_window`` it decides, per
    recipient's timezone, whether a message may go out now. ``quiet_channels`` are channel kinds
    that never go out on Sundays or public holidays, even when ``business_days_only`` is off
    (``*``: every kind, the default, after the Dutch conduct rules for collectors).
    """

    country: str = "NL"
    closed: tuple[date, ...] = ()
    business_weekdays: tuple[int, ...] = (0, 1, 2, 3, 4)
    business_days_only: bool = True
    timezone: str = "Europe/Amsterdam"
    send_window: SendWindow | None = None
    now: datetime | None = None
    quiet_channels: frozenset[str] = frozenset({"*"})
    min_days_between_contacts: int = 0
    discount: Discount | None = None
    variant_by_segment: Mapping[str, str] = field(default_factory=dict)
    debtors: Mapping[str, DebtorSettings] = field(default_factory=dict)
    promise_grace_days: int = 3
    arrangement_grace_days: int = 3

    def calendar(self, country: str | None = None) -> BusinessCalendar:
        """The business calendar of ``country`` (the debtor's), else the pipeline's."""
        try:
            return calendar_for(
                (country or self.country).upper(), self.closed, self.business_weekdays
            )
        except ValueError:
            return calendar_for(self.country, self.closed, self.business_weekdays)

    def is_quiet(self, channel_kind: str) -> bool:
        return "*" in self.quiet_channels or channel_kind in self.quiet_channels

    def settings_of(self, debtor_id: str) -> DebtorSettings:
        return self.debtors.get(debtor_id, NO_SETTINGS)


NO_SETTINGS = DebtorSettings()
