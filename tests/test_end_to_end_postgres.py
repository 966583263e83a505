"""The end-to-end tests again, with the ledger on PostgreSQL (``state: postgresql+psycopg://``).

The same test functions as ``test_end_to_end.py`` (imported, so they are collected here too),
run against a ``project`` whose ``pipelines.yaml`` points at a fresh database on the test
server (``tests/postgres.py``). Tests that read the SQLite file itself stay there; their
PostgreSQL counterparts are below.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import ROOT, SAMPLE_TODAY
from tests.test_end_to_end import (  # noqa: F401 - collected here, on PostgreSQL
    test_first_run_writes_reminders_and_reports_bad_input,
    test_mark_paid_of_an_unknown_invoice_is_a_clear_error,
    test_mark_paid_stops_the_ladder_and_writes_back,
    test_missing_source_file_exits_3_with_a_clear_error,
    test_plan_is_a_dry_run,
    test_second_run_the_same_day_sends_nothing,
    test_status_counts_messages_by_state,
)


@pytest.fixture
def project(tmp_path: Path, postgres_url: str) -> Path:
    """The default pipeline and sample data, with the ledger in a fresh PostgreSQL database."""
    config = (ROOT / "pipelines.yaml").read_text(encoding="utf-8")
    config, replaced = re.subn(r"(?m)^state: .*$", f"state: {postgres_url}", config)
    assert replaced == 1
    (tmp_path / "pipelines.yaml").write_text(config, encoding="utf-8")
    subprocess.run(
        [sys.executable, str(ROOT / "sample" / "generate.py"), "--out",
         str(tmp_path / "sample" / "invoices.csv"), "--today", SAMPLE_TODAY],
        check=True, capture_output=True,
    )  # fmt: skip
    return tmp_path


def test_the_ledger_is_in_postgresql_not_in_a_file(
    project: Path, cli: Callable[..., subprocess.CompletedProcess[str]], postgres_url: str
) -> None:
    result = cli("run", "--date", SAMPLE_TODAY, "--json", "--quiet")
    assert result.returncode in (0, 1), result.stderr
    assert not (project / "dunning.db").exists()
    engine = create_engine(postgres_url)
    with engine.connect() as connection:
        sent = connection.execute(
            text("select count(*) from messages where state = 'sent'")
        ).scalar_one()
    engine.dispose()
    assert sent == json.loads(result.stdout)[0]["sent"] > 0


def test_a_week_later_only_next_steps_go_out_on_postgresql(
    project: Path, cli: Callable[..., subprocess.CompletedProcess[str]], postgres_url: str
) -> None:
    cli("run", "--date", SAMPLE_TODAY, "--quiet")
    result = cli("run", "--date", "2026-03-23", "--json", "--quiet")
    assert json.loads(result.stdout)[0]["sent"] > 0
    engine = create_engine(postgres_url)
    with engine.connect() as connection:
        repeats = connection.execute(
            text(
                "select invoice_number, step, count(*) from message_items "
                "group by invoice_number, step having count(*) > 1"
            )
        ).all()
        later = connection.execute(
            text(
                "select count(*) from messages where planned_for = '2026-03-23' "
                "and step = 'second-reminder'"
            )
        ).scalar_one()
    engine.dispose()
    assert repeats == [] and later > 0
