"""Benchmark: a whole run (sync, plan, outbox, dispatch) of N emails to a local SMTP server.

Unlike ``dispatch_email.py`` (the channel alone), every message here goes through the ledger's
outbox: written, claimed (committed) before sending, marked sent with its receipt after; SQLite
in WAL mode with ``synchronous=FULL``. The SMTP server runs in its own process.

    .venv/bin/python bench/dispatch_pipeline.py [--count 10000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dunning.core.config import load_config  # noqa: E402
from dunning.core.ledger import Ledger  # noqa: E402
from dunning.core.progress import Progress  # noqa: E402
from dunning.core.runner import run_pipeline  # noqa: E402
from tests.smtp_server import SpoolServerProcess  # noqa: E402

AS_OF = date(2026, 3, 20)


class StageClock:
    """Records how long each stage of the run takes (implements the Progress protocol)."""

    def __init__(self) -> None:
        self.started: dict[str, float] = {}
        self.took: dict[str, float] = {}
        self.current: str | None = None

    def begin(self, label: str, total: int | None = None) -> None:
        self.current = label.split(": ", 1)[1].split()[0]
        self.started[self.current] = time.perf_counter()

    def advance(self, amount: int = 1) -> None:
        pass

    def end(self) -> None:
        if self.current:
            self.took[self.current] = time.perf_counter() - self.started[self.current]


def write_portfolio(folder: Path, count: int) -> None:
    lines = [
        "factuurnummer;debiteurnummer;debiteur;contactpersoon;email;factuurdatum;vervaldatum;bedrag"
    ]
    lines += [
        f"B-{n:06d};D{n:06d};Klant {n} B.V.;Anna Klant;anna{n}@example.nl;01-02-2026;"
        f"03-03-2026;{100 + n % 900},50"
        for n in range(count)
    ]
    (folder / "invoices.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        folder = Path(work)
        write_portfolio(folder, args.count)
        with SpoolServerProcess(folder / "spool") as server:
            (folder / "pipelines.yaml").write_text(
                f"""
pipelines:
  bench:
    creditor: {{name: Bench B.V., iban: NL91ABNA0417164300}}
    source: {{type: csv, path: invoices.csv}}
    channels:
      email:
        type: email
        delivery: smtp
        from_address: debiteuren@example.nl
        smtp: {{host: 127.0.0.1, port: {server.port}, security: none}}
    steps:
      - {{name: friendly-reminder, after_due: 3, channel: email, template: friendly-reminder}}
""",
                encoding="utf-8",
            )
            config = load_config(folder / "pipelines.yaml")
            ledger = Ledger.open(config.state_url)
            clock = StageClock()
            progress: Progress = clock
            started = time.perf_counter()
            summary = run_pipeline(config, config.pipeline("bench"), ledger, AS_OF, progress)
            total = time.perf_counter() - started
            ledger.close()
            deadline = time.monotonic() + 60
            while server.count() < summary.sent and time.monotonic() < deadline:
                time.sleep(0.05)
            received = server.count()
    sending = clock.took.get("sending", float("nan"))
    print(f"messages sent:         {summary.sent} (server received {received})")
    print(f"sync of {args.count} rows:  {clock.took.get('syncing', float('nan')):.2f} s")
    print(f"dispatch (ledger+SMTP): {sending:.2f} s = {summary.sent / sending:.0f} messages/s")
    print(f"whole run:             {total:.2f} s = {summary.sent / total:.0f} messages/s")


if __name__ == "__main__":
    main()
