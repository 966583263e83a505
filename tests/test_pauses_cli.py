"""Promises, arrangements, disputes and pauses through the real CLI, confirmed over real SMTP.

Each test writes a small portfolio (Dutch CSV headers) and a pipeline that mails the test SMTP
server, then moves time with ``--date``. The ladder is friendly (3 days after due), second
(7 days later), final (7 days later), on calendar days, so the dates in the tests can be checked
by hand.
"""

from __future__ import annotations

import json
import socket
import sqlite3
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from dunning.core.cli import main
from tests.smtp_server import ReceivedMessage, SMTPTestServer, free_port

HEADER = (
    "factuurnummer;debiteurnummer;debiteur;contactpersoon;email;taal;"
    "factuurdatum;vervaldatum;bedrag"
)
JAN = "jan@bakker.nl"
ANNE = "anne@smith.co.uk"
F1 = f"F-1;D1;Bakker B.V.;Jan Bakker;{JAN};nl;01-02-2026;01-03-2026;100,00"
F2 = f"F-2;D1;Bakker B.V.;Jan Bakker;{JAN};nl;05-02-2026;05-03-2026;200,00"
F3 = f"F-3;D2;Smith Ltd;Anne Smith;{ANNE};en;01-02-2026;01-03-2026;300,00"
LADDER = """\
      - {name: friendly-reminder, after_due: 3, channel: email, template: friendly-reminder}
      - {name: second-reminder, after_previous: 7, channel: email, template: second-reminder}
      - {name: final-reminder, after_previous: 7, channel: email, template: final-reminder}
"""


@dataclass(frozen=True)
class Mail:
    """One message the SMTP server accepted, as a reader sees it."""

    to: str
    subject: str
    text: str
    key: str
    language: str

    @classmethod
    def of(cls, received: ReceivedMessage) -> Mail:
        parsed = received.parsed()
        body = parsed.get_body(("plain",))
        assert body is not None
        return cls(
            to=str(parsed["To"]),
            subject=str(parsed["Subject"]),
            text=body.get_content().replace("\xa0", " "),  # as read: € 150,00
            key=str(parsed["X-Dunning-Key"]),
            language=str(parsed["Content-Language"]),
        )

    @property
    def is_confirmation(self) -> bool:
        return ":confirm-" in self.key


@dataclass
class Outcome:
    returncode: int
    stdout: str
    stderr: str


class Portfolio:
    """A project folder (invoices.csv and pipelines.yaml mailing ``port``) and its CLI."""

    def __init__(
        self,
        folder: Path,
        port: int,
        rows: Sequence[str],
        *,
        header: str = HEADER,
        settings: str = "calendar: {business_days_only: false, quiet_channels: []}",
        ladder: str = LADDER,
    ) -> None:
        self.folder = folder
        self.header = header
        self.runner = CliRunner()
        self.write_rows(rows)
        self.config = folder / "pipelines.yaml"
        self.config.write_text(
            f"""\
pipelines:
  main:
    creditor: {{name: Test B.V., iban: NL91ABNA0417164300}}
    source: {{type: csv, path: invoices.csv}}
    {settings}
    channels:
      email:
        type: email
        delivery: smtp
        from_address: debiteuren@example.nl
        smtp: {{host: 127.0.0.1, port: {port}, security: none, timeout: 5}}
    steps:
{ladder}""",
            encoding="utf-8",
        )

    def write_rows(self, rows: Sequence[str]) -> None:
        text = "\n".join([self.header, *rows]) + "\n"
        (self.folder / "invoices.csv").write_text(text, encoding="utf-8")

    def add_rows(self, *rows: str) -> None:
        with (self.folder / "invoices.csv").open("a", encoding="utf-8") as stream:
            stream.write("\n".join(rows) + "\n")

    def __call__(self, *args: str) -> Outcome:
        """``dunning ARGS --config pipelines.yaml``; an exception other than exit is a bug."""
        result = self.runner.invoke(main, [*args, "--config", str(self.config)])
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return Outcome(result.exit_code, result.stdout, result.stderr)

    def ok(self, *args: str) -> str:
        outcome = self(*args)
        assert outcome.returncode == 0, outcome.stderr
        return outcome.stdout

    def json(self, *args: str) -> Any:
        """The command's ``--json`` output, parsed."""
        return json.loads(self.ok(*args, "--json"))

    def run(self, day: date | str) -> dict[str, Any]:
        """``dunning run --date DAY``: the run's summary."""
        [summary] = self.json("run", "--date", str(day), "--quiet")
        return summary

    def pauses(self) -> list[dict[str, Any]]:
        """``dunning pauses --all``: every pause, active or ended."""
        return self.json("pauses", "--all")


