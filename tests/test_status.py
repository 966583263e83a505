"""``dunning status``: the last run of each pipeline, failures and uncertain actions, and an
exit code cron or Kubernetes can alert on (``--check``)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from dunning.core.cli import main

HEADER = (
    "factuurnummer;debiteurnummer;debiteur;contactpersoon;email;factuurdatum;vervaldatum;bedrag"
)
ROWS = [
    "F-1;D1;Bakker B.V.;Jan Bakker;jan@bakker.nl;01-01-2026;01-02-2026;1234,56",
    "F-2;D2;Smit B.V.;Els Smit;niet-een-adres;01-01-2026;01-02-2026;300,00",
]


class Project:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.runner = CliRunner()

    def __call__(self, *args: str) -> Result:
        config = str(self.folder / "pipelines.yaml")
        result = self.runner.invoke(main, [*args, "--config", config])
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result

    def status(self, *args: str) -> tuple[int, dict[str, Any]]:
        result = self("status", "--json", *args)
        return result.exit_code, json.loads(result.stdout)

    def sql(self, query: str) -> None:
        with sqlite3.connect(self.folder / "dunning.db") as ledger:
            ledger.execute(query)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    monkeypatch.delenv("DUNNING_LOG_FILE", raising=False)
    monkeypatch.delenv("DUNNING_LOG_FORMAT", raising=False)
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
    project = Project(tmp_path)
    assert project("run", "--date", "2026-03-10", "--quiet").exit_code == 0
    return project


def test_status_shows_the_last_run_of_each_pipeline_with_its_counts(project: Project) -> None:
    code, data = project.status("--check")
    assert code == 0 and data["attention"] == []
    run = data["pipelines"]["main"]["last_run"]
    assert run["id"] == 1 and run["as_of"] == "2026-03-10" and run["status"] == "completed"
    assert run["exit_code"] == 0 and run["sent"] == 1 and run["finished_at"]
    [failed] = data["pipelines"]["main"]["failed"]
    assert failed["debtor_id"] == "D2" and failed["invoices"] == ["F-2"]
    assert data["runs"][0]["status"] == "completed"  # the older keys stay


def test_an_uncertain_message_makes_check_exit_1_and_is_listed(project: Project) -> None:
    project.sql("update messages set state = 'uncertain' where debtor_id = 'D1'")
    code, data = project.status()
    assert code == 0  # without --check, status only reports
    code, data = project.status("--check")
    assert code == 1
    [uncertain] = data["pipelines"]["main"]["uncertain"]
    assert (uncertain["debtor_id"], uncertain["channel"], uncertain["invoices"]) == (
        "D1",
        "email",
        ["F-1"],
    )
    assert data["attention"] == ["main: 1 message(s) uncertain: sent or not?"]
    text = project("status", "--check")
    assert text.exit_code == 1
    assert f"uncertain: message {uncertain['id']} email to D1 (F-1)" in text.stdout
    assert "attention: main: 1 message(s) uncertain" in text.stdout


def test_a_failed_or_crashed_last_run_makes_check_exit_1(project: Project) -> None:
    project.sql("update runs set status = 'crashed'")
    code, data = project.status("--check")
    assert code == 1
    assert data["attention"] == ["main: last run 1 crashed"]


def test_a_failed_write_back_is_listed_and_alerts(project: Project) -> None:
    project.sql(
        "insert into payments (pipeline, invoice_number, amount_cents, paid_on, origin, "
        "recorded_at, writeback_error) values ('main', 'F-1', 123456, '2026-03-11', 'manual', "
        "'2026-03-11 10:00:00', 'the source said 503')"
    )
    code, data = project.status("--check")
    assert code == 1
    assert data["pipelines"]["main"]["failed_writebacks"] == [
        {"invoice": "F-1", "amount": "1234.56", "paid_on": "2026-03-11",
         "error": "the source said 503"}
    ]  # fmt: skip


def test_a_pipeline_never_run_is_shown_as_such(project: Project) -> None:
    (project.folder / "dunning.db").unlink()
    text = project("status", "--check")
    assert text.exit_code == 0
    assert "main: never run" in text.stdout
