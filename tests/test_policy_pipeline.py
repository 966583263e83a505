"""The policy through a real run: ledger (SQLite file), CSV source, email channel (file delivery).

Covers what only shows end to end: the courtesy reminder carrying the early-payment discount,
thank-you notes for punctual payers, paid dates and segments learned from the source, the
ladder recorded per run, and confirmations kept apart from the ladder's memory.
"""

from __future__ import annotations

import email
import json
import os
import shutil
import subprocess
import sys
from datetime import date
from email.message import Message
from pathlib import Path

from dunning.core.ledger import Ledger
from dunning.core.models import (
    Debtor,
    Invoice,
    MessageState,
    Pause,
    PauseKind,
    PauseStatus,
    PlannedItem,
    PlannedMessage,
)
from tests.conftest import ROOT, dunning_command

HEADER = (
    "factuurnummer;debiteurnummer;debiteur;contactpersoon;email;taal;factuurdatum;vervaldatum;"
    "bedrag;betaald;betaaldatum;korting;kortingstermijn"
)
ROWS = [
    # P1: always paid on time -> punctual
    "H1;P1;Punctual B.V.;Piet Punt;piet@example.nl;nl;01-12-2025;15-12-2025;100,00;ja;14-12-2025;;",
    "H2;P1;Punctual B.V.;Piet Punt;piet@example.nl;nl;01-01-2026;15-01-2026;100,00;ja;15-01-2026;;",
    "H3;P1;Punctual B.V.;Piet Punt;piet@example.nl;nl;01-02-2026;15-02-2026;100,00;ja;10-02-2026;;",
    "P-OPEN;P1;Punctual B.V.;Piet Punt;piet@example.nl;nl;01-03-2026;15-03-2026;250,00;;;;",
    # L1: always 10 days late -> late-but-reliable; an invoice with 2% discount within 8 days
    "H4;L1;Late Ltd;Lucy Late;lucy@example.com;en;01-12-2025;15-12-2025;100,00;ja;25-12-2025;;",
    "H5;L1;Late Ltd;Lucy Late;lucy@example.com;en;01-01-2026;15-01-2026;100,00;ja;25-01-2026;;",
    "H6;L1;Late Ltd;Lucy Late;lucy@example.com;en;01-02-2026;15-02-2026;100,00;ja;25-02-2026;;",
    "L-DISC;L1;Late Ltd;Lucy Late;lucy@example.com;en;12-03-2026;20-03-2026;500,00;;;2;8",
]
CONFIG = """\
version: 1
pipelines:
  main:
    creditor: {name: Test B.V., iban: NL91ABNA0417164300}
    source: {type: csv, path: invoices.csv}
    calendar: {country: NL, business_days_only: true}
    thank_you: {channel: email}
    channels:
      email: {type: email, delivery: file, folder: out, from_address: debiteuren@example.nl}
    steps:
      - name: courtesy-reminder
        before_due: 3
        channel: email
        template: courtesy-reminder
        when: {not_segment: punctual}
      - name: friendly-reminder
        after_due: 3
        channel: email
        template: friendly-reminder
        when: {not_segment: punctual}
"""


def project(tmp_path: Path) -> Path:
    (tmp_path / "invoices.csv").write_text("\n".join([HEADER, *ROWS]) + "\n", encoding="utf-8")
    (tmp_path / "pipelines.yaml").write_text(CONFIG, encoding="utf-8")
    return tmp_path


def dunning(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "250"}  # rich wraps table cells to the terminal width
    return subprocess.run(
        dunning_command(*args), cwd=folder, capture_output=True, text=True, timeout=120, env=env
    )


def mails(folder: Path) -> list[Message]:
    out = folder / "out"
    if not out.exists():
        return []
    return [email.message_from_bytes(p.read_bytes()) for p in sorted(out.glob("*.eml"))]