class Inbox:
    """What the SMTP server received, read in turns: :meth:`new` returns what came since."""

    def __init__(self, server: SMTPTestServer) -> None:
        self.server = server
        self.seen = 0

    def new(self) -> list[Mail]:
        received = self.server.messages[self.seen :]
        self.seen += len(received)
        return [Mail.of(m) for m in received]


def every_day(first: str, last: str) -> list[str]:
    start, end = date.fromisoformat(first), date.fromisoformat(last)
    return [(start + timedelta(days=n)).isoformat() for n in range((end - start).days + 1)]


def run_on(portfolio: Portfolio, inbox: Inbox, days: Sequence[str]) -> dict[str, list[Mail]]:
    """Run on each of ``days`` in turn; the mail each run sent, by day."""
    sent = {}
    for day in days:
        portfolio.run(day)
        sent[day] = inbox.new()
    return sent


def mail_to(address: str, sent: dict[str, list[Mail]]) -> list[tuple[str, Mail]]:
    """(day, mail) of every mail to ``address``, in order."""
    return [(day, mail) for day, mails in sent.items() for mail in mails if mail.to == address]


def only_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


@pytest.fixture
def inbox(smtp_server: SMTPTestServer) -> Inbox:
    return Inbox(smtp_server)


@pytest.fixture
def bakker(tmp_path: Path, smtp_server: SMTPTestServer) -> Portfolio:
    """Debtor D1 (Dutch) with F-1 (due 1 March) and F-2 (due 5 March); D2 (English) with F-3
    (due 1 March). Synced and reminded on 4 March: F-1 and F-3 got their friendly reminder."""
    portfolio = Portfolio(tmp_path, smtp_server.port, [F1, F2, F3])
    portfolio.run("2026-03-04")
    return portfolio


@pytest.fixture
def after_first_reminders(bakker: Portfolio, inbox: Inbox) -> Portfolio:
    assert {m.to for m in inbox.new()} == {JAN, ANNE}
    return bakker


# --- promises -------------------------------------------------------------------------------


def test_promise_is_recorded_with_who_when_why_and_confirmed_in_the_debtors_language(
    after_first_reminders: Portfolio, inbox: Inbox
):
    cli = after_first_reminders
    out = cli.ok(
        "promise", "F-1", "--until", "2026-03-20", "--by", "alice",
        "--note", "called Jan: pays on the 20th", "--date", "2026-03-05",
    )  # fmt: skip
    assert "recorded #1: promise for debtor D1 (F-1)" in out
    assert "confirmation sent by email (nl)" in out
    cli.ok("promise", "--debtor", "D2", "--until", "2026-03-25", "--date", "2026-03-06")

    first, second = cli.pauses()
    assert first["kind"] == "promise" and first["status"] == "active"
    assert first["debtor_id"] == "D1" and first["invoices"] == ["F-1"]
    assert (first["since"], first["until"]) == ("2026-03-05", "2026-03-20")
    assert first["by"] == "alice" and first["reason"] == "called Jan: pays on the 20th"
    assert first["grace_days"] == 3  # pauses.promise_grace_days' default
    assert second["debtor_id"] == "D2" and second["invoices"] == ["F-3"]

    dutch, english = inbox.new()
    assert (dutch.to, dutch.language) == (JAN, "nl")
    assert dutch.is_confirmation and "betalingstoezegging" in dutch.subject
    assert "uiterlijk 20 maart 2026" in dutch.text and "F-1" in dutch.text
    assert "F-2" not in dutch.text  # only the promised invoice
    assert (english.to, english.language) == (ANNE, "en")
    assert "promise to pay" in english.subject and "by 25 March 2026" in english.text


