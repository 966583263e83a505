"""Call tasks from the ladder, the call list and every call outcome, through the real CLI.

Times moves with ``--date``; mail goes to a real SMTP server. See ``tests/call_portfolio.py``
for the ladder: reminder on 4 March, call on 11 March, final reminder 7 days after the call.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.call_portfolio import B1, B2, N4, S3, CallPortfolio
from tests.smtp_server import SMTPTestServer
from tests.test_pauses_cli import Inbox, inbox, only_line

__all__ = ["inbox"]  # the fixture, shared with the pause tests


@pytest.fixture
def desk(tmp_path: Path, smtp_server: SMTPTestServer) -> CallPortfolio:
    """D1 Bakker (F-1 100, F-2 200, with a management contact), D2 Smith (F-3 900, no
    management), D3 Nobel (F-4 50, no phone). Reminded on 4 March; calls created on 11 March."""
    portfolio = CallPortfolio(tmp_path, smtp_server.port, [B1, B2, S3, N4])
    portfolio.run("2026-03-04")
    portfolio.run("2026-03-11")
    return portfolio


def test_the_call_step_creates_one_task_per_debtor_with_what_the_call_needs(
    desk: CallPortfolio,
) -> None:
    tasks = desk.tasks()
    assert [t["debtor_id"] for t in tasks] == ["D2", "D1"]  # most money first
    smith, bakker = tasks
    assert smith["open_total"] == "900.00" and bakker["open_total"] == "300.00"
    assert bakker["invoices"] == ["F-1", "F-2"]
    assert bakker["due_on"] == "2026-03-11" and bakker["hours"] == "09:00-17:00"
    assert bakker["assigned_to"] == "sanne"
    assert bakker["contact"] == {"role": "main", "name": "Jan Bakker", "phone": "+31201234567"}
    assert any("Jan" in point for point in bakker["talking_points"])
    assert any("€ 300,00" in point.replace("\xa0", " ") for point in bakker["talking_points"])
    # Running again, the same day and later, never creates a second task for the step.
    desk.run("2026-03-11")
    desk.run("2026-03-12")
    assert len(desk.task_ids()) == 2


def test_a_debtor_without_a_phone_number_is_reported_and_gets_no_task(
    tmp_path: Path, smtp_server: SMTPTestServer
) -> None:
    portfolio = CallPortfolio(tmp_path, smtp_server.port, [N4])
    portfolio.run("2026-03-04")
    summary = portfolio.run("2026-03-11")
    assert portfolio.task_ids() == []
    assert any("D3 (Nobel) has no phone number" in p for p in summary["problems"])


def test_call_show_has_contacts_invoices_history_and_figures(desk: CallPortfolio) -> None:
    bakker = next(t for t in desk.tasks() if t["debtor_id"] == "D1")
    text = desk.ok("call", "show", str(bakker["id"]), "--date", "2026-03-11")
    assert "Jan Bakker (main), +31 20 123 4567" in text
    assert "also: Els Bakker (management), 06 12345678" in text
    assert "F-1" in text and "F-2" in text and "300.00 in all" in text
    assert "step friendly-reminder by email: sent to jan@bakker.nl" in text
    assert "payment behaviour: new" in text


def task_of(portfolio: CallPortfolio, debtor: str) -> int:
    return next(t["id"] for t in portfolio.tasks() if t["debtor_id"] == debtor)


def reminders(inbox: Inbox, address: str) -> list[str]:
    """Subjects of the ladder's (not confirmation) mails to ``address`` since the last look."""
    return [m.key for m in inbox.new() if m.to == address and not m.is_confirmation]


def test_paid_records_the_payment_writes_it_back_and_stops_the_ladder(
    desk: CallPortfolio, inbox: Inbox
) -> None:
    task = task_of(desk, "D1")
    out = desk.done(task, "--outcome", "paid", "--amount", "300.00", day="2026-03-11")
    assert "payment of 100.00 recorded on invoice F-1" in out
    assert "payment of 200.00 recorded on invoice F-2" in out
    assert "written back to the source" in out
    csv_text = (desk.folder / "invoices.csv").read_text(encoding="utf-8")
    assert csv_text.count(";ja;11-03-2026;") == 2  # the CSV source's paid columns
    inbox.new()
    for day in ("2026-03-18", "2026-03-25"):
        desk.run(day)
    assert [m for m in inbox.new() if m.to == "jan@bakker.nl"] == []
    assert desk.db("select status, outcome from call_tasks where id = ?", task) == [
        ("done", "paid")
    ]


