"""The policy v1: delays, catch-up, minimum amounts, grouping, and what is never dunned."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from dunning.core.models import Debtor, Invoice, MessageState, StepHistory
from dunning.core.policy import Step, decide, plan_due_actions

DUE = date(2026, 3, 2)
LADDER = [
    Step("friendly", "email", "friendly-reminder", after_due=3),
    Step("second", "email", "second-reminder", after_previous=10),
    Step("final", "email", "final-reminder", after_previous=10),
    Step("demand", "email", "final-demand", after_previous=14, min_open_amount=Decimal(25)),
]


def invoice(
    number: str = "F1",
    debtor: str = "D1",
    open_: str = "100.00",
    total: str = "100.00",
    due: date = DUE,
    credit: bool = False,
) -> Invoice:
    return Invoice(
        number,
        debtor,
        due - timedelta(days=30),
        due,
        Decimal(total),
        Decimal(open_),
        is_credit_note=credit,
    )


def sent(step: str, day: date) -> StepHistory:
    return StepHistory(step, day, MessageState.SENT)


def test_nothing_before_the_first_delay():
    decision = decide(LADDER, invoice(), [], DUE + timedelta(days=2))
    assert decision.index is None
    assert decision.reason == f"next step 'friendly' on {DUE + timedelta(days=3)}"


def test_first_step_on_its_day():
    decision = decide(LADDER, invoice(), [], DUE + timedelta(days=3))
    assert decision.index == 0
    assert "3 days after the due date" in decision.reason


def test_after_previous_counts_from_the_day_the_previous_step_was_sent():
    history = [sent("friendly", DUE + timedelta(days=8))]  # sent late, e.g. after a holiday
    assert decide(LADDER, invoice(), history, DUE + timedelta(days=17)).index is None
    assert decide(LADDER, invoice(), history, DUE + timedelta(days=18)).index == 1


def test_a_step_is_never_repeated_and_the_ladder_never_goes_back():
    history = [sent("friendly", DUE + timedelta(days=3)), sent("second", DUE + timedelta(days=13))]
    for day in range(0, 23):
        decision = decide(LADDER, invoice(), history, DUE + timedelta(days=day))
        assert decision.index is None or decision.index >= 2


def test_after_a_missed_run_only_the_latest_due_step_is_planned():
    decision = decide(LADDER, invoice(), [], DUE + timedelta(days=40))
    assert decision.index == 3
    assert "catching up: not sending earlier steps friendly, second, final" in decision.reason


def test_latest_due_step_below_its_minimum_falls_back_to_the_one_before():
    decision = decide(LADDER, invoice(open_="20.00"), [], DUE + timedelta(days=40))
    assert decision.index == 2


def test_ladder_finished_after_the_last_step():
    history = [sent("demand", DUE + timedelta(days=40))]
    decision = decide(LADDER, invoice(), history, DUE + timedelta(days=200))
    assert decision.index is None
    assert decision.reason.startswith("ladder finished")


def test_failed_or_uncertain_steps_count_as_taken():
    history = [StepHistory("friendly", DUE + timedelta(days=3), MessageState.UNCERTAIN)]
    assert decide(LADDER, invoice(), history, DUE + timedelta(days=3)).index is None


def test_credit_notes_and_paid_invoices_are_never_dunned():
    late = DUE + timedelta(days=60)
    assert decide(LADDER, invoice(open_="-50", total="-50", credit=True), [], late).index is None
    assert decide(LADDER, invoice(open_="0"), [], late).index is None
    assert decide(LADDER, invoice(open_="-5"), [], late).index is None


def test_one_message_per_debtor_and_channel_lists_every_due_invoice():
    debtors = {"D1": Debtor("D1", "Jansen"), "D2": Debtor("D2", "Pietersen")}
    invoices = [
        invoice("F1", "D1", due=DUE),
        invoice("F2", "D1", due=DUE - timedelta(days=40)),
        invoice("F3", "D2", due=DUE),
        invoice("F4", "D1", due=DUE + timedelta(days=30)),  # not due yet
    ]
    plan = plan_due_actions("p", LADDER, DUE + timedelta(days=3), invoices, debtors, {})
    assert [(m.debtor.debtor_id, len(m.items)) for m in plan.messages] == [("D1", 2), ("D2", 1)]
    d1 = plan.messages[0]
    assert [i.invoice.number for i in d1.items] == ["F2", "F1"]  # oldest due first
    assert d1.step == "demand" and d1.template == "final-demand"  # the most severe item
    assert [s.invoice_number for s in plan.skipped] == ["F4"]


def test_debtor_already_contacted_today_waits():
    debtors = {"D1": Debtor("D1", "Jansen")}
    plan = plan_due_actions(
        "p",
        LADDER,
        DUE + timedelta(days=3),
        [invoice()],
        debtors,
        {},
        contacted_today={("D1", "email")},
    )
    assert plan.messages == []
    assert "already has a message on channel 'email' today" in plan.skipped[0].reason