def test_promised_invoice_gets_no_reminder_but_the_debtors_other_invoices_do(
    after_first_reminders: Portfolio, inbox: Inbox
):
    cli = after_first_reminders
    cli.ok("promise", "F-1", "--until", "2026-03-20", "--date", "2026-03-05")
    inbox.new()
    # F-1 was due for its second and final reminder on 11 and 18 March; F-2 is not promised:
    # friendly on 8 March, second on 15 March, final on 22 March.
    sent = run_on(
        cli, inbox, ["2026-03-08", "2026-03-11", "2026-03-15", "2026-03-18", "2026-03-22"]
    )
    to_jan = mail_to(JAN, sent)
    assert [day for day, _ in to_jan] == ["2026-03-08", "2026-03-15", "2026-03-22"]
    for _, mail in to_jan:
        assert "F-2" in mail.text and "F-1" not in mail.text


def test_broken_promise_resumes_at_the_next_step_and_the_reminder_says_so(
    after_first_reminders: Portfolio, inbox: Inbox
):
    cli = after_first_reminders
    cli.write_rows([F1, F3])  # Jan owes F-1 only; its friendly reminder went out on 4 March
    cli.ok("promise", "F-1", "--until", "2026-03-20", "--date", "2026-03-05")
    inbox.new()
    # Without the promise the second reminder was due on 11 March and the final one on 18 March.
    quiet = run_on(cli, inbox, ["2026-03-11", "2026-03-18", "2026-03-20", "2026-03-23"])
    assert mail_to(JAN, quiet) == []  # 23 March: 20 March plus 3 grace days
    assert cli.pauses()[0]["status"] == "active"

    summary = cli.run("2026-03-24")
    assert summary["pauses_ended"] == 1
    [promise] = cli.pauses()
    assert (promise["status"], promise["ended_on"]) == ("broken", "2026-03-24")

    assert inbox.new() == []  # no jump to the final reminder, due long ago without the promise
    later = run_on(cli, inbox, [*every_day("2026-03-25", "2026-03-31"), "2026-04-06"])
    to_jan = mail_to(JAN, later)
    assert to_jan, "the ladder never resumed after the broken promise"
    # The ladder stood still 19 days (5 to 24 March): the second reminder, due 11 March before
    # the promise, comes on 30 March; the final one a week later.
    assert [day for day, _ in to_jan] == ["2026-03-30", "2026-04-06"]
    (_, resumed), (_, final) = to_jan
    assert "Tweede herinnering" in resumed.subject
    assert "20 maart 2026" in resumed.text and "toegezegd" in resumed.text
    assert "Laatste herinnering" in final.subject


def test_promise_paid_before_its_day_is_kept_and_nothing_is_sent(
    after_first_reminders: Portfolio, inbox: Inbox
):
    cli = after_first_reminders
    cli.ok("promise", "F-3", "--until", "2026-03-20", "--date", "2026-03-05")
    inbox.new()
    cli.ok("mark-paid", "F-3", "--date", "2026-03-10")
    cli.run("2026-03-11")
    [promise] = cli.pauses()
    assert promise["status"] == "kept"
    later = run_on(cli, inbox, ["2026-03-18", "2026-03-24", "2026-04-15"])
    assert mail_to(ANNE, later) == []


def test_a_broken_promise_is_news_not_a_warning_that_fails_strict_runs(
    after_first_reminders: Portfolio,
):
    cli = after_first_reminders
    cli.ok("promise", "F-1", "--until", "2026-03-10", "--no-confirm", "--date", "2026-03-05")
    outcome = cli("run", "--date", "2026-03-14", "--strict", "--quiet")  # 10 March + 3 grace
    assert cli.pauses()[0]["status"] == "broken"
    assert outcome.returncode == 0, outcome.stderr
    assert "warning:" not in outcome.stderr
    assert "note: promise #1 of debtor" in outcome.stderr


def test_debtor_pause_with_nothing_open_is_recorded_without_confirmation(
    after_first_reminders: Portfolio, inbox: Inbox
):
    cli = after_first_reminders
    cli.ok("mark-paid", "F-3", "--date", "2026-03-05")
    cli.run("2026-03-05")
    out = cli.ok("pause", "--debtor", "D2", "--reason", "stopped trading", "--date", "2026-03-05")
    assert "no confirmation sent: nothing of debtor D2 it covers is open" in out
    assert inbox.new() == []
    cli.add_rows(f"F-5;D2;Smith Ltd;Anne Smith;{ANNE};en;01-03-2026;05-03-2026;90,00")
    later = run_on(cli, inbox, ["2026-03-10", "2026-03-20"])
    assert mail_to(ANNE, later) == []
    assert cli.pauses()[0]["status"] == "active"


