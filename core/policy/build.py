"""From ``pipelines.yaml`` (validated) to the policy's plain data: steps, rules, aliases."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from dunning.core.calendar import WEEKDAYS, SendWindow
from dunning.core.config import LoadedPipeline
from dunning.core.config.schema import DiscountConfig, PipelineConfig, StepConfig
from dunning.core.policy.steps import Conditions, DebtorSettings, Discount, Rules, Step


def _discount(config: DiscountConfig | None) -> Discount | None:
    return Discount(config.percent, config.within_days) if config else None


def step_from_config(
    config: StepConfig,
    default_unit: str,
    channel_kinds: Mapping[str, str],
    silent_channels: frozenset[str] = frozenset(),
) -> Step:
    when = config.when
    kinds = frozenset(when.debtor_kind)
    if config.legal == "nl_14_day_letter" and not kinds:
        kinds = frozenset({"consumer"})  # the 14-day letter is for consumers only
    return Step(
        name=config.name,
        channel=config.channel,
        template=config.template,
        after_due=config.after_due,
        after_previous=config.after_previous,
        before_due=config.before_due,
        min_open_amount=config.min_open_amount,
        delays_in=config.delays_in or default_unit,  # type: ignore[arg-type]
        channel_kind=channel_kinds.get(config.channel, config.channel),
        contacts_debtor=config.channel not in silent_channels,
        fallbacks=tuple(config.fallback),
        conditions=Conditions(
            min_open=when.min_open,
            max_open=when.max_open,
            amount_of=when.amount_of,
            debtor_kinds=kinds,
            languages=frozenset(when.language),
            tags=frozenset(when.tags),
            not_tags=frozenset(when.not_tags),
            segments=frozenset(when.segment),
            not_segments=frozenset(when.not_segment),
            min_open_invoices=when.min_open_invoices,
            max_open_invoices=when.max_open_invoices,
        ),
        variants=dict(config.variants),
        legal=config.legal,
    )


def channel_kinds(pipeline: LoadedPipeline) -> dict[str, str]:
    return {name: loaded.cls.kind for name, loaded in pipeline.channels.items()}


def silent_channels(pipeline: LoadedPipeline) -> frozenset[str]:
    """Channels that do not reach the debtor when they send (call tasks)."""
    return frozenset(n for n, c in pipeline.channels.items() if not c.cls.contacts_debtor)


def policy_steps(pipeline: LoadedPipeline) -> list[Step]:
    """The configured ladder as the policy sees it."""
    unit = pipeline.config.calendar.delays_in
    kinds = channel_kinds(pipeline)
    silent = silent_channels(pipeline)
    return [step_from_config(s, unit, kinds, silent) for s in pipeline.steps]


def steps_from_snapshot(
    snapshot: Sequence[Mapping[str, Any]], pipeline: LoadedPipeline
) -> list[Step]:
    """A recorded ladder (``ledger.ladders``) as policy steps, for ``plan --diff``."""
    unit = pipeline.config.calendar.delays_in
    kinds = channel_kinds(pipeline)
    silent = silent_channels(pipeline)
    return [step_from_config(StepConfig.model_validate(s), unit, kinds, silent) for s in snapshot]


def ladder_snapshot(pipeline: LoadedPipeline) -> list[dict[str, Any]]:
    return [s.model_dump(mode="json", exclude_defaults=True) for s in pipeline.steps]


def policy_rules(config: PipelineConfig, now: datetime | None = None) -> Rules:
    calendar = config.calendar
    return Rules(
        country=calendar.country,
        closed=tuple(calendar.closed),
        business_weekdays=tuple(sorted(WEEKDAYS[d] for d in calendar.business_days)),
        business_days_only=calendar.business_days_only,
        timezone=calendar.timezone,
        send_window=SendWindow.parse(calendar.send_window)
        if calendar.send_window not in (None, "always")
        else None,
        now=now,
        quiet_channels=frozenset(calendar.quiet_channels),
        min_days_between_contacts=config.contact.min_days_between,
        discount=_discount(config.early_payment_discount),
        variant_by_segment=dict(config.variant_by_segment),
        debtors={
            debtor_id: DebtorSettings(
                variant=o.variant,
                discount=_discount(o.early_payment_discount),
                no_discount=o.no_discount,
                segment=o.segment,
            )
            for debtor_id, o in config.debtors.items()
        },
        promise_grace_days=config.pauses.promise_grace_days,
        arrangement_grace_days=config.pauses.arrangement_grace_days,
    )


def step_aliases(current: Sequence[str], recorded: Sequence[Sequence[str]]) -> dict[str, int]:
    """Removed step name -> index (in ``current``) of the step its cases continue at.

    ``recorded`` are earlier ladders (step names in order), oldest first. A removed step's cases
    continue at the first step after it, in the newest ladder that had it, that still exists;
    when none does, at ``len(current)`` (the ladder is finished for them).
    """
    index_of = {name: i for i, name in enumerate(current)}
    aliases: dict[str, int] = {}
    for ladder in recorded:
        for position, name in enumerate(ladder):
            if name in index_of:
                continue
            following = next(
                (index_of[n] for n in ladder[position + 1 :] if n in index_of), len(current)
            )
            aliases[name] = following
    return aliases
