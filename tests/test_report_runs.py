"""What real runs leave for ``dunning report``: a receivable snapshot per day whose sync completed,
and a bounced message counted apart from other failures."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

from dunning.core.config import load_config
from dunning.core.ledger import Ledger
from dunning.core.models import SyncIncomplete
from dunning.core.runner import dry_run_pipeline, run_pipeline
from dunning.core.source import SyncRecord
from tests.conftest import dunning_command
from tests.portfolio import write_smtp_project
from tests.smtp_server import SMTPTestServer

NOON = "2026-03-16T12:00+01:00"
# Both due 3 March, issued 1 February: the friendly reminder (3 days after due) is due on 16
# March. Open and overdue: 100.50 + 200.25 = 300.75 in 2 invoices; sales of the 90 days up to
# 16 March: the same 300.75.
ROWS = [
    "F-1;D1;Klant Een B.V.;Anna Een;anna@example.nl;01-02-2026;03-03-2026;100,50",
    "F-2;D2;Klant Twee B.V.;Bob Twee;not-an-address;01-02-2026;03-03-2026;200,25",
]


def run(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        dunning_command(*args, "--config", str(config)),
        cwd=config.parent,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_run_records_a_snapshot_and_the_report_counts_the_bounce(
    tmp_path: Path, smtp_server: SMTPTestServer
) -> None:
    config = write_smtp_project(tmp_path, ROWS, "shop", smtp_server.port)
    first = run(config, "run", "--date", "2026-03-16", "--now", NOON)
    assert "not sent" in first.stdout + first.stderr
    again = run(config, "run", "--date", "2026-03-16", "--now", NOON)  # replaces the snapshot
    assert again.returncode in (0, 1), again.stderr

    ledger = Ledger.open(load_config(config).state_url)
    try:
        [snapshot] = ledger.snapshots.history("shop")
        last_run = max(r.id for r in ledger.runs.recent("shop"))
    finally:
        ledger.close()
    assert (snapshot.as_of, snapshot.run_id) == (date(2026, 3, 16), last_run)
    assert (snapshot.open_cents, snapshot.overdue_cents, snapshot.open_count) == (30075, 30075, 2)
    assert (snapshot.sales_cents, snapshot.sales_days) == (30075, 90)

    report = run(config, "report", "--json", "--date", "2026-03-16")
    assert report.returncode == 0, report.stderr
    [figures] = json.loads(report.stdout)
    assert figures["channels"] == [
        {
            "channel": "email",
            "sent": 1,
            "bounced": 1,
            "failed": 0,
            "pending": 0,
            "uncertain": 0,
            "cancelled": 0,
        }
    ]
    assert figures["dso"] == "90.0"  # 300.75 open / 300.75 sold x 90
    assert figures["funnel"][0] == {
        "step": "friendly-reminder",
        "in_ladder": True,
        "reached": 1,
        "paid_after": {"count": 0, "amount": "0.00"},
    }


def test_no_snapshot_without_a_complete_sync_or_in_a_dry_run(tmp_path: Path) -> None:
    config = load_config(write_smtp_project(tmp_path, ROWS[:1], "shop", 2525))
    pipeline = config.pipeline("shop")

    class StopsEarly(pipeline.source_cls):  # type: ignore[name-defined,misc]
        def sync(self, cursor: str | None) -> Iterator[SyncRecord]:
            yield from super().sync(cursor)
            yield SyncIncomplete("the platform's daily limit is used up")

    ledger = Ledger.open(config.state_url)
    try:
        now = datetime(2026, 3, 16, 11, 0, tzinfo=UTC)
        dry_run_pipeline(config, pipeline, ledger, date(2026, 3, 16), now=now)
        incomplete = replace(pipeline, source_cls=StopsEarly)
        summary = run_pipeline(config, incomplete, ledger, date(2026, 3, 16), now=now)
        assert summary.sync_incomplete is not None
        assert ledger.snapshots.history("shop") == []
    finally:
        ledger.close()
