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
from tests.portfolio import overdue_rows, write_smtp_project  # noqa: E402
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        folder = Path(work)
        with SpoolServerProcess(folder / "spool") as server:
            path = write_smtp_project(folder, overdue_rows(args.count, "B-"), "bench", server.port)
            config = load_config(path)
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