# --- arrangements ---------------------------------------------------------------------------


def test_arrangement_that_does_not_add_up_is_refused_naming_both_amounts(
    after_first_reminders: Portfolio, inbox: Inbox
):
    cli = after_first_reminders
    outcome = cli(
        "arrangement", "--debtor", "D1", "--instalment", "2026-03-10=100",
        "--instalment", "2026-03-20=100", "--date", "2026-03-05",
    )  # fmt: skip
    assert outcome.returncode == 2
    line = only_line(outcome.stderr)
    assert line.startswith("error: ") and "200.00" in line and "300.00" in line
    assert cli.pauses() == []
    assert inbox.new() == []


def test_arrangement_confirmation_lists_every_instalment(
    after_first_reminders: Portfolio, inbox: Inbox
):
    cli = after_first_reminders
    out = cli.ok(
        "arrangement", "--debtor", "D1", "--instalment", "2026-03-10=150",
        "--instalment", "2026-03-20=150,00", "--by", "bob", "--date", "2026-03-05",
    )  # fmt: skip
    assert "recorded #1: arrangement for debtor D1 (F-1, F-2)" in out
    [arrangement] = cli.pauses()
    assert arrangement["instalments"] == [
        {"due_on": "2026-03-10", "amount": "150.00"},
        {"due_on": "2026-03-20", "amount": "150.00"},
    ]
    assert arrangement["by"] == "bob"
    [mail] = inbox.new()
    assert mail.to == JAN and "betalingsregeling" in mail.subject
    lines = mail.text.splitlines()
    assert any("10 maart 2026" in line and "€ 150,00" in line for line in lines)
    assert any("20 maart 2026" in line and "€ 150,00" in line for line in lines)


def test_instalments_on_time_hold_the_ladder_and_a_missed_one_resumes_it(
    after_first_reminders: Portfolio, inbox: Inbox
):
    cli = after_first_reminders
    cli.ok(
        "arrangement", "--debtor", "D1", "--instalment", "2026-03-10=150",
        "--instalment", "2026-03-20=150", "--date", "2026-03-05",
    )  # fmt: skip
    inbox.new()
    held = run_on(cli, inbox, ["2026-03-08", "2026-03-09"])
    cli.ok("mark-paid", "F-1", "--date", "2026-03-10")
    cli.ok("mark-paid", "F-2", "--amount", "50", "--date", "2026-03-10")
    # The first instalment is in; without the arrangement both invoices were due on 11, 15
    # and 18 March. 23 March is the second instalment's day plus 3 grace days.
    held |= run_on(cli, inbox, ["2026-03-11", "2026-03-15", "2026-03-18", "2026-03-23"])
    assert mail_to(JAN, held) == []
    assert cli.pauses()[0]["status"] == "active"

    resumed = run_on(cli, inbox, every_day("2026-03-24", "2026-03-31"))
    assert cli.pauses()[0]["status"] == "broken"
    to_jan = mail_to(JAN, resumed)
    assert to_jan, "the ladder never resumed after the missed instalment"
    _, first = to_jan[0]
    # F-2 never had a reminder: its ladder starts at the first step, not at a caught-up one.
    assert first.subject.startswith("Herinnering:")
    assert "F-2" in first.text and "F-1" not in first.text  # F-1 is paid
    assert "betalingsregeling" in first.text
    assert "€ 150,00" in first.text and "20 maart 2026" in first.text  # the missed instalment


# --- disputes -------------------------------------------------------------------------------


def test_disputed_invoice_gets_no_automatic_message_until_resolved(
    after_first_reminders: Portfolio, inbox: Inbox
):
    cli = after_first_reminders
    out = cli.ok("dispute", "F-3", "--reason", "goods arrived damaged", "--date", "2026-03-05")
    assert "recorded #1: dispute for debtor D2 (F-3)" in out
    [confirmation] = inbox.new()
    assert confirmation.to == ANNE and "objection" in confirmation.subject
    for day in ("2026-03-11", "2026-03-18", "2026-04-15", "2026-06-01"):
        cli.run(day)
        assert [m.to for m in inbox.new()] in ([], [JAN])
    assert cli.pauses()[0]["status"] == "active"

    out = cli.ok("resolve", "1", "--reason", "replacement sent", "--date", "2026-06-02")
    assert "resolved #1" in out
    [resolved] = inbox.new()
    assert resolved.to == ANNE and "resolved" in resolved.subject
    assert cli.pauses()[0]["status"] == "resolved"

    later = run_on(cli, inbox, every_day("2026-06-02", "2026-06-09"))
    to_anne = mail_to(ANNE, later)
    assert to_anne, "the ladder never resumed after the dispute was resolved"
    _, resumed = to_anne[0]
    assert "Second reminder" in resumed.subject  # where the ladder stood, not the last step


