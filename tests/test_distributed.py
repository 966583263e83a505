"""Distributed mode on a real PostgreSQL: pipelines deferred as procrastinate jobs and carried
out by several ``dunning worker`` processes, also while workers are killed."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.portfolio import FRIENDLY, HEADER, overdue_rows
from tests.smtp_server import SpoolServerProcess, read_spool

AS_OF = "2026-03-20"


def dunning(*args: str) -> list[str]:
    return [sys.executable, "-m", "dunning.core.cli", *args]


def write_pipelines(folder: Path, state: str, count: int, debtors: int, smtp_port: int) -> Path:
    """``count`` pipelines, each with its own CSV of ``debtors`` overdue debtors, mailing over
    SMTP to 127.0.0.1:``smtp_port``."""
    body = f"state: {state}\npipelines:\n"
    for index in range(count):
        name = f"client{index:02d}"
        rows = overdue_rows(debtors, prefix=f"{name}-")
        (folder / f"{name}.csv").write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
        body += (
            f"  {name}:\n"
            "    creditor: {name: Test B.V., iban: NL91ABNA0417164300}\n"
            f"    source: {{type: csv, path: {name}.csv}}\n"
            "    channels:\n"
            "      email:\n"
            "        type: email\n"
            "        delivery: smtp\n"
            "        from_address: debiteuren@example.nl\n"
            f"        smtp: {{host: 127.0.0.1, port: {smtp_port}, security: none, timeout: 10}}\n"
            "    steps:\n"
            f"      - {FRIENDLY}\n"
        )
    config = folder / "pipelines.yaml"
    config.write_text(body, encoding="utf-8")
    return config


def run_cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(dunning(*args), capture_output=True, text=True, timeout=timeout)


def ledger_rows(url: str, query: str) -> list[tuple[object, ...]]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(query))]
    finally:
        engine.dispose()


def test_two_workers_share_a_dozen_pipelines_each_run_once(
    tmp_path: Path, postgres_url: str
) -> None:
    spool = tmp_path / "spool"
    spool.mkdir()
    with SpoolServerProcess(spool) as server:
        config = write_pipelines(tmp_path, postgres_url, 12, 20, server.port)
        deferred = run_cli("defer", "--config", str(config), "--date", AS_OF)
        assert deferred.returncode == 0, deferred.stderr
        assert deferred.stdout.count(": job ") == 12
        again = run_cli("defer", "--config", str(config), "--date", AS_OF)
        assert again.stdout.count("already waiting") == 12  # one waiting job per pipeline
        workers = [
            subprocess.Popen(
                dunning("worker", "--config", str(config), "--once", "--concurrency", "2"),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        for process in workers:
            _, err = process.communicate(timeout=300)
            assert process.returncode == 0, err
    received = Counter(str(m.key) for m in read_spool(spool))
    assert len(received) == 12 * 20 and max(received.values()) == 1
    runs = ledger_rows(
        postgres_url, "select pipeline, status, started_at, finished_at from runs order by id"
    )
    assert Counter(r[0] for r in runs) == {f"client{i:02d}": 1 for i in range(12)}
    assert {r[1] for r in runs} == {"completed"}
    left = ledger_rows(postgres_url, "select count(*) from procrastinate_jobs")
    assert left == [(0,)]  # done jobs are deleted


@pytest.mark.slow
def test_killed_workers_never_send_twice_and_lose_nothing(
    tmp_path: Path, postgres_url: str
) -> None:
    """The spine's crash test on PostgreSQL with two workers at once: workers are killed
    (SIGKILL) at random moments again and again, then the queue is worked off. No message
    arrives twice; every planned message is sent, failed with a reason or uncertain."""
    pipelines, debtors, rounds = 4, 80, 6
    spool = tmp_path / "spool"
    spool.mkdir()
    rng = random.Random(20261123)
    killed = 0
    worker_args = ("--heartbeat", "0.5", "--stalled-after", "2")
    with SpoolServerProcess(spool) as server:
        config = write_pipelines(tmp_path, postgres_url, pipelines, debtors, server.port)
        for _ in range(rounds):
            run_cli("defer", "--config", str(config), "--date", AS_OF)
            workers = [
                subprocess.Popen(
                    dunning("worker", "--config", str(config), "--concurrency", "2", *worker_args),
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                for _ in range(2)
            ]
            target = server.count() + rng.randint(5, 60)
            deadline = time.monotonic() + 10
            while server.count() < target and time.monotonic() < deadline:
                time.sleep(0.01)
            for process in workers:
                if rng.random() < 0.7:
                    process.send_signal(signal.SIGKILL)
                    killed += 1
                else:
                    process.send_signal(signal.SIGTERM)  # a clean stop: finishes what it has
            for process in workers:
                process.wait(timeout=120)
        time.sleep(2.5)  # the killed workers' heartbeats go stale: their jobs come back
        run_cli("defer", "--config", str(config), "--date", AS_OF)
        final = run_cli("worker", "--config", str(config), "--once", *worker_args)
        assert final.returncode == 0, final.stderr
        status = json.loads(run_cli("status", "--config", str(config), "--json").stdout)
    assert killed >= rounds // 2
    received = Counter(str(m.key) for m in read_spool(spool))
    assert received and [key for key, count in received.items() if count > 1] == []
    states = dict(ledger_rows(postgres_url, "select state, count(*) from messages group by state"))
    sent = {k for (k,) in ledger_rows(postgres_url, "select idempotency_key from messages "
                                      "where state = 'sent'")}  # fmt: skip
    accounted = {k for (k,) in ledger_rows(postgres_url, "select idempotency_key from messages "
                                           "where state in ('sent', 'uncertain')")}  # fmt: skip
    failed_without_reason = ledger_rows(
        postgres_url, "select count(*) from messages where state = 'failed' and reason is null"
    )
    print(f"killed {killed} workers; received {len(received)}; ledger states {states}")
    assert set(states) <= {"sent", "failed", "uncertain"}, states
    assert sum(states.values()) == pipelines * debtors
    assert failed_without_reason == [(0,)]
    assert sent <= set(received), "a message marked sent never arrived"
    assert set(received) <= accounted, "a message arrived that the ledger does not account for"
    assert status["messages"]["uncertain"] == states.get("uncertain", 0)


def test_serve_distributed_only_schedules_and_workers_run(
    tmp_path: Path, postgres_url: str
) -> None:
    """``dunning serve --distributed`` queues each due run (here: --run-now) and runs nothing
    itself; a worker then carries the runs out."""
    spool = tmp_path / "spool"
    spool.mkdir()
    with SpoolServerProcess(spool) as server:
        config = write_pipelines(tmp_path, postgres_url, 3, 4, server.port)
        serving = subprocess.Popen(
            dunning("serve", "--config", str(config), "--distributed", "--run-now",
                    "--tick", "0.1"),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        queued: list[tuple[object, ...]] = []
        while time.monotonic() < deadline:
            try:
                queued = ledger_rows(
                    postgres_url, "select lock from procrastinate_jobs where status = 'todo'"
                )
            except Exception:  # the tables are made by serve at its start
                queued = []
            if len(queued) == 3:
                break
            time.sleep(0.2)
        serving.send_signal(signal.SIGTERM)
        _, err = serving.communicate(timeout=60)
        assert serving.returncode == 0, err
        assert sorted(str(q[0]) for q in queued) == [f"pipeline:client{i:02d}" for i in range(3)]
        assert ledger_rows(postgres_url, "select count(*) from runs") == [(0,)]  # none here
        worked = run_cli("worker", "--config", str(config), "--once")
        assert worked.returncode == 0, worked.stderr
    assert ledger_rows(postgres_url, "select count(*) from runs where status = 'completed'") == [
        (3,)
    ]
