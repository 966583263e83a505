"""Data protection: owner-only ledger files, ``dunning purge`` and ``dunning export``."""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from dunning.core.cli import main
from dunning.core.ledger import Ledger
from dunning.core.privacy.purge import cutoff_for

HEADER = "factuurnummer;debiteurnummer;debiteur;contactpersoon;email;telefoon;factuurdatum;"
HEADER += "vervaldatum;bedrag"
ROWS = [
    "F-1;D1;Bakker B.V.;Jan Bakker;jan@bakker.nl;06 12345678;01-01-2026;01-02-2026;1234,56",
    "F-2;D2;Smit B.V.;Els Smit;els@smit.nl;06 87654321;01-01-2026;01-02-2026;300,00",
    "F-3;D3;Visser B.V.;Piet Visser;piet@visser.nl;06 11223344;01-01-2026;01-02-2026;99,00",
]
PERSONAL_D1 = ("Bakker", "Jan", "jan@bakker.nl", "12345678")


@dataclass
class Project:
    folder: Path
    runner: CliRunner

    @property
    def ledger(self) -> Path:
        return self.folder / "dunning.db"

    def __call__(self, *args: str, stdin: str | None = None) -> Any:
        config = str(self.folder / "pipelines.yaml")
        result = self.runner.invoke(main, [*args, "--config", config], input=stdin)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result

    def sql(self, query: str, *args: Any) -> list[Any]:
        with sqlite3.connect(self.ledger) as connection:
            return connection.execute(query, args).fetchall()


@pytest.fixture
def project(tmp_path: Path) -> Project:
    (tmp_path / "invoices.csv").write_text("\n".join([HEADER, *ROWS]) + "\n", encoding="utf-8")
    (tmp_path / "pipelines.yaml").write_text(
        """
pipelines:
  main:
    creditor: {name: Test B.V., iban: NL91ABNA0417164300}
    source: {type: csv, path: invoices.csv}
    calendar: {business_days_only: false, quiet_channels: []}
    channels:
      email: {type: email, delivery: file, folder: out, from_address: debiteuren@example.nl}
    steps:
      - {name: friendly-reminder, after_due: 3, channel: email, template: friendly-reminder}
""",
        encoding="utf-8",
    )
    return Project(tmp_path, CliRunner())


@pytest.fixture
def closed_cases(project: Project) -> Project:
    """D1 paid long ago (its history moved to 2018), D2 paid last week, D3 still open."""
    assert project("run", "--date", "2026-03-10", "--quiet").exit_code == 0
    assert project("mark-paid", "F-1", "--date", "2026-03-11").exit_code == 0
    assert project("mark-paid", "F-2", "--date", "2026-03-18").exit_code == 0
    with sqlite3.connect(project.ledger) as ledger:
        ledger.execute("update invoices set issue_date='2018-01-01', due_date='2018-02-01', "
                       "paid_on='2018-03-01' where debtor_id='D1'")  # fmt: skip
        ledger.execute("update payments set paid_on='2018-03-01' where invoice_number='F-1'")
        ledger.execute("update messages set planned_for='2018-02-05', "
                       "updated_at='2018-02-05 09:00:00' where debtor_id='D1'")  # fmt: skip
        ledger.execute("update debtors set last_contact_day='2018-02-05' where debtor_id='D1'")
    return project


def figures(project: Project) -> dict[str, Any]:
    return {
        "invoices": project.sql(
            "select number, amount_total_cents, amount_open_cents, issue_date, due_date, paid_on, "
            "days_late, ladder_step from invoices order by number"
        ),
        "payments": project.sql("select invoice_number, amount_cents, paid_on from payments"),
        "messages": project.sql(
            "select step, channel, state, planned_for from messages order by id"
        ),
        "items": project.sql("select invoice_number, step, amount_open_cents from message_items"),
    }


def test_a_new_ledger_and_its_wal_files_are_owner_only(tmp_path: Path) -> None:
    old = os.umask(0o002)
    try:
        ledger = Ledger.open(f"sqlite:///{tmp_path / 'dunning.db'}")
        ledger.runs.recent()
        files = sorted(tmp_path.glob("dunning.db*"))
        assert files and {stat.S_IMODE(f.stat().st_mode) for f in files} == {0o600}
        ledger.close()
    finally:
        os.umask(old)


def test_an_existing_ledger_readable_by_others_is_logged_and_left_alone(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "shared.db"
    sqlite3.connect(path).close()
    path.chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="dunning.ledger"):
        Ledger.open(f"sqlite:///{path}").close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert "can be read by other users; run: chmod 600" in caplog.text


