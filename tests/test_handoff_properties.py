"""No debtor is contacted about an invoice after it was handed over (Hypothesis).

Each example writes a random ladder (email, call and agency steps in any order, the agency step
anywhere, steps after it included), a random portfolio and random payments, and runs the real
pipeline (CSV source, email to files, call tasks, agency to a folder) on random days. Then the
ledger must show that nothing about a handed-over invoice was sent, planned or called after the
handoff, in any run, by any kind of message.
"""

from __future__ import annotations

import sqlite3
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from dunning.core.config import load_config
from dunning.core.ledger import Ledger
from dunning.core.runner import run_pipeline

START = date(2026, 3, 2)
HORIZON = 60
HEADER = (
    "factuurnummer;debiteurnummer;debiteur;email;telefoon;soort;factuurdatum;vervaldatum;bedrag"
)

CHANNELS = """\
      email: {type: email, delivery: file, folder: mail, from_address: a@example.nl}
      phone: {type: call}
      agency: {type: agency, delivery: folder, folder: agency}
"""


@st.composite
def ladders(draw: st.DrawFn) -> list[tuple[str, int]]:
    """(channel, delay) per step; the first delay is days after due, the rest after previous."""
    count = draw(st.integers(2, 5))
    channels = draw(st.lists(st.sampled_from(["email", "phone"]), min_size=count - 1,
                             max_size=count - 1))  # fmt: skip
    channels.insert(draw(st.integers(0, count - 1)), "agency")
    return [(channel, draw(st.integers(0 if n == 0 else 1, 9))) for n, channel in
            enumerate(channels)]  # fmt: skip


@st.composite
def portfolios(draw: st.DrawFn) -> list[tuple[str, str, int, int]]:
    """(invoice, debtor, due day offset, amount) rows."""
    rows = []
    for n in range(draw(st.integers(1, 6))):
        debtor = f"D{draw(st.integers(0, 2))}"
        rows.append((f"F-{n}", debtor, draw(st.integers(-20, 20)), draw(st.integers(10, 900))))
    return rows


def write_project(
    folder: Path, ladder: list[tuple[str, int]], rows: list[tuple[str, str, int, int]]
) -> None:
    steps = []
    for n, (channel, delay) in enumerate(ladder):
        when = f"after_due: {delay}" if n == 0 else f"after_previous: {delay}"
        template = {"email": "friendly-reminder", "phone": "phone-call", "agency": "dossier"}
        steps.append(f"      - {{name: s{n}, {when}, channel: {channel}, "
                     f"template: {template[channel]}}}")  # fmt: skip
    (folder / "pipelines.yaml").write_text(
        "pipelines:\n  main:\n"
        "    creditor: {name: Test B.V., iban: NL91ABNA0417164300}\n"
        "    source: {type: csv, path: invoices.csv}\n"
        "    calendar: {business_days_only: false, quiet_channels: [], send_window: always}\n"
        "    thank_you: {channel: email, segment: [new, punctual, late-but-reliable, risky]}\n"
        f"    channels:\n{CHANNELS}    steps:\n" + "\n".join(steps) + "\n",
        encoding="utf-8",
    )
    write_rows(folder, rows, paid=set())


def write_rows(folder: Path, rows: list[tuple[str, str, int, int]], paid: set[str]) -> None:
    lines = [HEADER + ";betaald"]
    for number, debtor, due, amount in rows:
        due_day = START + timedelta(days=due)
        issue = due_day - timedelta(days=30)
        lines.append(
            f"{number};{debtor};Debtor {debtor};{debtor.lower()}@example.nl;020 123 4567;"
            f"{'particulier' if debtor == 'D2' else 'zakelijk'};{issue:%d-%m-%Y};"
            f"{due_day:%d-%m-%Y};{amount},00;{'ja' if number in paid else ''}"
        )
    (folder / "invoices.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    ladder=ladders(),
    rows=portfolios(),
    days=st.lists(st.integers(0, HORIZON), min_size=3, max_size=14, unique=True).map(sorted),
    payments=st.dictionaries(st.integers(0, 5), st.integers(0, HORIZON), max_size=3),
)
def test_nothing_about_a_handed_over_invoice_goes_out_after_the_handoff(
    ladder: list[tuple[str, int]],
    rows: list[tuple[str, str, int, int]],
    days: list[int],
    payments: dict[int, int],
) -> None:
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        write_project(folder, ladder, rows)
        config = load_config(folder / "pipelines.yaml")
        pipeline = config.pipeline("main")
        ledger = Ledger.open(f"sqlite:///{folder / 'dunning.db'}")
        try:
            for offset in days:
                today = START + timedelta(days=offset)
                paid = {f"F-{n}" for n, day in payments.items() if day <= offset}
                write_rows(folder, rows, paid)
                noon = datetime(today.year, today.month, today.day, 11, tzinfo=UTC)
                run_pipeline(config, pipeline, ledger, today, retry_wait=0, now=noon)
        finally:
            ledger.close()
        check_ledger(folder / "dunning.db")


def check_ledger(path: Path) -> None:
    with sqlite3.connect(path) as db:
        handed = {
            number: date.fromisoformat(day)
            for number, day in db.execute(
                "select number, handed_over_on from invoices where handed_over_on is not null"
            )
        }
        # Every message about an invoice (items not dropped before sending), with the day it
        # was planned and the day of the run that sent it.
        rows = db.execute(
            "select mi.invoice_number, m.kind, m.channel, m.planned_for, m.state, r.as_of "
            "from message_items mi join messages m on m.id = mi.message_id "
            "left join runs r on r.id = m.run_id "
            "where mi.cancelled_reason is null and m.state != 'cancelled'"
        ).fetchall()
        event(f"invoices handed over: {min(len(handed), 2)}{'+' if len(handed) > 1 else ''}")
        for number, kind, channel, planned, state, sent_run_day in rows:
            if number not in handed or kind == "agency-update":
                continue
            day = handed[number]
            planned_on = date.fromisoformat(planned)
            if channel == "agency":
                assert planned_on == day, (number, planned_on, day)
                continue
            assert planned_on < day, f"{kind} {channel} about {number} planned {planned_on}"
            if state == "sent" and sent_run_day is not None:
                assert date.fromisoformat(sent_run_day) <= day, (number, state, sent_run_day)
        for task_id, numbers, status, due in db.execute(
            "select id, invoice_numbers, status, due_on from call_tasks"
        ):
            covered = [n for n in numbers.split() if n in handed]
            if covered and len(covered) == len(numbers.split()):
                # a call about handed-over invoices only: created before and never worked after
                assert date.fromisoformat(due) <= max(handed[n] for n in covered), task_id
                assert status in ("cancelled", "done"), (task_id, status)