def test_a_promise_pauses_the_ladder_confirms_it_and_a_broken_one_resumes_it(
    desk: CallPortfolio, inbox: Inbox
) -> None:
    task = task_of(desk, "D1")
    inbox.new()
    out = desk.done(
        task, "--outcome", "promise", "--spoken-to", "Jan", "--on", "2026-03-20",
        day="2026-03-11",
    )  # fmt: skip
    assert "ladder paused: promise #1 until 2026-03-20 (+3 days grace)" in out
    assert "confirmation sent by email (nl)" in out
    [confirmation] = inbox.new()
    assert confirmation.is_confirmation and confirmation.to == "jan@bakker.nl"
    # The final reminder was due on 18 March; the promise holds it until 20 + 3 days.
    for day in ("2026-03-18", "2026-03-20", "2026-03-23"):
        desk.run(day)
    assert reminders(inbox, "jan@bakker.nl") == []
    summary = desk.run("2026-03-24")
    assert any("promise #1 of debtor D1 broken" in note for note in summary["notes"])
    assert desk.pauses()[0]["status"] == "broken"
    # The ladder resumes where it was: the 7 days left before the final reminder on the day
    # of the call, counted from the day the promise broke (ledger policy, docs/policy.md).
    assert reminders(inbox, "jan@bakker.nl") == []
    desk.run("2026-03-31")
    [final] = [m for m in inbox.new() if m.to == "jan@bakker.nl"]
    assert "20 maart" in final.text  # the message says the promise of 20 March was broken


def test_an_arrangement_needs_instalments_that_add_up(desk: CallPortfolio) -> None:
    task = task_of(desk, "D1")
    wrong = desk(
        "call", "done", str(task), "--outcome", "arrangement", "--spoken-to", "Jan",
        "--instalment", "2026-03-20=100", "--date", "2026-03-11",
    )  # fmt: skip
    assert wrong.returncode == 2
    assert "add up to 100.00, but 300.00 is open" in only_line(wrong.stderr)
    assert desk.db("select status from call_tasks where id = ?", task) == [("open",)]
    out = desk.done(
        task, "--outcome", "arrangement", "--spoken-to", "Jan",
        "--instalment", "2026-03-20=150", "--instalment", "2026-04-20=150",
        day="2026-03-11",
    )  # fmt: skip
    assert "ladder paused: arrangement #1 until 2026-04-20" in out
    [pause] = desk.pauses()
    assert pause["kind"] == "arrangement" and len(pause["instalments"]) == 2


def test_in_post_schedules_a_call_a_few_business_days_later_and_the_ladder_waits(
    desk: CallPortfolio, inbox: Inbox
) -> None:
    task = task_of(desk, "D1")
    out = desk.done(
        task, "--outcome", "in-post", "--spoken-to", "Jan", "--on", "2026-03-10",
        "--amount", "300", "--reference", "BETALING-77", day="2026-03-11",
    )  # fmt: skip
    # 11 March is a Wednesday: three business days later is Monday 16 March.
    assert "next call #" in out and "on 2026-03-16" in out
    follow = next(t for t in desk.tasks() if t["debtor_id"] == "D1")
    assert follow["due_on"] == "2026-03-16"
    assert "reference BETALING-77" in follow["talking_points"][0]
    assert follow["details"] == {}
    inbox.new()
    desk.run("2026-03-16")
    assert reminders(inbox, "jan@bakker.nl") == []
    assert desk.db("select details from call_tasks where id = ?", task)[0][0].count("BETALING-77")


def test_in_approval_and_callback_schedule_the_next_call_on_the_agreed_moment(
    desk: CallPortfolio,
) -> None:
    bakker, smith = task_of(desk, "D1"), task_of(desk, "D2")
    desk.done(bakker, "--outcome", "in-approval", "--spoken-to", "Jan", "--on", "2026-03-25",
              day="2026-03-11")  # fmt: skip
    desk.done(smith, "--outcome", "callback", "--spoken-to", "Anne", "--on", "2026-03-13",
              "--at", "10:30", day="2026-03-11")  # fmt: skip
    due = {t["debtor_id"]: (t["due_on"], t["due_time"]) for t in desk.tasks()}
    assert due == {"D1": ("2026-03-25", None), "D2": ("2026-03-13", "10:30")}
    bad = desk("call", "done", str(task_of(desk, "D2")), "--outcome", "callback",
               "--spoken-to", "Anne", "--on", "2026-03-14", "--date", "2026-03-13")  # fmt: skip
    assert bad.returncode == 2 and "callback needs --at HH:MM" in only_line(bad.stderr)


def test_the_second_contact_absent_goes_to_management_or_is_flagged(desk: CallPortfolio) -> None:
    for debtor, name in (("D1", "Jan"), ("D2", "Anne")):
        first = task_of(desk, debtor)
        out = desk.done(first, "--outcome", "contact-absent", "--spoken-to", name,
                        "--on", "2026-03-16", day="2026-03-11")  # fmt: skip
        assert "to " not in out.split("next call")[1]  # the first time: the payer again
        second = task_of(desk, debtor)
        out = desk.done(second, "--outcome", "contact-absent", "--spoken-to", name,
                        "--on", "2026-03-19", day="2026-03-16")  # fmt: skip
    tasks = {t["debtor_id"]: t for t in desk.tasks()}
    assert tasks["D1"]["contact"] == {
        "role": "management", "name": "Els Bakker", "phone": "+31612345678",
    }  # fmt: skip
    assert tasks["D1"]["flag"] is None
    assert tasks["D2"]["contact"]["role"] == "main"
    assert tasks["D2"]["flag"].startswith("escalate: the payer was absent 2 times")


