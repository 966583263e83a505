"""The shape of ``pipelines.yaml`` (engine part). Plugin sections are validated by the plugins.

Every model forbids unknown keys so a misspelt key is reported with a suggestion rather than
silently ignored.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)
from stdnum.iban import is_valid as iban_is_valid

from dunning.core.calendar import (
    WEEKDAYS,
    SendWindow,
    UnknownCountry,
    UnknownTimezone,
    calendar_for,
    check_timezone,
)
from dunning.core.ibans import compact_iban

NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
SEGMENT_NAMES = ("new", "punctual", "late-but-reliable", "risky")
"""Payment-behaviour segments the engine computes (see ``core/segments.py``)."""


def _listify(value: Any) -> Any:
    """Let a single value stand for a one-element list (``language: nl``)."""
    if isinstance(value, str | int | float):
        return [value]
    return value


def _lowercase_names(value: list[str]) -> list[str]:
    lowered = [v.strip().lower() for v in value]
    bad = [v for v in lowered if not NAME_PATTERN.match(v)]
    if bad:
        raise ValueError(f"{bad[0]!r} is not a valid name; use lowercase letters, digits, - and _")
    return lowered


NameList = Annotated[list[str], BeforeValidator(_listify)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PluginSection(BaseModel):
    """A ``type:`` plus the plugin's own keys, passed on to the plugin's ``Config`` model."""

    model_config = ConfigDict(extra="allow", frozen=True)

    type: str = Field(min_length=1)

    def plugin_settings(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class CreditorConfig(Strict):
    """Who is owed; shown in every message."""

    name: str = Field(min_length=1)
    email: str | None = None
    phone: str | None = None
    iban: str | None = None
    website: str | None = None
    signature: str | None = None


class ConditionsConfig(Strict):
    """``when:`` of a step: every listed condition must hold, else the step is skipped."""

    min_open: Decimal | None = Field(default=None, ge=0)
    max_open: Decimal | None = Field(default=None, ge=0)
    amount_of: Literal["invoice", "debtor"] = "invoice"
    debtor_kind: Annotated[list[Literal["business", "consumer"]], BeforeValidator(_listify)] = []
    language: NameList = []
    tags: NameList = []
    not_tags: NameList = []
    segment: NameList = []
    not_segment: NameList = []
    min_open_invoices: int | None = Field(default=None, ge=1)
    max_open_invoices: int | None = Field(default=None, ge=1)

    @field_validator("tags", "not_tags", "language")
    @classmethod
    def _names(cls, value: list[str]) -> list[str]:
        return _lowercase_names(value)

    @field_validator("segment", "not_segment")
    @classmethod
    def _segments(cls, value: list[str]) -> list[str]:
        for name in value:
            if name not in SEGMENT_NAMES:
                raise ValueError(f"unknown segment {name!r}; segments: {', '.join(SEGMENT_NAMES)}")
        return value

    @model_validator(mode="after")
    def _ranges(self) -> ConditionsConfig:
        low_amount, high_amount = self.min_open, self.max_open
        if low_amount is not None and high_amount is not None and low_amount > high_amount:
            raise ValueError("min_open is above max_open; no invoice could match")
        low, high = self.min_open_invoices, self.max_open_invoices
        if low is not None and high is not None and low > high:
            raise ValueError("min_open_invoices is above max_open_invoices")
        return self


class StepConfig(Strict):
    """One rung of the ladder. Exactly one of ``before_due``, ``after_due`` and
    ``after_previous`` is set."""

    name: str
    channel: str
    template: str
    before_due: int | None = Field(default=None, ge=1)
    after_due: int | None = Field(default=None, ge=0)
    after_previous: int | None = Field(default=None, ge=1)
    delays_in: Literal["calendar", "business"] | None = None
    min_open_amount: Decimal = Field(default=Decimal("0.01"), ge=0)
    when: ConditionsConfig = ConditionsConfig()
    variants: dict[str, str] = {}
    legal: Literal["nl_14_day_letter", "final_demand"] | None = None
    """``nl_14_day_letter``: the Dutch 14-day letter (consumers only, kept as proof);
    ``final_demand``: the message shows the full claim (principal, interest, costs, total)."""
    fallback: list[str] = []
    """Channels to use, in order, when ``channel`` cannot reach the debtor (no mobile number,
    opted out). Written as a list in ``channel:`` (``channel: [whatsapp, sms, email]``)."""

    @model_validator(mode="before")
    @classmethod
    def _channel_list(cls, data: Any) -> Any:
        """``channel: [whatsapp, sms, email]`` is ``channel: whatsapp`` with the rest as
        ``fallback``."""
        if isinstance(data, dict) and isinstance(data.get("channel"), list):
            names = data["channel"]
            if not names or not all(isinstance(n, str) for n in names):
                raise ValueError("channel: give a channel name, or a list of channel names")
            if len(set(names)) != len(names):
                raise ValueError(f"channel: {names} names a channel twice")
            if data.get("fallback"):
                raise ValueError("give the fallback channels in the channel list or in "
                                 "'fallback', not both")  # fmt: skip
            return {**data, "channel": names[0], "fallback": names[1:]}
        return data

    @field_validator("variants")
    @classmethod
    def _variant_names(cls, value: dict[str, str]) -> dict[str, str]:
        for name in value:
            if not NAME_PATTERN.match(name):
                raise ValueError(f"variant name {name!r}: use lowercase letters, digits, - and _")
        return value

    @field_validator("name")
    @classmethod
    def _name_is_slug(cls, value: str) -> str:
        if not NAME_PATTERN.match(value):
            raise ValueError(
                "use lowercase letters, digits, '-' and '_' only (it becomes part of the "
                "idempotency key)"
            )
        return value

    @model_validator(mode="after")
    def _one_delay(self) -> StepConfig:
        given = [self.before_due, self.after_due, self.after_previous]
        if sum(value is not None for value in given) != 1:
            raise ValueError(
                f"step {self.name!r} needs exactly one of 'before_due' (days before the due "
                "date), 'after_due' (days after the due date) or 'after_previous' (days after "
                "the previous step)"
            )
        return self


class CalendarConfig(Strict):
    """When messages may go out: business days, holidays, the send window."""

    country: str = "NL"
    business_days_only: bool = True
    business_days: NameList = ["mon", "tue", "wed", "thu", "fri"]
    closed: list[date] = []
    timezone: str = "Europe/Amsterdam"
    send_window: str | None = "07:00-20:00"
    quiet_channels: NameList = ["*"]
    delays_in: Literal["calendar", "business"] = "calendar"

    @field_validator("country")
    @classmethod
    def _country(cls, value: str) -> str:
        try:
            return calendar_for(value.upper()).country
        except UnknownCountry as exc:
            raise ValueError(str(exc)) from None

    @field_validator("business_days")
    @classmethod
    def _weekdays(cls, value: list[str]) -> list[str]:
        lowered = [v.lower()[:3] for v in value]
        for day in lowered:
            if day not in WEEKDAYS:
                raise ValueError(
                    f"{day!r} is not a weekday; write mon, tue, wed, thu, fri, sat, sun"
                )
        if not lowered:
            raise ValueError("list at least one business day")
        return lowered

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            return check_timezone(value)
        except UnknownTimezone as exc:
            raise ValueError(str(exc)) from None

    @field_validator("send_window")
    @classmethod
    def _window(cls, value: str | None) -> str | None:
        if value is not None and value != "always":
            SendWindow.parse(value)
        return value


class ContactConfig(Strict):
    """Spacing of contacts with one debtor, across every channel."""

    min_days_between: int = Field(default=0, ge=0)


class DiscountConfig(Strict):
    """An early-payment discount: ``percent`` off when paid within ``within_days`` of the
    invoice date."""

    percent: Decimal = Field(gt=0, lt=100)
    within_days: int = Field(ge=0)


class SegmentRules(Strict):
    """Thresholds of the payment-behaviour segments; see docs/policy.md."""

    min_history: int = Field(default=3, ge=1)
    punctual_min_on_time_share: Decimal = Field(default=Decimal("0.9"), ge=0, le=1)
    punctual_max_avg_days_late: Decimal = Field(default=Decimal("2"), ge=0)
    risky_min_avg_days_late: Decimal = Field(default=Decimal("30"), ge=0)
    risky_min_broken_promises: int = Field(default=2, ge=1)


class DebtorOverride(Strict):
    """Per-debtor settings under ``debtors:`` (keyed by the source's debtor id)."""

    variant: str | None = None
    early_payment_discount: DiscountConfig | None = None
    no_discount: bool = False
    segment: str | None = None

    @field_validator("segment")
    @classmethod
    def _segment(cls, value: str | None) -> str | None:
        if value is not None and value not in SEGMENT_NAMES:
            raise ValueError(f"unknown segment {value!r}; segments: {', '.join(SEGMENT_NAMES)}")
        return value


class ThankYouConfig(Strict):
    """A message after payment for debtors of the listed segments (default: punctual)."""

    channel: str
    template: str = "thank-you"
    segment: NameList = ["punctual"]
    within_days: int = Field(default=7, ge=0)

    @field_validator("segment")
    @classmethod
    def _segments(cls, value: list[str]) -> list[str]:
        for name in value:
            if name not in SEGMENT_NAMES:
                raise ValueError(f"unknown segment {name!r}; segments: {', '.join(SEGMENT_NAMES)}")
        return value


class LawConfig(Strict):
    """How claims are computed for ``legal:`` steps (see docs/law.md)."""

    country: Literal["nl", "be"] = "nl"
    interest: bool = True
    agreed_interest_percent: Decimal | None = Field(default=None, gt=0, lt=100)
    agreed_business_costs: Decimal | None = Field(default=None, ge=0)
    third_party_collects: bool = False
    vat_deductible: bool = True
    receipt_days: dict[str, int] = {"email": 0, "sms": 0, "whatsapp": 0, "letter": 2}
    """Business days from sending to receipt, per channel kind (14-day letter)."""


class PausesConfig(Strict):
    """Defaults of promises, arrangements and written confirmations."""

    promise_grace_days: int = Field(default=3, ge=0)
    arrangement_grace_days: int = Field(default=3, ge=0)
    confirm: bool = True
    confirm_channel: str | None = None


class RetryRule(Strict):
    """How often a call that did not reach anyone is tried again, and after how long."""

    after_business_days: int = Field(default=1, ge=0)
    max_attempts: int = Field(default=3, ge=1)
    """Calls in all, the first included; when they are used up the task is flagged."""


class CallRetryConfig(Strict):
    no_answer: RetryRule = RetryRule(after_business_days=1, max_attempts=3)
    wrong_number: RetryRule = RetryRule(after_business_days=1, max_attempts=1)


class CallsConfig(Strict):
    """Call tasks: office hours, who calls, follow-ups and retries (see docs/calls.md)."""

    office_hours: str = "09:00-17:00"
    assign_to: str | None = None
    """The credit controller every call task is assigned to (default: nobody in particular)."""
    assign_by_segment: dict[str, str] = {}
    """Segment -> controller, before ``assign_to`` (``risky: senior``)."""
    in_post_days: int = Field(default=3, ge=1)
    """Business days after "the payment is in the post" before calling again."""
    escalate_absent_after: int = Field(default=2, ge=1)
    """After this many "contact absent" outcomes, the next call goes to management."""
    retry: CallRetryConfig = CallRetryConfig()
    mirror_to_source: bool = True
    """Create each call task in the source platform too, where the source can."""
    talking_points: dict[str, list[str]] = {}
    """Step name -> extra talking points for that step's calls."""

    @field_validator("office_hours")
    @classmethod
    def _hours(cls, value: str) -> str:
        SendWindow.parse(value)
        return value

    @field_validator("assign_by_segment")
    @classmethod
    def _segments(cls, value: dict[str, str]) -> dict[str, str]:
        for name in value:
            if name not in SEGMENT_NAMES:
                raise ValueError(f"unknown segment {name!r}; segments: {', '.join(SEGMENT_NAMES)}")
        return value


class PaymentLinksConfig(Strict):
    """A payment link per reminder (Mollie); see docs/payment-links.md."""

    provider: Literal["mollie"] = "mollie"
    api_key: SecretStr
    """``live_...`` or ``test_...``; write ``${MOLLIE_API_KEY}`` and keep the key in ``.env``."""
    base_url: str = "https://api.mollie.com"
    description: str = "{creditor}: {invoices}"
    """Shown to the debtor and on the payout; ``{invoices}`` is the invoice numbers."""
    redirect_url: str | None = None
    webhook_url: str | None = None
    expires_after_days: int | None = Field(default=None, ge=1)
    timeout: float = Field(default=30, gt=0)
    max_attempts: int = Field(default=3, ge=1, le=10)
    retry_wait_seconds: float = Field(default=1, ge=0)

    @field_validator("description")
    @classmethod
    def _placeholders(cls, value: str) -> str:
        try:
            value.format(creditor="x", invoices="y")
        except (KeyError, IndexError, ValueError):
            raise ValueError(
                "description may use {creditor} and {invoices} only (write {{ for a brace)"
            ) from None
        return value


class DeskConfig(Strict):
    """``dunning desk``: where the web call desk listens. Any address other than the loopback
    needs ``token`` (or the environment variable ``DUNNING_DESK_TOKEN``)."""

    host: str = "127.0.0.1"
    port: int = Field(default=8470, ge=0, le=65535)
    token: str | None = None


class ScheduleConfig(Strict):
    """When ``dunning serve`` runs the pipeline (``dunning run`` ignores it)."""

    enabled: bool = True
    at: NameList = ["09:00"]
    """Times of day (``HH:MM``, 24-hour) in ``timezone``."""
    days: Literal["business", "all"] = "business"
    """``business``: the pipeline calendar's business days, holidays and closed days left out;
    ``all``: every day."""
    timezone: str | None = None
    """IANA zone of ``at``; default: the pipeline calendar's timezone."""

    @field_validator("at")
    @classmethod
    def _times(cls, value: list[str]) -> list[str]:
        times = []
        for text in value:
            hours, _, minutes = text.partition(":")
            if not (hours.isdigit() and minutes.isdigit() and len(minutes) == 2):
                raise ValueError(f"{text!r} is not a time of day; write it as HH:MM, e.g. 09:00")
            if int(hours) > 23 or int(minutes) > 59:
                raise ValueError(f"{text!r} is not a time of day; hours 00-23, minutes 00-59")
            times.append(f"{int(hours):02d}:{minutes}")
        if not times:
            raise ValueError('give at least one time of day, e.g. at: "09:00"')
        return sorted(set(times))

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return check_timezone(value)
        except UnknownTimezone as exc:
            raise ValueError(str(exc)) from None


class ServiceConfig(Strict):
    """How ``dunning serve`` runs: health reporting and logs."""

    health_file: str | None = None
    """A file rewritten (atomically, JSON) after every pass of the scheduler and every run:
    what a container's liveness probe or a monitoring check reads. Relative to the config."""
    health_port: int | None = Field(default=None, ge=0, le=65535)
    """Serve ``GET /health`` on 127.0.0.1 at this port (``0``: a free one) while running."""
    catch_up: bool = True
    """After downtime, run each pipeline that missed a scheduled run once (not once per miss)."""
    log_format: Literal["auto", "json", "text"] = "auto"
    """``auto``: JSON lines when stderr is not a terminal, readable text when it is."""


class BankConfig(Strict):
    """How bank statements are matched (``dunning payments import``).

    ``accounts`` are the IBANs whose statements belong to this pipeline (default: the
    creditor's ``iban``); a statement of any other account is refused. A match whose confidence
    (0-100) is at least ``match_threshold`` is recorded and written back; the rest waits in
    ``dunning payments unmatched`` for a person."""

    accounts: list[str] = []
    match_threshold: int = Field(default=90, ge=1, le=100)

    @field_validator("accounts")
    @classmethod
    def _ibans(cls, value: list[str]) -> list[str]:
        cleaned = []
        for account in value:
            iban = compact_iban(account)
            if not iban_is_valid(iban):
                raise ValueError(f"{account!r} is not a valid IBAN; check the bank account number")
            cleaned.append(iban)
        return cleaned


class PipelineConfig(Strict):
    source: PluginSection
    creditor: CreditorConfig
    channels: dict[str, PluginSection] = Field(min_length=1)
    steps: list[StepConfig] = Field(min_length=1)
    default_language: Literal["nl", "en"] = "nl"
    calendar: CalendarConfig = CalendarConfig()
    contact: ContactConfig = ContactConfig()
    early_payment_discount: DiscountConfig | None = None
    segments: SegmentRules = SegmentRules()
    variant_by_segment: dict[str, str] = {}
    debtors: dict[str, DebtorOverride] = {}
    thank_you: ThankYouConfig | None = None
    pauses: PausesConfig = PausesConfig()
    law: LawConfig = LawConfig()
    calls: CallsConfig = CallsConfig()
    payment_links: PaymentLinksConfig | None = None
    schedule: ScheduleConfig = ScheduleConfig()
    bank: BankConfig = BankConfig()

    @property
    def bank_accounts(self) -> list[str]:
        """The IBANs whose statements belong to this pipeline: ``bank.accounts``, else the
        creditor's ``iban``."""
        if self.bank.accounts:
            return list(self.bank.accounts)
        return [compact_iban(self.creditor.iban)] if self.creditor.iban else []

    @model_validator(mode="after")
    def _steps_are_consistent(self) -> PipelineConfig:
        seen: set[str] = set()
        for step in self.steps:
            if step.name in seen:
                raise ValueError(f"step name {step.name!r} is used twice; step names must differ")
            seen.add(step.name)
        if self.steps[0].after_previous is not None:
            raise ValueError(
                f"the first step {self.steps[0].name!r} has no previous step; use 'after_due'"
            )
        seen_after = False
        for step in self.steps:
            if step.before_due is None:
                seen_after = True
            elif seen_after:
                raise ValueError(
                    f"step {step.name!r} uses 'before_due' after a step that goes out after the "
                    "due date; put the before_due steps first"
                )
        for segment in self.variant_by_segment:
            if segment not in SEGMENT_NAMES:
                raise ValueError(
                    f"variant_by_segment: unknown segment {segment!r}; "
                    f"segments: {', '.join(SEGMENT_NAMES)}"
                )
        letters = [s.name for s in self.steps if s.legal == "nl_14_day_letter"]
        if letters and self.law.country != "nl":
            raise ValueError(
                f"step {letters[0]!r} is a Dutch 14-day letter but law.country is "
                f"{self.law.country!r}; remove 'legal: nl_14_day_letter' or set law.country: nl"
            )
        variants = {name for step in self.steps for name in step.variants}
        chosen = [("variant_by_segment", v) for v in self.variant_by_segment.values()]
        chosen += [
            (f"debtors.{d}.variant", o.variant) for d, o in self.debtors.items() if o.variant
        ]
        for where, variant in chosen:
            if variant not in variants:
                known = ", ".join(sorted(variants)) or "none"
                raise ValueError(
                    f"{where}: no step has a variant named {variant!r}; variants in the steps: "
                    f"{known}"
                )
        return self


class RootConfig(Strict):
    version: Literal[1] = 1
    state: str = "dunning.db"
    desk: DeskConfig = DeskConfig()
    service: ServiceConfig = ServiceConfig()
    pipelines: dict[str, PipelineConfig] = Field(min_length=1)

    @field_validator("pipelines")
    @classmethod
    def _pipeline_names(cls, value: dict[str, PipelineConfig]) -> dict[str, PipelineConfig]:
        for name in value:
            if not NAME_PATTERN.match(name):
                raise ValueError(
                    f"pipeline name {name!r}: use lowercase letters, digits, '-' and '_' only"
                )
        return value
