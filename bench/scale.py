"""Benchmark: 200 pipelines on PostgreSQL, run by 1, 2 and 4 ``dunning worker`` processes.

A throwaway PostgreSQL server is started (``dunning.core.testing.postgres``). For each number of
workers a fresh database holds the ledger and procrastinate's queue; 200 pipelines (CSV sources
of ``--debtors`` overdue debtors each, email written to files) are queued with ``dunning defer``,
then that many ``dunning worker --once`` processes work the queue off.

Printed per worker count: the total time from the first worker's start to the last one's end,
pipelines per second, the mean time inside a run (the ledger's run log: sync, plan, send,
write back) and the per-pipeline overhead: worker time spent outside runs (process start, job
fetch, loading pipelines.yaml, opening the ledger), ``(total x workers - time in runs) / 200``.
Every pipeline must have run exactly once, every message been written once; exit 1 otherwise.

    .venv/bin/python bench/scale.py [--pipelines 200] [--debtors 10] [--workers 1,2,4]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, text

from dunning.core.ledger import Ledger
from dunning.core.testing.postgres import PostgresServer, server_binaries

HEADER = (
    "factuurnummer;debiteurnummer;debiteur;contactpersoon;email;factuurdatum;vervaldatum;bedrag"
)
STEP = "{name: friendly-reminder, after_due: 3, channel: email, template: friendly-reminder}"
AS_OF = "2026-03-20"


def dunning(*args: str) -> list[str]:
    return [sys.executable, "-m", "dunning.core.cli", *args]


def write_project(folder: Path, state: str, pipelines: int, debtors: int) -> Path:
    body = f"state: {state}\npipelines:\n"
    for index in range(pipelines):
        name = f"client{index:03d}"
        rows = [
            f"{name}-{n:05d};D{n:05d};Klant {n} B.V.;Anna Klant;anna{n}@example.nl;01-02-2026;"
            f"03-03-2026;{100 + n},50"
            for n in range(debtors)
        ]
        (folder / f"{name}.csv").write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
        body += (
            f"  {name}:\n"
            "    creditor: {name: Test B.V., iban: NL91ABNA0417164300}\n"
            f"    source: {{type: csv, path: {name}.csv}}\n"
            "    calendar: {business_days_only: false, quiet_channels: []}\n"
            "    channels:\n"
            f"      email: {{type: email, delivery: file, folder: mail/{name}, "
            "from_address: a@example.nl}\n"
            f"    steps:\n      - {STEP}\n"
        )
    config = folder / "pipelines.yaml"
    config.write_text(body, encoding="utf-8")
    return config


def one_round(
    server: PostgresServer, workers: int, pipelines: int, debtors: int
) -> dict[str, float]:
    folder = Path(tempfile.mkdtemp(prefix="dunning-scale-"))
    try:
        url = server.create_database()
        config = write_project(folder, url, pipelines, debtors)
        Ledger.open(url).close()  # migrated before the workers race for it
        deferred = subprocess.run(
            dunning("defer", "--config", str(config), "--date", AS_OF),
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        assert deferred.stdout.count(": job ") == pipelines, deferred.stdout
        started = time.perf_counter()
        running = [
            subprocess.Popen(
                dunning("worker", "--config", str(config), "--once"),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(workers)
        ]
        for process in running:
            _, err = process.communicate()
            if process.returncode != 0:
                raise SystemExit(f"a worker failed: {err.strip()[-500:]}")
        total = time.perf_counter() - started
        engine = create_engine(url)
        with engine.connect() as connection:
            runs = connection.execute(
                text(
                    "select pipeline, extract(epoch from finished_at - started_at) from runs "
                    "where status = 'completed'"
                )
            ).all()
            sent = connection.execute(
                text("select count(*) from messages where state = 'sent'")
            ).scalar_one()
        engine.dispose()
        files = sum(1 for _ in (folder / "mail").rglob("*.eml"))
        in_runs = sum(float(seconds) for _, seconds in runs)
        ok = (
            len(runs) == pipelines
            and len({name for name, _ in runs}) == pipelines
            and sent == files == pipelines * debtors
        )
        return {
            "total": total,
            "runs": len(runs),
            "sent": sent,
            "files": files,
            "in_runs": in_runs,
            "ok": float(ok),
        }
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pipelines", type=int, default=200)
    parser.add_argument("--debtors", type=int, default=10)
    parser.add_argument("--workers", default="1,2,4")
    args = parser.parse_args(argv)
    binaries = server_binaries()
    if binaries is None:
        raise SystemExit("no PostgreSQL server binaries under /usr/lib/postgresql")
    folder = Path(tempfile.mkdtemp(prefix="dunning-scale-pg-"))
    server = PostgresServer(binaries, folder)
    server.start()
    failed = False
    try:
        print(f"{args.pipelines} pipelines x {args.debtors} debtors, {os.cpu_count()} CPUs")
        print("workers  total s  pipelines/s  mean run s  overhead/pipeline s  check")
        for workers in (int(w) for w in args.workers.split(",")):
            figures = one_round(server, workers, args.pipelines, args.debtors)
            overhead = (figures["total"] * workers - figures["in_runs"]) / args.pipelines
            ok = figures["ok"] == 1.0
            failed |= not ok
            rate = args.pipelines / figures["total"]
            print(
                f"{workers:>7}  {figures['total']:>7.1f}  {rate:>11.1f}"
                f"  {figures['in_runs'] / args.pipelines:>10.3f}  {overhead:>19.3f}  "
                f"{'ok' if ok else 'MISMATCH'} ({int(figures['runs'])} runs, "
                f"{int(figures['sent'])} sent)"
            )
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