def test_export_gives_everything_about_one_debtor_in_one_owner_only_file(
    closed_cases: Project,
) -> None:
    out = closed_cases.folder / "d3.json"
    result = closed_cases("export", "D3", "--out", str(out))
    assert result.exit_code == 0, result.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    data = json.loads(out.read_text(encoding="utf-8"))
    [main_data] = data["pipelines"]
    assert data["debtor_id"] == "D3" and main_data["pipeline"] == "main"
    assert main_data["debtor"]["name"] == "Visser B.V."
    assert main_data["debtor"]["email"] == "piet@visser.nl"
    assert [i["number"] for i in main_data["invoices"]] == ["F-3"]
    [message] = main_data["messages"]
    assert message["recipient"] == "piet@visser.nl" and message["state"] == "sent"
    assert [item["invoice_number"] for item in message["items"]] == ["F-3"]
    assert message["receipt"]["provider_message_id"]
    assert set(main_data) >= {"payments", "pauses", "call_tasks", "handoffs", "opt_outs",
                              "legal_letters", "payment_links", "agency_reports"}  # fmt: skip
    paid = closed_cases("export", "D2")
    assert json.loads(paid.stdout)["pipelines"][0]["payments"][0]["amount_cents"] == 30000


def test_export_of_an_unknown_debtor_is_one_line_and_exit_2(closed_cases: Project) -> None:
    result = closed_cases("export", "NOPE")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: debtor 'NOPE' is not in the ledger")
    assert len(result.stderr.splitlines()) == 1 and result.stdout == ""


def test_purge_anonymises_only_closed_cases_past_the_retention_period(
    closed_cases: Project,
) -> None:
    before = figures(closed_cases)
    dry = closed_cases("purge", "--older-than", "5y", "--date", "2026-03-25", "--dry-run")
    assert dry.exit_code == 0, dry.stderr
    assert "would purge 1 debtor(s)" in dry.stdout and "main/D1:" in dry.stdout
    assert "D2" not in dry.stdout and "D3" not in dry.stdout
    assert figures(closed_cases) == before
    assert closed_cases.sql("select count(*) from debtors where debtor_id = 'D1'") == [(1,)]

    done = closed_cases("purge", "--older-than", "5y", "--date", "2026-03-25", "--yes")
    assert done.exit_code == 0, done.stderr
    assert "purged 1 debtor(s)" in done.stdout
    assert figures(closed_cases) == before  # every amount, date, step and state kept
    ids = [r[0] for r in closed_cases.sql("select debtor_id from debtors order by debtor_id")]
    assert ids[:2] == ["D2", "D3"] and ids[2].startswith("purged-") and len(ids) == 3
    pseudonym = ids[2]
    personal = closed_cases.sql(
        "select name, contact_name, email, phone, contacts, address from debtors "
        "where debtor_id = ?",
        pseudonym,
    )
    assert personal == [("[purged]", None, None, None, None, None)]
    assert closed_cases.sql("select distinct debtor_id from invoices where number = 'F-1'") == [
        (pseudonym,)
    ]
    assert closed_cases.sql("select name from debtors where debtor_id = 'D2'") == [("Smit B.V.",)]

    gone = closed_cases("export", "D1")
    assert gone.exit_code == 2
    export = closed_cases("export", pseudonym)
    assert export.exit_code == 0, export.stderr
    text = export.stdout
    assert json.loads(text)["pipelines"][0]["invoices"][0]["amount_total_cents"] == 123456
    for personal in (*PERSONAL_D1, '"D1"', ":D1:"):
        assert personal not in text
    everything = json.dumps(closed_cases.sql("select * from runs"))
    everything += json.dumps(closed_cases.sql("select * from messages where debtor_id = ?",
                                              pseudonym))  # fmt: skip
    for personal in PERSONAL_D1:
        assert personal not in everything
    again = closed_cases("purge", "--older-than", "5y", "--date", "2026-03-25", "--yes")
    assert "nothing to purge" in again.stdout


def test_purge_asks_before_changing_anything(closed_cases: Project) -> None:
    before = figures(closed_cases)
    refused = closed_cases("purge", "--older-than", "730d", "--date", "2026-03-25")
    assert refused.exit_code == 2
    assert refused.stderr.strip().endswith("add --yes to purge without asking")
    assert closed_cases.sql("select count(*) from debtors where debtor_id = 'D1'") == [(1,)]
    assert figures(closed_cases) == before


def test_open_and_recent_cases_are_never_purged(closed_cases: Project) -> None:
    result = closed_cases("purge", "--older-than", "1d", "--date", "2099-01-01", "--yes")
    assert result.exit_code == 0, result.stderr
    names = {r[0] for r in closed_cases.sql("select debtor_id from debtors")}
    assert "D3" in names  # open: never, however old
    assert "D1" not in names and "D2" not in names


@pytest.mark.parametrize(
    ("period", "cutoff"),
    [("7y", "2019-03-25"), ("18m", "2024-09-25"), ("730d", "2024-03-25"), ("30", "2026-02-23")],
)
def test_retention_periods(period: str, cutoff: str) -> None:
    from datetime import date

    assert cutoff_for(period, date(2026, 3, 25)).isoformat() == cutoff


def test_a_bad_retention_period_is_a_one_line_error(closed_cases: Project) -> None:
    result = closed_cases("purge", "--older-than", "seven years", "--yes")
    assert result.exit_code == 2
    assert (
        result.stderr == "error: --older-than 'seven years': give a period like 7y, 18m or "
        "730d (years, months, days)\n"
    )


@pytest.fixture(autouse=True)
def _no_log_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("DUNNING_LOG_FILE", raising=False)
    monkeypatch.delenv("DUNNING_LOG_FORMAT", raising=False)
    yield
