"""Policy commands through the real CLI: debtors, simulate, plan --diff, send windows, check.

Portfolios are small CSVs written here (Dutch headers), mailed to the test SMTP server; see
``tests/test_pauses_cli.py`` for the helpers.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import dunning_command
from tests.smtp_server import SMTPTestServer
from tests.test_pauses_cli import HEADER, LADDER, Inbox, Portfolio, every_day, only_line

PAID_HEADER = f"{HEADER};betaald;betaaldatum"


def row(number: str, debtor: str, issued: str, due: str, amount: str, paid_on: str = "") -> str:
    """A CSV row of ``debtor`` (its name and address derived from the id); paid when
    ``paid_on`` is given."""
    paid = f"ja;{paid_on}" if paid_on else ";"
    return (
        f"{number};{debtor};{debtor.title()} B.V.;Contact {debtor};{debtor.lower()}@example.nl;nl;"
        f"{issued};{due};{amount};{paid}"
    )


HISTORY = [
    # Punctual: three paid on or before the due date.
    row("P-1", "PUNCTUAL", "01-01-2026", "15-01-2026", "100,00", "14-01-2026"),
    row("P-2", "PUNCTUAL", "01-02-2026", "15-02-2026", "100,00", "15-02-2026"),
    row("P-3", "PUNCTUAL", "01-03-2026", "15-03-2026", "100,00", "10-03-2026"),
    # Late but reliable: 10, 5 and 0 days late.
    row("L-1", "LATE", "01-01-2026", "15-01-2026", "100,00", "25-01-2026"),
    row("L-2", "LATE", "01-02-2026", "15-02-2026", "100,00", "20-02-2026"),
    row("L-3", "LATE", "01-03-2026", "15-03-2026", "100,00", "15-03-2026"),
    # Risky: 60, 40 and 0 days late (33.33 on average).
    row("R-1", "RISKY", "01-10-2025", "15-10-2025", "100,00", "14-12-2025"),
    row("R-2", "RISKY", "01-11-2025", "15-11-2025", "100,00", "25-12-2025"),
    row("R-3", "RISKY", "01-12-2025", "15-12-2025", "100,00", "15-12-2025"),
    # New: nothing paid yet, one invoice open.
    row("N-1", "NEW", "01-03-2026", "10-03-2026", "250,00"),
]


@pytest.fixture
def inbox(smtp_server: SMTPTestServer) -> Inbox:
    return Inbox(smtp_server)


def by_debtor(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["debtor_id"]: r for r in rows}


# --- debtors --------------------------------------------------------------------------------


def test_debtors_shows_payment_figures_and_segment_from_the_paid_history(
    tmp_path: Path, smtp_server: SMTPTestServer
):
    cli = Portfolio(tmp_path, smtp_server.port, HISTORY, header=PAID_HEADER)
    cli.run("2026-03-16")
    found = by_debtor(cli.json("debtors"))
    figures = {
        debtor: (
            r["paid_invoices"], r["avg_days_late"], r["on_time_share"], r["broken_promises"],
            r["open_invoices"], r["segment"],
        )
        for debtor, r in found.items()
    }  # fmt: skip
    assert figures == {
        "PUNCTUAL": (3, "0.00", "1.00", 0, 0, "punctual"),
        "LATE": (3, "5.00", "0.33", 0, 0, "late-but-reliable"),
        "RISKY": (3, "33.33", "0.33", 0, 0, "risky"),
        "NEW": (0, "0.00", "0.00", 0, 1, "new"),
    }
    assert found["LATE"]["name"] == "Late B.V."
    risky = cli.json("debtors", "--segment", "risky")
    assert [r["debtor_id"] for r in risky] == ["RISKY"]


def test_a_broken_promise_counts_and_can_make_a_debtor_risky(
    tmp_path: Path, smtp_server: SMTPTestServer
):
    cli = Portfolio(
        tmp_path, smtp_server.port, HISTORY, header=PAID_HEADER,
        settings="calendar: {business_days_only: false, quiet_channels: []}\n"
        "    segments: {risky_min_broken_promises: 1}",
    )  # fmt: skip
    cli.run("2026-03-16")
    cli.ok("promise", "N-1", "--until", "2026-03-18", "--no-confirm", "--date", "2026-03-16")
    new = by_debtor(cli.json("debtors"))["NEW"]
    assert (new["paused"], new["broken_promises"], new["segment"]) == (True, 0, "new")

    cli.run("2026-03-22")  # 18 March plus 3 grace days have passed: the promise is broken
    new = by_debtor(cli.json("debtors"))["NEW"]
    assert (new["paused"], new["broken_promises"], new["segment"]) == (False, 1, "risky")
    risky = cli.json("debtors", "--segment", "risky")
    assert sorted(r["debtor_id"] for r in risky) == ["NEW", "RISKY"]


# --- simulate -------------------------------------------------------------------------------

SMALL = [
    row("A-1", "ALFA", "01-02-2026", "02-03-2026", "120,00"),
    row("A-2", "ALFA", "10-02-2026", "12-03-2026", "80,00"),
    row("B-1", "BRAVO", "15-02-2026", "20-03-2026", "500,00"),
    row("C-1", "CHARLIE", "01-02-2026", "27-02-2026", "60,00"),
    # Punctual, paid on 14 March (on time), thanked on the next business day; P-4 falls due later
    # (a debtor with an overdue invoice open is never thanked).
    row("P-1", "PUNCTUAL", "01-01-2026", "15-01-2026", "100,00", "14-01-2026"),
    row("P-2", "PUNCTUAL", "01-02-2026", "15-02-2026", "100,00", "15-02-2026"),
    row("P-3", "PUNCTUAL", "01-03-2026", "15-03-2026", "100,00", "14-03-2026"),
    row("P-4", "PUNCTUAL", "01-03-2026", "25-03-2026", "40,00"),
]
BUSY_SETTINGS = """\
calendar: {country: NL, business_days_only: true}
    contact: {min_days_between: 3}
    thank_you: {channel: email}
    segments: {risky_min_broken_promises: 1}"""
RISKY_FINAL = LADDER.replace(
    "template: final-reminder}", "template: final-reminder, when: {segment: risky}}"
)


@pytest.fixture
def small(tmp_path: Path, smtp_server: SMTPTestServer, inbox: Inbox) -> Portfolio:
    """Four debtors on business days with a contact gap and thank-you notes, run on 13 March;
    CHARLIE promised to pay by 18 March. The promise breaks on 22 March, which makes CHARLIE
    risky, and only risky debtors get the final reminder."""
    cli = Portfolio(
        tmp_path, smtp_server.port, SMALL, header=PAID_HEADER, settings=BUSY_SETTINGS,
        ladder=RISKY_FINAL,
    )  # fmt: skip
    cli.run("2026-03-13")
    cli.ok("promise", "C-1", "--until", "2026-03-18", "--date", "2026-03-13")
    inbox.new()
    return cli


def test_simulate_sends_and_records_nothing(small: Portfolio, inbox: Inbox):
    status = small.json("status")
    days = small.json("simulate", "--days", "30", "--date", "2026-03-16")
    assert sum(d["total"] for d in days) > 0
    assert small.json("status") == status
    assert small.pauses()[0]["status"] == "active"
    assert inbox.new() == []


def test_simulate_marks_weekends_and_holidays_closed_and_moves_steps_past_them(
    tmp_path: Path, smtp_server: SMTPTestServer
):
    # Due 31 March: the friendly reminder falls on Good Friday, then Easter comes.
    rows = [row("E-1", "ECHO", "01-03-2026", "31-03-2026", "75,00")]
    cli = Portfolio(tmp_path, smtp_server.port, rows, header=PAID_HEADER, settings="")
    cli.run("2026-03-30")
    days = cli.json("simulate", "--days", "9", "--date", "2026-03-31")
    closed = {d["date"]: d["closed"] for d in days}
    assert closed == {
        "2026-03-31": None,
        "2026-04-01": None,
        "2026-04-02": None,
        "2026-04-03": "Good Friday (public holiday, NL)",
        "2026-04-04": "Saturday",
        "2026-04-05": "Easter Sunday (public holiday, NL)",
        "2026-04-06": "Easter Monday (public holiday, NL)",
        "2026-04-07": None,
        "2026-04-08": None,
    }
    sent = {d["date"]: d["messages"] for d in days if d["total"]}
    assert sent == {"2026-04-07": [{"channel": "email", "step": "friendly-reminder", "count": 1}]}


def test_simulated_days_equal_what_daily_runs_send_without_payments(small: Portfolio, inbox: Inbox):
    simulated = small.json("simulate", "--days", "30", "--date", "2026-03-14")
    expected = {d["date"]: {m["step"]: m["count"] for m in d["messages"]} for d in simulated}
    actual = {}
    for day in every_day("2026-03-14", "2026-04-12"):
        summary = small.run(day)
        assert summary["failed"] == 0
        actual[day] = summary["sent_per_step"]
    assert actual == expected
    assert len(inbox.new()) == sum(sum(steps.values()) for steps in expected.values())
    assert {"thank-you", "friendly-reminder", "second-reminder", "final-reminder"} <= {
        step for steps in expected.values() for step in steps
    }


# --- plan --diff ----------------------------------------------------------------------------

DIFF_ROWS = [
    row("F-1", "ALFA", "01-02-2026", "01-03-2026", "100,00"),
    row("F-3", "BRAVO", "01-02-2026", "01-03-2026", "300,00"),
    row("F-6", "CHARLIE", "01-02-2026", "10-03-2026", "60,00"),
]
NEW_LADDER = """\
      - {name: friendly-reminder, after_due: 3, channel: email, template: friendly-reminder}
      - {name: firm-reminder, after_previous: 10, channel: email, template: second-reminder}
      - {name: final-reminder, after_previous: 7, channel: email, template: final-reminder}