def test_a_dispute_pauses_without_escalation_and_flags_the_task(
    desk: CallPortfolio, inbox: Inbox
) -> None:
    task = task_of(desk, "D1")
    out = desk.done(task, "--outcome", "dispute", "--spoken-to", "Jan",
                    "--note", "F-2 was never delivered", day="2026-03-11")  # fmt: skip
    assert "ladder paused: dispute #1" in out and "flagged for a person" in out
    flag = desk.db("select flag from call_tasks where id = ?", task)[0][0]
    assert flag == "dispute: a person must look into it, then `dunning resolve 1`"
    inbox.new()
    for day in ("2026-03-18", "2026-04-30"):
        desk.run(day)
    assert reminders(inbox, "jan@bakker.nl") == []


def test_no_answer_is_retried_until_the_attempts_are_used(desk: CallPortfolio) -> None:
    first = task_of(desk, "D2")
    out = desk.done(first, "--outcome", "no-answer", day="2026-03-11")
    assert "(call 2 of 2)" in desk.db("select reason from call_tasks where follows_task_id = ?",
                                      first)[0][0]  # fmt: skip
    assert "next call #" in out and "on 2026-03-12" in out
    second = task_of(desk, "D2")
    out = desk.done(second, "--outcome", "no-answer", day="2026-03-12")
    assert "no retry left (2 of 2 calls made): the ladder goes on" in out
    assert all(t["debtor_id"] != "D2" for t in desk.tasks())


def test_wrong_number_is_flagged_for_a_check(desk: CallPortfolio) -> None:
    task = task_of(desk, "D2")
    out = desk.done(task, "--outcome", "wrong-number", day="2026-03-11")
    # The default rule is one call in all: nothing is retried, a person is asked to step in.
    assert "wrong number; no retry left" in out
    [follow] = [t for t in desk.tasks() if t["debtor_id"] == "D2"]
    assert follow["due_on"] == "2026-03-12"
    assert follow["flag"].startswith("wrong number: +442079460958 does not reach the debtor")


def test_outcome_input_errors_are_one_line_and_record_nothing(desk: CallPortfolio) -> None:
    task = task_of(desk, "D1")
    cases = [
        (["--outcome", "promise", "--on", "2026-03-20"], "give the name of the person"),
        (["--outcome", "promise", "--spoken-to", "Jan"], "promise needs --on YYYY-MM-DD"),
        (["--outcome", "promise", "--spoken-to", "Jan", "--on", "2026-03-01"], "before today"),
        (["--outcome", "paid", "--amount", "999"], "more than the 300.00 open"),
        (["--outcome", "maybe"], "Invalid value for '--outcome'"),
    ]
    for args, message in cases:
        result = desk("call", "done", str(task), *args, "--date", "2026-03-11")
        assert result.returncode == 2, result.stdout
        assert message in result.stderr, result.stderr
    assert desk.db("select status from call_tasks where id = ?", task) == [("open",)]
    missing = desk("call", "done", "999", "--outcome", "no-answer")
    assert missing.returncode == 2 and "no call task #999" in only_line(missing.stderr)
    desk.done(task, "--outcome", "no-answer", day="2026-03-11")
    again = desk("call", "done", str(task), "--outcome", "no-answer", "--date", "2026-03-11")
    assert again.returncode == 2 and "is already done" in only_line(again.stderr)


def test_a_task_is_cancelled_when_everything_is_paid_before_the_call(desk: CallPortfolio) -> None:
    task = task_of(desk, "D2")
    desk.ok("mark-paid", "F-3", "--date", "2026-03-11")
    desk.run("2026-03-12")
    assert desk.db("select status, effect from call_tasks where id = ?", task) == [
        ("cancelled", "paid or closed before the call")
    ]


def test_earlier_outcomes_show_in_the_next_call(desk: CallPortfolio) -> None:
    task = task_of(desk, "D1")
    desk.done(task, "--outcome", "in-approval", "--spoken-to", "Jan de Boer",
              "--note", "waiting for the director", "--on", "2026-03-16",
              day="2026-03-11")  # fmt: skip
    follow = task_of(desk, "D1")
    text = desk.ok("call", "show", str(follow), "--date", "2026-03-16")
    assert f"call #{task}: in-approval (spoke to Jan de Boer): waiting for the director" in text


def test_status_counts_open_and_flagged_calls(desk: CallPortfolio) -> None:
    task = task_of(desk, "D2")
    desk.done(task, "--outcome", "wrong-number", day="2026-03-11")
    status = desk.json("status")
    assert status["calls"]["open"] == 2 and status["calls"]["flagged"] == 1
    assert status["handed_over"] == 0