def test_lift_refuses_a_dispute_and_resolve_refuses_a_promise(
    after_first_reminders: Portfolio, inbox: Inbox
):
    cli = after_first_reminders
    cli.ok("dispute", "F-3", "--reason", "wrong price", "--date", "2026-03-05")
    cli.ok("promise", "F-1", "--until", "2026-03-20", "--date", "2026-03-05")
    inbox.new()
    lifted = cli("lift", "1", "--date", "2026-03-06")
    assert lifted.returncode == 2
    assert "dunning resolve" in only_line(lifted.stderr)
    resolved = cli("resolve", "2", "--reason", "paid?", "--date", "2026-03-06")
    assert resolved.returncode == 2
    assert "dunning lift" in only_line(resolved.stderr)
    assert [p["status"] for p in cli.pauses()] == ["active", "active"]
    assert inbox.new() == []


# --- manual pauses --------------------------------------------------------------------------


def test_debtor_pause_covers_invoices_synced_later_until_lifted(
    after_first_reminders: Portfolio, inbox: Inbox
):
    cli = after_first_reminders
    out = cli.ok(
        "pause", "--debtor", "D1", "--reason", "owner in hospital", "--by", "carol",
        "--date", "2026-03-05",
    )  # fmt: skip
    assert "(every invoice)" in out
    [confirmation] = inbox.new()
    assert confirmation.to == JAN and "gepauzeerd" in confirmation.subject
    cli.add_rows(f"F-4;D1;Bakker B.V.;Jan Bakker;{JAN};nl;01-03-2026;06-03-2026;50,00")
    paused = run_on(
        cli, inbox, ["2026-03-08", "2026-03-11", "2026-03-15", "2026-03-18", "2026-03-31"]
    )
    assert mail_to(JAN, paused) == []
    [pause] = cli.pauses()
    assert (pause["status"], pause["invoices"], pause["by"]) == ("active", "all", "carol")

    out = cli.ok("lift", "1", "--reason", "back at work", "--date", "2026-04-01")
    assert "lifted #1" in out
    [ended] = inbox.new()
    assert ended.to == JAN and ended.is_confirmation
    assert cli.pauses()[0]["status"] == "lifted"
    resumed = run_on(cli, inbox, ["2026-04-10"])
    [(_, reminder)] = mail_to(JAN, resumed)
    assert "F-1" in reminder.text and "F-2" in reminder.text and "F-4" in reminder.text


def test_pause_until_a_day_without_confirmation_ends_by_itself(
    after_first_reminders: Portfolio, inbox: Inbox
):
    cli = after_first_reminders
    out = cli.ok(
        "pause", "F-3", "--reason", "on holiday", "--until", "2026-03-20", "--no-confirm",
        "--date", "2026-03-05",
    )  # fmt: skip
    assert "no confirmation sent" in out
    assert inbox.new() == []
    quiet = run_on(cli, inbox, ["2026-03-11", "2026-03-18", "2026-03-20"])
    assert mail_to(ANNE, quiet) == []
    later = run_on(cli, inbox, every_day("2026-03-21", "2026-03-28"))
    [pause] = cli.pauses()
    assert (pause["status"], pause["ended_on"]) == ("lifted", "2026-03-21")
    to_anne = mail_to(ANNE, later)
    assert to_anne, "the ladder never resumed after the pause's last day"
    assert "Second reminder" in to_anne[0][1].subject


# --- mistakes -------------------------------------------------------------------------------

