"""The ledger on a real SQLite file: migrations, WAL, the outbox's guards, the run lock."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import update

from dunning.core.errors import LedgerError, RunInProgressError
from dunning.core.ledger import Ledger
from dunning.core.ledger.runs import this_process
from dunning.core.ledger.schema import runs
from dunning.core.models import (
    Debtor,
    Invoice,
    MessageState,
    Payment,
    PlannedItem,
    PlannedMessage,
    Receipt,
)

TODAY = date(2026, 11, 23)


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Ledger]:
    """The ledger on each backend: a SQLite file, and a database on the test PostgreSQL."""
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres_url")
    else:
        url = f"sqlite:///{tmp_path / 'ledger.db'}"
    opened = Ledger.open(url)
    yield opened
    opened.close()


def planned(number: str = "F1", step: str = "friendly", day: date = TODAY) -> PlannedMessage:
    inv = Invoice(number, "D1", date(2026, 10, 1), date(2026, 10, 31), Decimal(100), Decimal(100))
    return PlannedMessage(
        "p", Debtor("D1", "Jansen"), "email", step, step, day, (PlannedItem(inv, step, 0, "due"),)
    )


def test_open_creates_schema_in_wal_mode_and_is_idempotent(tmp_path: Path):
    path = tmp_path / "ledger.db"
    Ledger.open(f"sqlite:///{path}").close()
    Ledger.open(f"sqlite:///{path}").close()
    with sqlite3.connect(path) as raw:
        tables = {r[0] for r in raw.execute("select name from sqlite_master where type='table'")}
        mode = raw.execute("pragma journal_mode").fetchone()[0]
        revision = raw.execute("select version_num from alembic_version").fetchall()
    assert {
        "debtors",
        "invoices",
        "messages",
        "message_items",
        "receipts",
        "payments",
        "runs",
        "sync_cursors",
        "pauses",
        "instalments",
        "ladders",
        "legal_letters",
        "call_tasks",
        "handoffs",
        "agency_reports",
    } <= tables
    assert mode == "wal"
    assert revision == [("0011",)]


def test_missing_folder_is_a_clear_error(tmp_path: Path):
    with pytest.raises(LedgerError, match=r"ledger folder .* does not exist"):
        Ledger.open(f"sqlite:///{tmp_path / 'nope' / 'ledger.db'}")


def test_not_a_database_is_a_clear_error(tmp_path: Path):
    path = tmp_path / "ledger.db"
    path.write_text("this is not sqlite" * 100)
    with pytest.raises(LedgerError, match="cannot open the ledger"):
        Ledger.open(f"sqlite:///{path}")


def test_same_step_for_same_invoice_can_never_be_queued_twice(ledger: Ledger):
    run_id, _ = ledger.runs.start("p", TODAY)
    assert ledger.outbox.add(run_id, planned()) is True
    assert ledger.outbox.add(run_id, planned()) is False  # same debtor/channel/day
    tomorrow = date(2026, 11, 24)
    assert ledger.outbox.add(run_id, planned(day=tomorrow)) is False  # same invoice + step
    assert ledger.outbox.add(run_id, planned(step="second", day=tomorrow)) is True
    assert ledger.outbox.state_counts("p") == {"pending": 2}


def test_a_message_is_claimed_once(ledger: Ledger):
    run_id, _ = ledger.runs.start("p", TODAY)
    ledger.outbox.add(run_id, planned())
    message = ledger.outbox.pending("p")[0]
    assert ledger.outbox.claim(message.id, run_id, "a@example.nl") is True
    assert ledger.outbox.claim(message.id, run_id, "a@example.nl") is False
    ledger.outbox.mark_sent(message.id, Receipt("<id@x>", datetime.now(UTC)))
    assert ledger.outbox.state_counts("p") == {"sent": 1}


def test_a_live_run_blocks_a_second_one(ledger: Ledger):
    ledger.runs.start("p", TODAY)
    with pytest.raises(RunInProgressError, match="pipeline 'p' is already running"):
        ledger.runs.start("p", TODAY)
    ledger.runs.start("other", TODAY)  # other pipelines are independent


def test_a_dead_run_is_marked_crashed_and_its_sending_messages_uncertain(ledger: Ledger):
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    run_id, _ = ledger.runs.start("p", TODAY)
    ledger.outbox.add(run_id, planned())
    message = ledger.outbox.pending("p")[0]
    ledger.outbox.claim(message.id, run_id, "a@example.nl")
    dead_token = this_process().rsplit(":", 2)[0] + f":{child.pid}:0"
    with ledger.engine.begin() as connection:
        connection.execute(update(runs).where(runs.c.id == run_id).values(process=dead_token))
    ledger.runs.release(run_id)  # PostgreSQL: the dead process's session, and its lock, end
    new_run, dead = ledger.runs.start("p", TODAY)
    assert dead == [run_id]
    assert ledger.outbox.mark_uncertain(dead) == 1
    assert ledger.outbox.state_counts("p") == {"uncertain": 1}
    assert ledger.outbox.pending("p") == []
    assert [r.status for r in ledger.runs.recent("p")] == ["running", "crashed"]
    assert new_run != run_id


def test_payment_lowers_the_open_amount_and_waits_for_write_back(ledger: Ledger):
    run_id, _ = ledger.runs.start("p", TODAY)
    inv = Invoice("F1", "D1", date(2026, 10, 1), date(2026, 10, 31), Decimal(100), Decimal(100))
    ledger.invoices.save_batch("p", run_id, [Debtor("D1", "Jansen")], [inv], {})
    ledger.payments.record("p", Payment("F1", Decimal("30.00"), TODAY))
    assert ledger.invoices.get("p", ["F1"])["F1"][0].amount_open == Decimal("70.00")
    assert ledger.invoices.unwritten_payment_cents("p") == {"F1": 3000}
    # A sync before the write-back must not resurrect the paid part.
    unwritten = ledger.invoices.unwritten_payment_cents("p")
    ledger.invoices.save_batch("p", run_id, [], [inv], unwritten)
    assert ledger.invoices.get("p", ["F1"])["F1"][0].amount_open == Decimal("70.00")
    stored = ledger.payments.unwritten("p")[0]
    ledger.payments.mark_written(stored.id)
    assert ledger.payments.unwritten("p") == []


def test_history_remembers_every_step(ledger: Ledger):
    run_id, _ = ledger.runs.start("p", TODAY)
    ledger.outbox.add(run_id, planned())
    history = ledger.outbox.history("p")
    assert [(h.step, h.state) for h in history["F1"]] == [("friendly", MessageState.PENDING)]


def test_upgrade_keeps_each_invoices_latest_step_on_the_invoice(tmp_path: Path) -> None:
    """A ledger written by the first schema gets its ladder positions filled in by 0002."""
    from alembic import command
    from sqlalchemy import text

    from dunning.core.ledger.engine import _alembic_config, _sqlite_engine, migrate

    engine = _sqlite_engine(f"sqlite:///{tmp_path / 'old.db'}")
    config = _alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
        connection.execute(
            text(
                "INSERT INTO invoices (pipeline, number, debtor_id, issue_date, due_date, "
                "amount_total_cents, amount_open_cents, currency, is_credit_note, in_source, "
                "synced_at) VALUES ('p', 'F1', 'D1', '2026-01-01', '2026-01-15', 100, 100, "
                "'EUR', 0, 1, '2026-01-01 00:00:00')"
            )
        )
        for message_id, step, day in ((1, "friendly", "2026-01-18"), (2, "second", "2026-01-25")):
            connection.execute(
                text(
                    "INSERT INTO messages (id, pipeline, idempotency_key, debtor_id, channel, "
                    "step, template, planned_for, state, attempts, created_at, updated_at) "
                    f"VALUES ({message_id}, 'p', 'k{message_id}', 'D1', 'email', '{step}', 't', "
                    f"'{day}', 'sent', 1, '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO message_items (message_id, pipeline, invoice_number, step, "
                    f"item_key, amount_open_cents) VALUES ({message_id}, 'p', 'F1', '{step}', "
                    f"'p:F1:{step}', 100)"
                )
            )
    migrate(engine)
    with engine.connect() as connection:
        row = connection.execute(text("SELECT ladder_step, ladder_day FROM invoices")).one()
    assert tuple(row) == ("second", "2026-01-25")
    engine.dispose()


HOLD_A_RUN = """
import sys, time
from datetime import date
from dunning.core.ledger import Ledger
ledger = Ledger.open(sys.argv[1])
run_id, _ = ledger.runs.start("p", date(2026, 11, 23))
print(run_id, flush=True)
time.sleep(120)
"""


def test_on_postgresql_the_run_lock_holds_across_machines_and_dies_with_its_holder(
    postgres_url: str,
) -> None:
    """Another machine's run (its process unknowable from here) blocks while its session lives;
    killed, its lock goes with it and the next run marks it crashed."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_A_RUN, postgres_url], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        run_id = int(holder.stdout.readline())
        ledger = Ledger.open(postgres_url)
        with ledger.engine.begin() as connection:  # as if it ran on another host
            connection.execute(
                update(runs).where(runs.c.id == run_id).values(process="elsewhere:4242:1")
            )
        with pytest.raises(RunInProgressError, match="another process holds its lock"):
            ledger.runs.start("p", TODAY)
        holder.kill()
        holder.wait()
        deadline = time.monotonic() + 10
        while True:  # PostgreSQL notices the closed connection
            try:
                new_run, dead = ledger.runs.start("p", TODAY)
                break
            except RunInProgressError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        assert dead == [run_id] and new_run != run_id
        ledger.runs.finish(new_run, "completed", {})
        ledger.runs.start("p", TODAY)  # finishing let go of the lock
        ledger.close()
    finally:
        holder.kill()


def test_on_postgresql_concurrent_claims_of_one_message_give_it_to_one_worker(
    postgres_url: str,
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    ledger = Ledger.open(postgres_url)
    try:
        run_id, _ = ledger.runs.start("p", TODAY)
        ledger.outbox.add(run_id, planned())
        message = ledger.outbox.pending("p")[0]
        with ThreadPoolExecutor(8) as pool:
            won = list(
                pool.map(lambda _: ledger.outbox.claim(message.id, run_id, "a@x.nl"), range(16))
            )
        assert won.count(True) == 1
    finally:
        ledger.close()
