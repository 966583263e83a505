"""Crash safety: a run killed (SIGKILL) at random moments, many times, never sends twice.

A real SMTP server runs in its own process and spools every message it accepts. The pipeline is
killed mid-run again and again, then run to completion. Afterwards no message was received twice,
and every planned message is sent, failed (with a reason) or uncertain (reported): none is lost.
"""

from __future__ import annotations

import json
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.portfolio import overdue_rows, write_smtp_project
from tests.smtp_server import SpoolServerProcess, read_spool

DEBTORS = 400
AS_OF = "2026-03-20"
KILLS = 15

pytestmark = pytest.mark.slow


def dunning(*args: str) -> list[str]:
    return [sys.executable, "-m", "dunning.core.cli", *args]


def received_keys(spool: Path) -> Counter[str]:
    return Counter(str(message.key) for message in read_spool(spool))


def wait_for_more_mail(
    server: SpoolServerProcess,
    run: subprocess.Popen[bytes],
    more: int,
) -> None:
    """Block until the server has ``more`` new messages, or the run has ended."""
    target = server.count() + more
    deadline = time.monotonic() + 60
    while server.count() < target and run.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)


def test_killed_runs_never_send_twice_and_lose_nothing(tmp_path: Path):
    spool = tmp_path / "spool"
    spool.mkdir()
    rng = random.Random(20261123)
    killed = 0
    with SpoolServerProcess(spool) as server:
        config = write_smtp_project(tmp_path, overdue_rows(DEBTORS), "crash", server.port)
        for _ in range(KILLS):
            run = subprocess.Popen(
                dunning("run", "--config", str(config), "--date", AS_OF, "--quiet"),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            if rng.random() < 0.25:
                time.sleep(rng.uniform(0.05, 1.0))  # while starting, syncing or planning
            else:
                wait_for_more_mail(server, run, rng.randint(1, 30))  # in the middle of sending
            if run.poll() is None:
                run.send_signal(signal.SIGKILL)
                killed += 1
            run.wait()
        final = subprocess.run(
            dunning("run", "--config", str(config), "--date", AS_OF, "--json", "--quiet"),
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert final.returncode in (0, 1), final.stderr
        status = json.loads(
            subprocess.run(
                dunning("status", "--config", str(config), "--json"),
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )

    assert killed >= KILLS // 2, "the runs finished before they could be killed; raise DEBTORS"
    received = received_keys(spool)
    assert received, "nothing reached the SMTP server"
    assert [key for key, count in received.items() if count > 1] == []

    with sqlite3.connect(tmp_path / "dunning.db") as ledger:
        states = dict(ledger.execute("select state, count(*) from messages group by state"))
        sent_keys = {
            k
            for (k,) in ledger.execute("select idempotency_key from messages where state = 'sent'")
        }
        unresolved = {
            k
            for (k,) in ledger.execute(
                "select idempotency_key from messages where state in ('sent', 'uncertain')"
            )
        }
        failed_without_reason = ledger.execute(
            "select count(*) from messages where state = 'failed' and reason is null"
        ).fetchone()[0]
        per_debtor = ledger.execute(
            "select count(distinct debtor_id), count(*) from messages"
        ).fetchone()
    print(f"killed {killed} runs; received {len(received)}; ledger states {states}")
    assert set(states) <= {"sent", "failed", "uncertain"}, states
    assert per_debtor == (DEBTORS, DEBTORS), "every debtor has exactly one message"
    assert sum(states.values()) == DEBTORS
    assert failed_without_reason == 0
    assert sent_keys <= set(received), "a message marked sent never arrived"
    assert set(received) <= unresolved, "a message arrived that the ledger does not account for"
    assert status["messages"]["uncertain"] == states.get("uncertain", 0)
    assert len(status["uncertain"]) == states.get("uncertain", 0)
