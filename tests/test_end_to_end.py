"""The default pipeline end to end through the real CLI, on the shipped sample data."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

from tests.conftest import SAMPLE_TODAY


def emails(project: Path) -> set[str]:
    return {p.name for p in (project / "out" / "mail").glob("*.eml")}


def test_first_run_writes_reminders_and_reports_bad_input(project: Path, cli):
    result = cli("run", "--date", SAMPLE_TODAY, "--json", "--quiet")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)[0]
    assert summary["sent"] > 5
    assert summary["sent"] == len(emails(project))
    assert summary["skipped_rows"] == 1
    assert summary["bad_recipients"] == 1
    assert "warning: skipped invoices.csv:" in result.stderr
    assert "is not a number" in result.stderr
    assert "is not a valid address" in result.stderr


def test_second_run_the_same_day_sends_nothing(project: Path, cli):
    cli("run", "--date", SAMPLE_TODAY, "--quiet")
    before = emails(project)
    result = cli("run", "--date", SAMPLE_TODAY, "--json", "--quiet")
    assert json.loads(result.stdout)[0]["sent"] == 0
    assert emails(project) == before


def test_a_week_later_only_next_steps_go_out(project: Path, cli):
    cli("run", "--date", SAMPLE_TODAY, "--quiet")
    result = cli("run", "--date", "2026-03-23", "--json", "--quiet")
    summary = json.loads(result.stdout)[0]
    assert summary["sent"] > 0
    with sqlite3.connect(project / "dunning.db") as ledger:
        repeats = ledger.execute(
            "select invoice_number, step, count(*) from message_items "
            "group by invoice_number, step having count(*) > 1"
        ).fetchall()
        second_run_steps = dict(
            ledger.execute(
                "select step, count(*) from messages where planned_for = '2026-03-23' group by step"
            ).fetchall()
        )
    assert repeats == []
    assert second_run_steps.get("second-reminder", 0) > 0


def test_plan_is_a_dry_run(project: Path, cli):
    cli("run", "--date", SAMPLE_TODAY, "--quiet")
    result = cli("plan", "--date", "2026-03-23", "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert rows and {"debtor_id", "channel", "step", "invoices"} <= set(rows[0])
    assert all(r["invoices"][0]["reason"] for r in rows)
    again = json.loads(cli("plan", "--date", "2026-03-23", "--json").stdout)
    assert again == rows  # nothing was recorded


def test_mark_paid_stops_the_ladder_and_writes_back(project: Path, cli):
    cli("run", "--date", SAMPLE_TODAY, "--quiet")
    plan = json.loads(cli("plan", "--date", "2026-04-30", "--json").stdout)
    number = plan[0]["invoices"][0]["number"]
    result = cli("mark-paid", number, "--date", "2026-03-17")
    assert result.returncode == 0, result.stderr
    assert f"invoice {number}: recorded" in result.stdout
    assert "written back to the csv source" in result.stdout
    csv_text = (project / "sample" / "invoices.csv").read_text(encoding="utf-8-sig")
    row = next(line for line in csv_text.splitlines() if line.startswith(number + ";"))
    assert "17-03-2026" in row and ";ja" in row
    later = json.loads(cli("plan", "--date", "2026-04-30", "--json").stdout)
    assert number not in {i["number"] for r in later for i in r["invoices"]}
    result = cli("run", "--date", "2026-04-30", "--json", "--quiet")
    assert json.loads(result.stdout)[0]["sent"] > 0


def test_mark_paid_of_an_unknown_invoice_is_a_clear_error(project: Path, cli):
    cli("run", "--date", SAMPLE_TODAY, "--quiet")
    result = cli("mark-paid", "NOPE-1")
    assert result.returncode == 2
    assert result.stderr.strip().startswith("error: invoice NOPE-1 is not in the ledger")
    assert "Traceback" not in result.stderr


def test_status_counts_messages_by_state(project: Path, cli):
    cli("run", "--date", SAMPLE_TODAY, "--quiet")
    status = json.loads(cli("status", "--json").stdout)
    assert status["messages"]["sent"] == len(emails(project))
    assert status["messages"]["failed"] == 1  # the debtor with an invalid address
    assert status["uncertain"] == []
    assert status["runs"][0]["status"] == "completed"


def test_check_and_plugins(project: Path, cli):
    result = cli("check")
    assert result.returncode == 0 and "ok" in result.stdout
    kinds = json.loads(cli("plugins", "--json").stdout)
    assert "csv" in kinds["sources"] and "email" in kinds["channels"]


def test_broken_config_exits_2_with_one_line_and_touches_nothing(project: Path, cli):
    config = project / "pipelines.yaml"
    config.write_text(config.read_text().replace("after_due: 3", "after_due: drie"))
    result = cli("run", "--date", SAMPLE_TODAY)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: pipelines.yaml:")
    assert "after_due" in lines[0]
    assert not (project / "dunning.db").exists()
    assert not (project / "out").exists()


def test_blocked_plugin_fails_at_start_up_naming_the_kinds(project: Path, cli):
    env = {**os.environ, "DUNNING_DISABLE_PLUGINS": "csv, moneybird, exact"}
    assert "csv" not in json.loads(cli("plugins", "--json", env=env).stdout)["sources"]
    result = cli("run", env=env)
    assert result.returncode == 2
    assert "unknown source type 'csv'" in result.stderr
    assert "installed source types: none" in result.stderr


def test_missing_source_file_exits_3_with_a_clear_error(project: Path, cli):
    (project / "sample" / "invoices.csv").unlink()
    result = cli("run", "--quiet")
    assert result.returncode == 3
    assert result.stderr.startswith("error: ")
    assert "invoices.csv" in result.stderr
    assert "Traceback" not in result.stderr


def test_broken_config_after_runs_leaves_ledger_and_files_intact(project: Path, cli):
    cli("run", "--date", SAMPLE_TODAY, "--quiet")
    ledger_before = json.loads(cli("status", "--json").stdout)["messages"]
    csv_before = (project / "sample" / "invoices.csv").read_bytes()
    mail_before = emails(project)
    config = project / "pipelines.yaml"
    config.write_text(config.read_text().replace("type: csv", "type: cvs"))
    result = cli("run", "--date", "2026-04-30")
    assert result.returncode == 2
    assert "did you mean 'csv'?" in result.stderr
    config.write_text(config.read_text().replace("type: cvs", "type: csv"))
    assert json.loads(cli("status", "--json").stdout)["messages"] == ledger_before
    assert (project / "sample" / "invoices.csv").read_bytes() == csv_before
    assert emails(project) == mail_before
