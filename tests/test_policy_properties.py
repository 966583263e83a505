"""Invariants of the policy over random portfolios and random run days (Hypothesis).

Each example plays a portfolio forward over a random set of run days (days without a run are
skipped days), recording every planned message as sent, exactly as the outbox would, and then
checks what went out against the rules the admin wrote.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dunning.core.calendar import SendWindow, calendar_for
from dunning.core.models import (
    Debtor,
    DebtorKind,
    Invoice,
    MessageState,
    Pause,
    PauseKind,
    PlannedMessage,
    StepHistory,
)
from dunning.core.policy import Conditions, Rules, Step, plan_due_actions
from dunning.core.policy.pauses import evaluate

START = date(2026, 4, 1)  # Easter Monday 6 April, King's Day 27 April, 5 May in the horizon
HORIZON = 75
ZONES = ("Europe/Amsterdam", "Europe/Brussels", "America/New_York", "Asia/Tokyo")

LADDER = (
    Step("courtesy", "email", "courtesy-reminder", before_due=2, channel_kind="email"),
    Step("friendly", "email", "friendly-reminder", after_due=3, channel_kind="email"),
    Step(
        "second",
        "sms",
        "second-reminder",
        after_previous=5,
        delays_in="business",
        channel_kind="sms",
    ),
    Step(
        "call",
        "call",
        "call-task",
        after_previous=4,
        channel_kind="call",
        conditions=Conditions(min_open=Decimal(50)),
    ),
    Step("final", "email", "final-demand", after_previous=7, channel_kind="email"),
)


@dataclass
class World:
    """A portfolio and the rules, plus everything sent so far."""

    rules: Rules
    debtors: dict[str, Debtor]
    invoices: list[Invoice]
    pauses: dict[str, list[Pause]]
    history: dict[str, list[StepHistory]] = field(default_factory=lambda: defaultdict(list))
    last_contact: dict[str, date] = field(default_factory=dict)
    sent: list[tuple[date, PlannedMessage]] = field(default_factory=list)
    moments: dict[date, datetime] = field(default_factory=dict)


@st.composite
def debtors(draw: st.DrawFn, count: int) -> dict[str, Debtor]:
    result = {}
    for n in range(count):
        debtor_id = f"D{n}"
        result[debtor_id] = Debtor(
            debtor_id,
            f"Debtor {n}",
            email=f"d{n}@example.com",
            kind=draw(st.sampled_from(list(DebtorKind))),
            country=draw(st.sampled_from(["NL", "BE", None])),
            timezone=draw(st.sampled_from([*ZONES, None])),
        )
    return result


@st.composite
def invoices(draw: st.DrawFn, debtor_ids: list[str]) -> list[Invoice]:
    count = draw(st.integers(1, 14))
    result = []
    for n in range(count):
        due = START + timedelta(days=draw(st.integers(-40, 30)))
        total = Decimal(draw(st.integers(-5000, 200_000))) / 100
        credit = total < 0
        paid = draw(st.booleans()) and draw(st.booleans())
        open_amount = Decimal(0) if paid else total
        if not paid and total > 0 and draw(st.booleans()):
            open_amount = (total * Decimal(draw(st.integers(1, 99))) / 100).quantize(
                Decimal("0.01")
            )
        result.append(
            Invoice(
                f"F{n}",
                draw(st.sampled_from(debtor_ids)),
                due - timedelta(days=14),
                due,
                total,
                open_amount,
                is_credit_note=credit,
            )
        )
    return result


@st.composite
def pauses_for(draw: st.DrawFn, invoices_: list[Invoice]) -> dict[str, list[Pause]]:
    result: dict[str, list[Pause]] = defaultdict(list)
    for n, invoice in enumerate(invoices_):
        if draw(st.integers(0, 3)) != 0:
            continue
        kind = draw(st.sampled_from([PauseKind.PROMISE, PauseKind.DISPUTE, PauseKind.MANUAL]))
        starts = START + timedelta(days=draw(st.integers(-5, 40)))
        until = starts + timedelta(days=draw(st.integers(1, 20)))
        result[invoice.debtor_id].append(
            Pause(
                id=n + 1,
                debtor_id=invoice.debtor_id,
                kind=kind,
                starts_on=starts,
                reason="test",
                invoice_numbers=(invoice.number,),
                until=until if kind is not PauseKind.DISPUTE else None,
                grace_days=draw(st.integers(0, 3)),
                open_at_start=invoice.amount_open,
            )
        )
    return dict(result)


@st.composite
def worlds(draw: st.DrawFn) -> World:
    people = draw(debtors(draw(st.integers(1, 5))))
    portfolio = draw(invoices(sorted(people)))
    window = draw(st.sampled_from([None, SendWindow(time(8), time(20))]))
    rules = Rules(
        business_days_only=draw(st.booleans()),
        min_days_between_contacts=draw(st.integers(0, 3)),
        send_window=window,
    )
    return World(rules, people, portfolio, draw(pauses_for(portfolio)))


def run_days(draw_days: list[int]) -> list[date]:
    return sorted({START + timedelta(days=d) for d in draw_days})


def play(
    world: World, days: list[date], hours: list[int], ladder: tuple[Step, ...] = LADDER
) -> None:
    """Plan on each run day and record what was planned as sent (the outbox's job)."""
    for n, today in enumerate(days):
        moment = datetime.combine(today, time(hours[n % len(hours)]), tzinfo=UTC)
        world.moments[today] = moment
        rules = replace(world.rules, now=moment)
        plan = plan_due_actions(
            "p",
            ladder,
            today,
            world.invoices,
            world.debtors,
            world.history,
            rules=rules,
            pauses=world.pauses,
            last_contact=world.last_contact,
        )
        for message in plan.messages:
            world.sent.append((today, message))
            world.last_contact[message.debtor.debtor_id] = today
            for item in message.items:
                world.history[item.invoice.number].append(
                    StepHistory(item.step, today, MessageState.SENT)
                )


COMMON = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
DAYS = st.lists(st.integers(0, HORIZON), min_size=1, max_size=45)
HOURS = st.lists(st.integers(0, 23), min_size=1, max_size=5)


@COMMON
@given(worlds(), DAYS, HOURS)
def test_never_two_messages_to_one_debtor_on_one_channel_on_one_day(
    world: World, days: list[int], hours: list[int]
) -> None:
    play(world, run_days(days), hours)
    seen = [(day, m.debtor.debtor_id, m.channel) for day, m in world.sent]
    assert len(seen) == len(set(seen))


@COMMON
@given(worlds(), DAYS, HOURS)
def test_contacts_with_one_debtor_keep_the_minimum_gap(
    world: World, days: list[int], hours: list[int]
) -> None:
    play(world, run_days(days), hours)
    gap = world.rules.min_days_between_contacts
    per_debtor: dict[str, list[date]] = defaultdict(list)
    for day, message in world.sent:
        per_debtor[message.debtor.debtor_id].append(day)
    for contact_days in per_debtor.values():
        for earlier, later in itertools.pairwise(contact_days):
            assert (later - earlier).days >= gap or (gap == 0 and later >= earlier)


@COMMON
@given(worlds(), DAYS, HOURS)
def test_never_a_step_before_its_delay_and_steps_in_order(
    world: World, days: list[int], hours: list[int]
) -> None:
    play(world, run_days(days), hours)
    index = {step.name: i for i, step in enumerate(LADDER)}
    taken: dict[str, list[tuple[int, date]]] = defaultdict(list)
    for day, message in world.sent:
        for item in message.items:
            i = index[item.step]
            step = LADDER[i]
            due = item.invoice.due_date
            if step.before_due is not None:
                assert day >= due - timedelta(days=step.before_due)
                assert day < due, "a courtesy reminder lapses on the due date"
            elif step.after_due is not None:
                assert day >= due + timedelta(days=step.after_due)
            earlier = taken[item.invoice.number]
            if earlier:
                last_index, last_day = earlier[-1]
                assert i > last_index, "steps go up the ladder, never twice, never back"
                if step.after_previous is not None and last_index == i - 1:
                    assert (day - last_day).days >= step.after_previous
            earlier.append((i, day))


@COMMON
@given(worlds(), DAYS, HOURS)
def test_never_a_step_for_a_paid_paused_disputed_or_credit_invoice(
    world: World, days: list[int], hours: list[int]
) -> None:
    play(world, run_days(days), hours)
    for day, message in world.sent:
        for item in message.items:
            invoice = item.invoice
            assert not invoice.is_credit_note and invoice.amount_total > 0
            assert invoice.amount_open > 0
            for pause in world.pauses.get(invoice.debtor_id, ()):
                if pause.covers(invoice.number):
                    assert not evaluate(pause, day, invoice.amount_open).holds


@COMMON
@given(worlds(), DAYS, HOURS)
def test_never_on_a_closed_day_or_outside_the_send_window(
    world: World, days: list[int], hours: list[int]
) -> None:
    play(world, run_days(days), hours)
    for day, message in world.sent:
        debtor = message.debtor
        calendar = calendar_for(debtor.country or "NL")
        if world.rules.business_days_only:
            assert calendar.is_business_day(day)
        if message.channel in ("sms", "call"):
            assert day.weekday() != 6 and not calendar.is_holiday(day)
        window = world.rules.send_window
        if window is not None:
            zone = debtor.timezone or world.rules.timezone
            local = world.moments[day].astimezone(ZoneInfo(zone)).time()
            assert window.start <= local < window.end


PLAIN_LADDER = tuple(
    replace(step, conditions=Conditions(), channel="email", channel_kind="email")
    for step in LADDER[1:]
)


@settings(max_examples=150, deadline=None)
@given(
    due_offset=st.integers(-30, 10),
    promise_start=st.integers(0, 30),
    promise_days=st.integers(1, 15),
    grace=st.integers(0, 3),
    daily=st.booleans(),
    days=DAYS,
)
def test_after_a_broken_promise_the_ladder_resumes_at_the_next_step(
    due_offset: int,
    promise_start: int,
    promise_days: int,
    grace: int,
    daily: bool,
    days: list[int],
) -> None:
    """With daily runs the first step after a broken promise is the one after the last step
    sent (the ladder moved by the days it stood still); with skipped days the usual catch-up
    may jump, but never during the promise. The first message after it says it was broken."""
    if daily:
        days = list(range(due_offset - 5, HORIZON + 1))  # from before the first step
    due = START + timedelta(days=due_offset)
    invoice = Invoice("F1", "D1", due - timedelta(days=14), due, Decimal(100), Decimal(100))
    starts = START + timedelta(days=promise_start)
    promise = Pause(
        1,
        "D1",
        PauseKind.PROMISE,
        starts,
        "promised on the phone",
        ("F1",),
        until=starts + timedelta(days=promise_days),
        grace_days=grace,
        open_at_start=Decimal(100),
    )
    world = World(Rules(), {"D1": Debtor("D1", "One")}, [invoice], {"D1": [promise]})
    play(world, run_days(days), [10], PLAIN_LADDER)
    broken_from = promise.until + timedelta(days=grace + 1)  # type: ignore[operator]
    before = [(d, m) for d, m in world.sent if d < starts]
    after = [(d, m) for d, m in world.sent if d >= broken_from]
    during = [d for d, _ in world.sent if starts <= d < broken_from]
    assert not during, "nothing goes out while the promise holds"
    if not after:
        return
    index = {step.name: i for i, step in enumerate(PLAIN_LADDER)}
    _first_day, first = after[0]
    last_before = max((index[m.step] for _, m in before), default=-1)
    if daily:
        assert index[first.step] == last_before + 1, "resumes at the next step, no jump"
    else:
        assert index[first.step] > last_before
    assert first.items[0].resume_note is not None
    assert first.items[0].resume_note.promised_for == promise.until
    later = after[1:]
    assert all(m.items[0].resume_note is None for _, m in later), "said once, not every time"
