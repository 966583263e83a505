"""The policy's rules one by one: conditions, pre-due steps, business-day delays, calendars per
country, quiet channels, pauses, policy changes, segments, discounts and variants."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest

from dunning.core.calendar import SendWindow
from dunning.core.config.schema import SegmentRules
from dunning.core.models import (
    Debtor,
    DebtorKind,
    Instalment,
    Invoice,
    MessageState,
    Pause,
    PauseKind,
    PauseStatus,
    StepHistory,
)
from dunning.core.policy import (
    Conditions,
    DebtorSettings,
    Discount,
    Rules,
    Step,
    plan_due_actions,
    template_for,
)
from dunning.core.policy.build import step_aliases
from dunning.core.policy.discount import early_discount
from dunning.core.policy.pauses import evaluate
from dunning.core.segments import PaidInvoice, debtor_figures

DUE = date(2026, 3, 2)  # a Monday


def invoice(
    number: str = "F1",
    debtor: str = "D1",
    open_: str = "100.00",
    due: date = DUE,
    tags: tuple[str, ...] = (),
) -> Invoice:
    return Invoice(
        number,
        debtor,
        due - timedelta(days=14),
        due,
        Decimal(open_),
        Decimal(open_),
        tags=tags,
    )


def person(debtor_id: str = "D1", **fields: object) -> Debtor:
    return Debtor(debtor_id, f"Debtor {debtor_id}", email="x@example.com", **fields)  # type: ignore[arg-type]


def plan(
    steps: list[Step],
    today: date,
    invoices: list[Invoice],
    debtors: list[Debtor] | None = None,
    **kwargs: object,
):  # type: ignore[no-untyped-def]
    people = {d.debtor_id: d for d in (debtors or [person()])}
    history = kwargs.pop("history", {})
    return plan_due_actions("p", steps, today, invoices, people, history, **kwargs)  # type: ignore[arg-type]


def sent(step: str, day: date) -> StepHistory:
    return StepHistory(step, day, MessageState.SENT)


# --- conditions -------------------------------------------------------------------------------

FRIENDLY = Step("friendly", "email", "friendly-reminder", after_due=3)


def ladder_with(conditions: Conditions) -> list[Step]:
    return [
        FRIENDLY,
        Step("call", "call", "call", after_previous=5, channel_kind="call", conditions=conditions),
        Step("final", "email", "final-demand", after_previous=7),
    ]


@pytest.mark.parametrize(
    ("conditions", "debtor", "inv", "applies", "why"),
    [
        (Conditions(min_open=Decimal(500)), person(), invoice(), False, "below 500"),
        (Conditions(max_open=Decimal(50)), person(), invoice(), False, "above 50"),
        (Conditions(min_open=Decimal(50)), person(), invoice(), True, ""),
        (
            Conditions(debtor_kinds=frozenset({"consumer"})),
            person(kind=DebtorKind.BUSINESS),
            invoice(),
            False,
            "debtor is a business",
        ),
        (
            Conditions(languages=frozenset({"en"})),
            person(language="nl"),
            invoice(),
            False,
            "language 'nl'",
        ),
        (Conditions(tags=frozenset({"vip"})), person(), invoice(), False, "no tag of vip"),
        (Conditions(tags=frozenset({"vip"})), person(tags=("vip",)), invoice(), True, ""),
        (
            Conditions(not_tags=frozenset({"no-call"})),
            person(),
            invoice(tags=("no-call",)),
            False,
            "tagged no-call",
        ),
        (
            Conditions(segments=frozenset({"risky"})),
            person(),
            invoice(),
            False,
            "segment 'new'",
        ),
        (Conditions(min_open_invoices=2), person(), invoice(), False, "at least 2"),
    ],
)
def test_a_step_whose_conditions_fail_is_skipped_and_the_ladder_continues(
    conditions: Conditions, debtor: Debtor, inv: Invoice, applies: bool, why: str
) -> None:
    steps = ladder_with(conditions)
    history = {"F1": [sent("friendly", DUE + timedelta(days=3))]}
    call_day = DUE + timedelta(days=8)
    result = plan(steps, call_day, [inv], [debtor], history=history)
    if applies:
        assert [m.step for m in result.messages] == ["call"]
        return
    assert result.messages == []
    assert why in result.skipped[0].reason
    assert "next step 'final' on" in result.skipped[0].reason
    # The ladder continues: the final demand counts from the day the skipped step was due.
    final_day = call_day + timedelta(days=7)
    later = plan(steps, final_day, [inv], [debtor], history=history)
    assert [m.step for m in later.messages] == ["final"]
    assert "'call' skipped" in later.messages[0].items[0].reason


def test_amount_condition_on_the_debtors_total_counts_every_open_invoice() -> None:
    conditions = Conditions(min_open=Decimal(150), amount_of="debtor")
    steps = [Step("friendly", "email", "t", after_due=3, conditions=conditions)]
    day = DUE + timedelta(days=3)
    alone = plan(steps, day, [invoice("F1")])
    together = plan(steps, day, [invoice("F1"), invoice("F2", due=DUE + timedelta(days=30))])
    assert alone.messages == []
    assert "debtor's open total 100.00 is below 150" in alone.skipped[0].reason
    assert [i.invoice.number for i in together.messages[0].items] == ["F1"]


# --- before the due date ----------------------------------------------------------------------


COURTESY = Step("courtesy", "email", "courtesy-reminder", before_due=3)


def test_courtesy_reminder_goes_out_before_the_due_date_and_lapses_on_it() -> None:
    steps = [COURTESY, FRIENDLY]
    assert plan(steps, DUE - timedelta(days=4), [invoice()]).messages == []
    on_time = plan(steps, DUE - timedelta(days=3), [invoice()])
    assert [m.step for m in on_time.messages] == ["courtesy"]
    assert "3 days before due" in on_time.messages[0].items[0].reason
    missed = plan(steps, DUE, [invoice()])
    assert missed.messages == []
    assert "next step 'friendly'" in missed.skipped[0].reason


def test_early_discount_comes_from_invoice_terms_then_debtor_then_pipeline() -> None:
    rules = Rules(
        discount=Discount(Decimal(2), 8),
        debtors={
            "D2": DebtorSettings(discount=Discount(Decimal(3), 10)),
            "D3": DebtorSettings(no_discount=True),
        },
    )
    plain = invoice()  # issued 14 days before DUE
    own_terms = Invoice(
        "F9",
        "D1",
        DUE - timedelta(days=14),
        DUE,
        Decimal(100),
        Decimal(100),
        discount_percent=Decimal("2.5"),
        discount_days=12,
    )
    day = DUE - timedelta(days=7)  # 7 days after the invoice date
    pipeline = early_discount([plain], "D1", rules, day)
    assert pipeline is not None and pipeline.percent == 2
    assert pipeline.deadline == plain.issue_date + timedelta(days=8)
    assert (pipeline.amount, pipeline.pay_amount) == (Decimal("2.00"), Decimal("98.00"))
    debtor = early_discount([plain], "D2", rules, day)
    assert debtor is not None and debtor.percent == 3 and debtor.amount == Decimal("3.00")
    assert early_discount([plain], "D3", rules, day) is None
    terms = early_discount([own_terms], "D2", rules, day)
    assert terms is not None and terms.percent == Decimal("2.5")
    assert early_discount([plain], "D1", rules, plain.issue_date + timedelta(days=9)) is None


# --- calendar ---------------------------------------------------------------------------------


def test_business_day_delays_skip_weekends_and_holidays() -> None:
    # Due Thursday 23 April 2026; King's Day is Monday 27 April.
    due = date(2026, 4, 23)
    steps = [Step("friendly", "email", "t", after_due=2, delays_in="business")]
    inv = invoice(due=due)
    rules = Rules()
    assert plan(steps, date(2026, 4, 27), [inv], rules=rules).messages == []
    assert plan(steps, date(2026, 4, 28), [inv], rules=rules).messages != []


def test_business_days_only_follows_the_debtors_country() -> None:
    steps = [FRIENDLY]
    liberation_day = date(2026, 5, 5)  # a Tuesday: a holiday in NL, not in BE
    inv_nl, inv_be = invoice("F1", "D1", due=date(2026, 4, 20)), invoice("F2", "D2")
    inv_be = invoice("F2", "D2", due=date(2026, 4, 20))
    people = [person("D1", country="NL"), person("D2", country="BE")]
    rules = Rules(business_days_only=True)
    result = plan(steps, liberation_day, [inv_nl, inv_be], people, rules=rules)
    assert [m.debtor.debtor_id for m in result.messages] == ["D2"]
    assert "not a business day (Liberation Day" in result.skipped[0].reason


def test_calls_and_sms_never_go_out_on_sundays_or_public_holidays() -> None:
    steps = [Step("sms", "sms", "t", after_due=1, channel_kind="sms")]
    rules = Rules(business_days_only=False)
    easter_monday = date(2026, 4, 6)
    inv = invoice(due=date(2026, 3, 20))
    assert plan(steps, easter_monday, [inv], rules=rules).messages == []
    assert plan(steps, date(2026, 4, 5), [inv], rules=rules).messages == []  # Sunday
    assert plan(steps, date(2026, 4, 4), [inv], rules=rules).messages != []  # Saturday


def test_send_window_is_read_in_the_debtors_time_zone() -> None:
    rules = Rules(
        send_window=SendWindow(time(8), time(20)),
        now=datetime(2026, 3, 10, 20, 30, tzinfo=UTC),  # 21:30 Amsterdam, 16:30 New York
    )
    people = [person("D1"), person("D2", timezone="America/New_York")]
    invoices = [invoice("F1", "D1"), invoice("F2", "D2")]
    result = plan([FRIENDLY], DUE + timedelta(days=8), invoices, people, rules=rules)
    assert [m.debtor.debtor_id for m in result.messages] == ["D2"]
    assert "outside the send window 08:00-20:00 (local time 21:30" in result.skipped[0].reason


# --- one contact at a time --------------------------------------------------------------------


def test_minimum_gap_between_contacts_holds_across_channels() -> None:
    steps = [FRIENDLY, Step("sms", "sms", "t", after_due=4, channel_kind="sms")]
    rules = Rules(min_days_between_contacts=3)
    day = DUE + timedelta(days=4)  # a Friday
    last_contact = {"D1": day - timedelta(days=2)}
    waiting = plan(steps, day, [invoice()], rules=rules, last_contact=last_contact)
    assert waiting.messages == []
    assert "at least 3 days between contacts" in waiting.skipped[0].reason
    due_on_two = [invoice("F1"), invoice("F2", due=DUE + timedelta(days=1))]
    one_channel = plan(
        [FRIENDLY, Step("sms", "sms", "t", after_previous=1, channel_kind="sms")],
        DUE + timedelta(days=4),
        due_on_two,
        rules=rules,
        history={"F1": [sent("friendly", DUE + timedelta(days=3))]},
    )
    assert len(one_channel.messages) == 1
    assert one_channel.messages[0].channel == "sms"  # the most severe step goes first


# --- pauses -----------------------------------------------------------------------------------


def arrangement(paid_so_far: str, today: date) -> tuple[Pause, date]:
    pause = Pause(
        7,
        "D1",
        PauseKind.ARRANGEMENT,
        date(2026, 3, 1),
        "three instalments",
        ("F1",),
        grace_days=2,
        instalments=(
            Instalment(date(2026, 3, 10), Decimal(40)),
            Instalment(date(2026, 4, 10), Decimal(30)),
            Instalment(date(2026, 5, 10), Decimal(30)),
        ),
        open_at_start=Decimal(100),
    )
    return pause, today


def test_arrangement_holds_while_instalments_arrive_and_breaks_on_a_missed_one() -> None:
    on_time = evaluate(*arrangement("40", date(2026, 4, 12)), open_now=Decimal(60))
    assert on_time.holds
    within_grace = evaluate(*arrangement("40", date(2026, 4, 12)), open_now=Decimal(60))
    assert within_grace.status is PauseStatus.ACTIVE
    missed = evaluate(*arrangement("40", date(2026, 4, 13)), open_now=Decimal(60))
    assert not missed.holds and missed.status is PauseStatus.BROKEN
    assert missed.ended_on == date(2026, 4, 13)
    assert missed.note is not None and missed.note.promised_for == date(2026, 4, 10)
    assert missed.note.amount == Decimal(30)
    kept = evaluate(*arrangement("100", date(2026, 4, 13)), open_now=Decimal(0))
    assert kept.status is PauseStatus.KEPT


def test_dispute_holds_until_a_person_resolves_it() -> None:
    dispute = Pause(1, "D1", PauseKind.DISPUTE, DUE, "wrong hours", ("F1",))
    years_later = evaluate(dispute, DUE + timedelta(days=900), Decimal(100))
    assert years_later.holds
    steps = [FRIENDLY]
    result = plan(steps, DUE + timedelta(days=30), [invoice()], pauses={"D1": [dispute]})
    assert result.messages == []
    assert "paused: disputed (wrong hours)" in result.skipped[0].reason


def test_manual_pause_of_a_debtor_covers_every_invoice_until_its_date() -> None:
    pause = Pause(2, "D1", PauseKind.MANUAL, DUE, "bankruptcy check", until=DUE + timedelta(10))
    invoices = [invoice("F1"), invoice("F2", due=DUE + timedelta(days=2))]
    during = plan([FRIENDLY], DUE + timedelta(days=6), invoices, pauses={"D1": [pause]})
    assert during.messages == [] and len(during.skipped) == 2
    after = plan([FRIENDLY], DUE + timedelta(days=17), invoices, pauses={"D1": [pause]})
    assert len(after.messages) == 1 and len(after.messages[0].items) == 2


# --- policy changes ---------------------------------------------------------------------------


def test_a_removed_steps_cases_continue_at_the_next_step_that_exists() -> None:
    old = ["friendly", "second", "call", "final"]
    new = ["friendly", "final", "agency"]
    aliases = step_aliases(new, [old])
    assert aliases == {"second": 1, "call": 1}
    steps = [
        FRIENDLY,
        Step("final", "email", "final-demand", after_previous=7),
        Step("agency", "email", "agency", after_previous=14),
    ]
    history = {
        "F1": [sent("friendly", DUE + timedelta(days=3)), sent("second", DUE + timedelta(10))]
    }
    too_early = plan(steps, DUE + timedelta(days=16), [invoice()], history=history, aliases=aliases)
    assert "next step 'final' on 2026-03-19" in too_early.skipped[0].reason
    result = plan(steps, DUE + timedelta(days=17), [invoice()], history=history, aliases=aliases)
    assert [m.step for m in result.messages] == ["final"]


def test_removing_the_last_steps_finishes_their_cases() -> None:
    aliases = step_aliases(["friendly"], [["friendly", "second"]])
    history = {"F1": [sent("second", DUE + timedelta(days=10))]}
    result = plan(
        [FRIENDLY], DUE + timedelta(days=40), [invoice()], history=history, aliases=aliases
    )
    assert result.messages == []
    assert "ladder finished" in result.skipped[0].reason


# --- segments and variants --------------------------------------------------------------------


def test_segments_from_payment_history() -> None:
    def paid(debtor: str, *late: int) -> list[PaidInvoice]:
        return [PaidInvoice(debtor, DUE, DUE + timedelta(days=d)) for d in late]

    history = [
        *paid("PUNCTUAL", 0, -3, 0, 1),
        *paid("LATE", 8, 12, 15),
        *paid("RISKY", 45, 60, 20),
        *paid("NEW", 0),
        *paid("BROKE", 0, 0, 0),
    ]
    figures = debtor_figures(history, {"BROKE": 2}, SegmentRules(), ["NOBODY"])
    segments = {k: f.segment for k, f in figures.items()}
    assert segments == {
        "PUNCTUAL": "late-but-reliable",  # one day late of four: 75% on time, below 90%
        "LATE": "late-but-reliable",
        "RISKY": "risky",
        "NEW": "new",
        "BROKE": "risky",
        "NOBODY": "new",
    }
    assert figures["LATE"].avg_days_late == Decimal("11.67")
    assert figures["PUNCTUAL"].on_time_share == Decimal("0.75")
    loose = SegmentRules(punctual_min_on_time_share=Decimal("0.7"))
    assert debtor_figures(history, {}, loose)["PUNCTUAL"].segment == "punctual"


def test_variant_per_debtor_wins_over_variant_per_segment() -> None:
    step = Step("friendly", "email", "friendly-reminder", after_due=3, variants={
        "humorous": "friendly-reminder-humorous"
    })  # fmt: skip
    rules = Rules(
        variant_by_segment={"late-but-reliable": "humorous"},
        debtors={"D9": DebtorSettings(variant="formal")},
    )
    assert template_for(step, "D1", "late-but-reliable", rules) == "friendly-reminder-humorous"
    assert template_for(step, "D1", "punctual", rules) == "friendly-reminder"
    assert template_for(step, "D9", "late-but-reliable", rules) == "friendly-reminder"
    result = plan([step], DUE + timedelta(days=3), [invoice()], rules=rules, segments={
        "D1": "late-but-reliable"
    })  # fmt: skip
    assert result.messages[0].template == "friendly-reminder-humorous"