def text_of(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode(part.get_content_charset() or "utf-8")
    raise AssertionError("no text part")


def test_courtesy_reminder_mentions_the_discount_and_punctual_payers_get_none(
    tmp_path: Path,
) -> None:
    folder = project(tmp_path)
    result = dunning(folder, "run", "--date", "2026-03-18", "--quiet")  # Wednesday
    assert result.returncode == 0, result.stderr
    sent = mails(folder)
    assert [m["To"] for m in sent] == ["lucy@example.com"]
    body = text_of(sent[0])
    assert "2%" in body
    assert "490.00" in body  # pays 500.00 - 2% by the deadline
    assert "20 March 2026" in body or "March 20, 2026" in body  # deadline: 12 March + 8 days


def test_punctual_payer_is_thanked_once_after_paying(tmp_path: Path) -> None:
    folder = project(tmp_path)
    assert dunning(folder, "run", "--date", "2026-03-16", "--quiet").returncode == 0
    before = len(mails(folder))
    paid = dunning(folder, "mark-paid", "P-OPEN", "--date", "2026-03-14")
    assert paid.returncode == 0, paid.stderr
    assert dunning(folder, "run", "--date", "2026-03-17", "--quiet").returncode == 0
    thanks = [m for m in mails(folder)[before:] if m["To"] == "piet@example.nl"]
    assert len(thanks) == 1
    assert "P-OPEN" in text_of(thanks[0])
    assert dunning(folder, "run", "--date", "2026-03-18", "--quiet").returncode == 0
    assert len([m for m in mails(folder) if "piet" in m["To"]]) == 1


def test_debtors_shows_figures_learned_from_paid_dates(tmp_path: Path) -> None:
    folder = project(tmp_path)
    assert dunning(folder, "run", "--date", "2026-03-10", "--quiet").returncode == 0
    listed = dunning(folder, "debtors", "--json")
    rows = {r["debtor_id"]: r for r in json.loads(listed.stdout)}
    assert rows["P1"]["segment"] == "punctual"
    assert rows["P1"]["on_time_share"] == "1.00"
    assert rows["L1"]["segment"] == "late-but-reliable"
    assert rows["L1"]["avg_days_late"] == "10.00"


def test_each_run_records_the_ladder_once_per_version(tmp_path: Path) -> None:
    folder = project(tmp_path)
    for day in ("2026-03-10", "2026-03-11"):
        assert dunning(folder, "run", "--date", day, "--quiet").returncode == 0
    config = folder / "pipelines.yaml"
    config.write_text(config.read_text().replace("after_due: 3", "after_due: 5"))
    assert dunning(folder, "run", "--date", "2026-03-12", "--quiet").returncode == 0
    ledger = Ledger.open(f"sqlite:///{folder / 'dunning.db'}")
    try:
        versions = ledger.ladders.versions("main")
    finally:
        ledger.close()
    assert [v[1].get("after_due") for v in versions] == [3, 5]


# --- the ledger's side ------------------------------------------------------------------------


def open_ledger(tmp_path: Path) -> Ledger:
    return Ledger.open(f"sqlite:///{tmp_path / 'ledger.db'}")


def test_paid_date_comes_from_the_source_or_the_sync_that_saw_it_settled(tmp_path: Path) -> None:
    ledger = open_ledger(tmp_path)
    debtor = Debtor("D1", "One")

    def sync(*invoices: Invoice) -> None:
        ledger.invoices.save_batch("p", 1, [debtor], list(invoices), {})

    def row(number: str, open_: str, paid_on: date | None = None) -> Invoice:
        from decimal import Decimal

        return Invoice(
            number, "D1", date(2026, 1, 1), date(2026, 1, 15), Decimal(100), Decimal(open_),
            paid_on=paid_on,
        )  # fmt: skip

    sync(row("OLD", "0"), row("SRC", "0", date(2026, 1, 20)), row("SEEN", "100"))
    sync(row("OLD", "0"), row("SRC", "0", date(2026, 1, 20)), row("SEEN", "0"))
    current = ledger.invoices.get("p", ["OLD", "SRC", "SEEN"])
    assert current["OLD"][0].paid_on is None  # first seen paid, no date: unknown
    assert current["SRC"][0].paid_on == date(2026, 1, 20)
    assert current["SEEN"][0].paid_on == date.today()  # settled between two syncs
    ledger.close()


def test_pauses_keep_who_when_why_and_how_they_ended(tmp_path: Path) -> None:
    ledger = open_ledger(tmp_path)
    stored = ledger.pauses.add(
        "p",
        Pause(
            0, "D1", PauseKind.PROMISE, date(2026, 3, 1), "on the phone", ("F1",),
            until=date(2026, 3, 10), grace_days=2, created_by="sanne",
        ),
    )  # fmt: skip
    assert stored.id > 0 and stored.created_by == "sanne"
    assert [p.id for p in ledger.pauses.active("p")] == [stored.id]
    assert ledger.pauses.close("p", stored.id, PauseStatus.BROKEN, date(2026, 3, 13), "x", "y")
    assert not ledger.pauses.close("p", stored.id, PauseStatus.LIFTED, date(2026, 3, 14), "x", "")
    assert ledger.pauses.active("p") == []
    assert ledger.pauses.broken_counts("p") == {"D1": 1}
    assert ledger.pauses.get("other", stored.id) is None
    ledger.close()


def test_confirmations_do_not_count_as_ladder_steps_or_block_a_reminder(tmp_path: Path) -> None:
    from decimal import Decimal

    ledger = open_ledger(tmp_path)
    run_id, _ = ledger.runs.start("p", date(2026, 3, 5))
    debtor = Debtor("D1", "One", email="one@example.com")
    invoice = Invoice("F1", "D1", date(2026, 2, 1), date(2026, 3, 1), Decimal(9), Decimal(9))
    ledger.invoices.save_batch("p", run_id, [debtor], [invoice], {})
    day = date(2026, 3, 5)

    def message(step: str, kind: str, suffix: str = "") -> PlannedMessage:
        item = PlannedItem(invoice, step, 0, "why")
        return PlannedMessage("p", debtor, "email", step, step, day, (item,), kind, suffix)

    assert ledger.outbox.add(run_id, message("confirm-promise", "confirmation", "confirm-1-set"))
    assert ledger.outbox.add(run_id, message("friendly", "step"))
    assert not ledger.outbox.add(run_id, message("friendly", "step"))
    assert [h.step for h in ledger.outbox.history("p")["F1"]] == ["friendly"]
    assert ledger.outbox.contacted("p", day) == {("D1", "email")}
    assert ledger.invoices.last_contact_days("p") == {"D1": day}
    states = {m.kind: m.state for m in ledger.outbox.pending("p")}
    assert states == {"confirmation": MessageState.PENDING, "step": MessageState.PENDING}
    ledger.close()


def test_sample_project_runs_with_the_policy_defaults(tmp_path: Path) -> None:
    shutil.copy(ROOT / "pipelines.yaml", tmp_path / "pipelines.yaml")
    subprocess.run(
        [sys.executable, str(ROOT / "sample/generate.py"), "--out",
         str(tmp_path / "sample/invoices.csv"), "--today", "2026-03-16"],
        check=True, capture_output=True,
    )  # fmt: skip
    result = dunning(tmp_path, "run", "--date", "2026-03-14", "--quiet")  # a Saturday
    assert result.returncode in (0, 1), result.stderr
    assert not (tmp_path / "out" / "mail").exists() or not list(
        (tmp_path / "out" / "mail").glob("*.eml")
    ), "business days only: nothing on a Saturday"
    plan = dunning(tmp_path, "plan", "--date", "2026-03-14", "--verbose")
    assert "is not a business day (Saturday)" in plan.stdout