"""


def test_plan_diff_shows_what_a_changed_ladder_does_and_runs_follow_it(
    tmp_path: Path, smtp_server: SMTPTestServer, inbox: Inbox
):
    cli = Portfolio(tmp_path, smtp_server.port, DIFF_ROWS, header=PAID_HEADER)
    cli.run("2026-03-04")  # F-1, F-3: friendly
    cli.run("2026-03-11")  # F-1, F-3: second
    cli.run("2026-03-13")  # F-6: friendly
    inbox.new()
    unchanged = cli.ok("plan", "--diff", "--date", "2026-03-14")
    assert "nothing changes for open cases" in " ".join(unchanged.split())
    [same] = cli.json("plan", "--diff", "--date", "2026-03-14")
    assert (same["changed"], same["removed_steps"], same["added_steps"], same["cases"]) == (
        False, [], [], []
    )  # fmt: skip

    # The second reminder goes; a firm reminder 10 days after the friendly one comes in.
    cli.config.write_text(cli.config.read_text().replace(LADDER, NEW_LADDER))
    [diff] = cli.json("plan", "--diff", "--date", "2026-03-14")
    assert diff["changed"] is True
    assert (diff["removed_steps"], diff["added_steps"]) == (["second-reminder"], ["firm-reminder"])
    assert diff["open_cases"] == 3
    # F-1 and F-3 had the removed step: they go on to the final reminder, on the same day as
    # before. F-6 was heading for the removed step: it gets the new one instead.
    assert diff["cases"] == [
        {
            "invoice": "F-6",
            "debtor_id": "CHARLIE",
            "last_step": "friendly-reminder",
            "before": "second-reminder on 2026-03-20",
            "after": "firm-reminder on 2026-03-23",
        }
    ]
    text = " ".join(cli.ok("plan", "--diff", "--date", "2026-03-14").split())
    assert "removed steps: second-reminder" in text and "new steps: firm-reminder" in text

    sent: list[tuple[str, str, str]] = []
    for day in every_day("2026-03-14", "2026-04-05"):
        cli.run(day)
        sent += [(day, m.to.split("@")[0], m.subject.split(":")[0]) for m in inbox.new()]
    assert sent == [
        ("2026-03-18", "alfa", "Laatste herinnering"),
        ("2026-03-18", "bravo", "Laatste herinnering"),
        ("2026-03-23", "charlie", "Tweede herinnering"),  # firm-reminder, second's template
        ("2026-03-30", "charlie", "Laatste herinnering"),
    ]
    steps = {s for (s,) in _sent_steps(tmp_path, "2026-03-14")}
    assert steps == {"final-reminder", "firm-reminder"}  # never the removed step again
    after = " ".join(cli.ok("plan", "--diff", "--date", "2026-04-05").split())
    assert "nothing changes for open cases" in after


def test_plan_diff_days_fall_on_business_days_and_wait_while_a_pause_holds(
    tmp_path: Path, smtp_server: SMTPTestServer
):
    rows = [
        row("F-1", "ALFA", "01-02-2026", "02-03-2026", "100,00"),
        row("F-3", "BRAVO", "01-02-2026", "02-03-2026", "300,00"),
    ]
    cli = Portfolio(tmp_path, smtp_server.port, rows, header=PAID_HEADER, settings="")
    cli.run("2026-03-05")  # Thursday: both get the friendly reminder
    cli.ok("promise", "F-3", "--until", "2026-03-20", "--no-confirm", "--date", "2026-03-06")
    slower = LADDER.replace(
        "name: second-reminder, after_previous: 7", "name: firm, after_previous: 9"
    )
    cli.config.write_text(cli.config.read_text().replace(LADDER, slower))
    [diff] = cli.json("plan", "--diff", "--date", "2026-03-06")
    assert [(c["invoice"], c["before"], c["after"]) for c in diff["cases"]] == [
        # 5 March + 9 days is Saturday 14 March: the firm reminder goes out on Monday.
        ("F-1", "second-reminder on 2026-03-12", "firm on 2026-03-16"),
        ("F-3", "second-reminder once the pause ends", "firm once the pause ends"),
    ]


def _sent_steps(folder: Path, since: str) -> list[tuple[str]]:
    with sqlite3.connect(folder / "dunning.db") as ledger:
        return ledger.execute(
            "select step from message_items where message_id in "
            "(select id from messages where planned_for >= ?)",
            (since,),
        ).fetchall()


# --- send window ----------------------------------------------------------------------------

WINDOW_HEADER = f"{HEADER};tijdzone"
WINDOW_ROWS = [
    "F-1;AMS;Bakker B.V.;Jan Bakker;jan@bakker.nl;nl;01-02-2026;01-03-2026;100,00;Europe/Amsterdam",
    "F-3;NYC;Smith Inc;Anne Smith;anne@smith.com;en;01-02-2026;01-03-2026;300,00;America/New_York",
]


@pytest.mark.parametrize(
    "now, planned, waiting, local",
    [
        ("2026-03-16T21:30+01:00", "NYC", "AMS", "21:30 in Europe/Amsterdam"),
        ("2026-03-16T10:30+01:00", "AMS", "NYC", "05:30 in America/New_York"),
    ],
)
def test_send_window_plans_only_debtors_inside_it_in_their_own_time_zone(
    tmp_path: Path, smtp_server: SMTPTestServer, now: str, planned: str, waiting: str, local: str
):
    settings = 'calendar: {business_days_only: false, send_window: "08:00-20:00"}'
    cli = Portfolio(
        tmp_path, smtp_server.port, WINDOW_ROWS, header=WINDOW_HEADER, settings=settings
    )
    cli.run("2026-03-02")
    rows = cli.json("plan", "--now", now)
    assert [(r["debtor_id"], r["date"]) for r in rows] == [(planned, "2026-03-16")]

    verbose = subprocess.run(
        dunning_command("plan", "--now", now, "--verbose", "--config", str(cli.config)),
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "250"},
    )
    assert verbose.returncode == 0, verbose.stderr
    [reason] = [line for line in verbose.stdout.splitlines() if f" {waiting} " in line]
    assert "waits: outside the send window 08:00-20:00" in reason
    assert f"(local time {local})" in reason


# --- check ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "replace, with_, marker, key",
    [
        (
            "template: second-reminder}",
            "template: second-reminder, variants: {humorous: second-reminder-silly}}",
            "second-reminder-silly",
            "pipelines.main.steps[1].variants.humorous: ",
        ),
        (
            "    steps:\n",
            "    thank_you: {channel: email, template: thanks-a-lot}\n    steps:\n",
            "thanks-a-lot",
            "pipelines.main.thank_you.template: ",
        ),
        (
            "    steps:\n",
            "    thank_you: {channel: sms}\n    steps:\n",
            "sms",
            "pipelines.main.thank_you.channel: no channel named 'sms'",
        ),
    ],
    ids=["variant template missing", "thank-you template missing", "thank-you channel unknown"],
)
def test_check_names_the_file_and_line_of_a_bad_template_or_channel(
    tmp_path: Path, smtp_server: SMTPTestServer, replace: str, with_: str, marker: str, key: str
):
    cli = Portfolio(tmp_path, smtp_server.port, DIFF_ROWS, header=PAID_HEADER)
    assert cli("check").returncode == 0
    text = cli.config.read_text()
    assert replace in text
    cli.config.write_text(text.replace(replace, with_, 1))
    line_number = next(
        n for n, line in enumerate(cli.config.read_text().splitlines(), 1) if marker in line
    )
    outcome = cli("check")
    assert outcome.returncode == 2
    line = only_line(outcome.stderr)
    assert line.startswith(f"error: pipelines.yaml:{line_number}: {key}")
    assert marker in line