INSTALMENT = ["arrangement", "F-3", "--instalment"]
MISTAKES = {
    "unknown invoice": (["promise", "F-99", "--until", "2026-03-20"], "invoice F-99"),
    "unknown debtor": (["pause", "--debtor", "D9", "--reason", "x"], "debtor D9"),
    "neither invoice nor debtor": (["dispute", "--reason", "x"], "--debtor"),
    "both invoice and debtor": (["pause", "F-1", "--debtor", "D1", "--reason", "x"], "--debtor"),
    "instalment without '='": ([*INSTALMENT, "2026-04-01:300"], "=AMOUNT"),
    "instalment with a Dutch date": ([*INSTALMENT, "1-4-2026=300"], "=AMOUNT"),
    "instalment of no amount": ([*INSTALMENT, "2026-04-01=nan"], "amount"),
    "instalment in tenths of cents": (
        [*INSTALMENT, "2026-04-01=299.999", "--instalment", "2026-04-02=0.001"],
        "299.999",
    ),
    "promise in the past": (["promise", "F-1", "--until", "2026-03-01"], "2026-03-01"),
    "pause until a past day": (["pause", "F-1", "--reason", "x", "--until", "2026-03-04"], "03-04"),
    "promise on a paid invoice": (["promise", "F-0", "--until", "2026-03-20"], "nothing open"),
}


@pytest.mark.parametrize("args, named", MISTAKES.values(), ids=MISTAKES.keys())
def test_mistake_exits_2_with_one_error_line_and_records_nothing(
    tmp_path: Path, smtp_server: SMTPTestServer, inbox: Inbox, args: list[str], named: str
):
    paid = f"F-0;D1;Bakker B.V.;Jan Bakker;{JAN};nl;01-01-2026;15-01-2026;80,00;ja;14-01-2026"
    cli = Portfolio(
        tmp_path, smtp_server.port, [paid, *(f"{row};;" for row in (F1, F2, F3))],
        header=f"{HEADER};betaald;betaaldatum",
    )  # fmt: skip
    cli.run("2026-03-04")
    inbox.new()
    outcome = cli(*args, "--date", "2026-03-05")
    assert outcome.returncode == 2, outcome.stdout
    line = only_line(outcome.stderr)
    assert line.startswith("error: ") and named in line
    assert "Traceback" not in outcome.stderr
    assert cli.pauses() == []
    assert inbox.new() == []


# --- the mail server is down ----------------------------------------------------------------


def test_confirmation_that_cannot_be_sent_leaves_the_pause_recorded_and_exits_1(tmp_path: Path):
    port = free_port()
    cli = Portfolio(tmp_path, port, [F1])
    cli.run("2026-03-02")  # nothing due yet, so nothing to send
    outcome = cli("promise", "F-1", "--until", "2026-03-20", "--date", "2026-03-05")
    assert outcome.returncode == 1
    assert "recorded #1: promise for debtor D1 (F-1)" in outcome.stdout
    assert "confirmation not sent" in outcome.stderr
    [promise] = cli.pauses()
    assert (promise["kind"], promise["status"]) == ("promise", "active")

    [day] = cli.json("simulate", "--days", "1", "--date", "2026-03-06")
    assert day["messages"] == [{"channel": "email", "step": "confirm-promise", "count": 1}]
    with SMTPTestServer(port) as server:
        summary = cli.run("2026-03-06")
        [confirmation] = [Mail.of(m) for m in server.wait_for(1)]
    assert summary["sent"] == 1  # the next run delivers it
    assert confirmation.to == JAN and confirmation.is_confirmation


def test_pause_after_a_crashed_run_marks_what_it_was_sending_uncertain(
    after_first_reminders: Portfolio, inbox: Inbox
):
    cli = after_first_reminders
    gone = subprocess.Popen(["true"])
    gone.wait()  # its process id now names no live process: a run that died mid-send
    with sqlite3.connect(cli.folder / "dunning.db") as ledger:
        crashed = ledger.execute(
            "insert into runs (pipeline, as_of, started_at, status, process) "
            "values ('main', '2026-03-05', '2026-03-05 08:00:00', 'running', ?)",
            (f"{socket.gethostname()}:{gone.pid}:",),
        ).lastrowid
        ledger.execute(
            "update messages set state = 'sending', run_id = ? where debtor_id = 'D2'", (crashed,)
        )
    outcome = cli("promise", "F-1", "--until", "2026-03-20", "--date", "2026-03-05")
    assert outcome.returncode == 1
    assert "marked uncertain" in outcome.stderr
    status = cli.json("status")
    assert status["messages"]["sending"] == 0
    assert [m["debtor_id"] for m in status["uncertain"]] == ["D2"]
    assert cli.pauses()[0]["status"] == "active"
