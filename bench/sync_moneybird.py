"""Benchmark: the first Moneybird sync of 20,000 invoices under the real rate limit, time scaled.

The local fake (``dunning.plugins.moneybird.fake``) enforces Moneybird's 150 requests per 5
minutes, with the window shrunk by ``--time-scale`` (default 0.1: 30 s) so the benchmark takes
seconds rather than minutes; the source is told the same scaled window. It syncs through the
engine into a real SQLite ledger, then syncs again with nothing changed.

Printed: calls made against the minimum needed (one synchronization GET per resource and one
POST per 100 invoices; an invoice carries its contact, so contacts need no POST of their own),
the share of the allowed request rate achieved (the fastest legal schedule for that many calls
against the time it took), and the 429s received.
Goals: >= 90 % of the allowed rate, zero 429s, calls <= minimum + 2. Exit 1 when one is missed.

    .venv/bin/python bench/sync_moneybird.py [--invoices 20000] [--time-scale 0.1] [--quick]
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from dunning.core.config import load_config
from dunning.core.ledger import Ledger
from dunning.core.progress import NoProgress
from dunning.core.runner import make_source
from dunning.core.summary import RunSummary
from dunning.core.sync import sync_source
from dunning.plugins.moneybird.fake import FakeMoneybird

LIMIT, WINDOW = 150, 300.0
SYNCED_STATES = {"open", "late", "reminded", "paid", "uncollectible"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=20_000)
    parser.add_argument("--time-scale", type=float, default=0.1)
    parser.add_argument("--quick", action="store_true", help="2,000 invoices")
    args = parser.parse_args(argv)
    count = 2_000 if args.quick else args.invoices
    window = WINDOW * args.time_scale
    today = date(2026, 11, 23)
    fake = FakeMoneybird(
        "bench-token", today=today, limit=LIMIT, window_seconds=WINDOW, time_scale=args.time_scale
    )
    with fake, tempfile.TemporaryDirectory() as tmp:
        fake.seed(count, rng_seed=7)
        store = fake.store
        invoices = sum(1 for i in store.invoices.values() if i.state in SYNCED_STATES)
        contacts = len(store.contacts)
        minimum = 2 + math.ceil(invoices / 100)
        folder = Path(tmp)
        (folder / "pipelines.yaml").write_text(
            "pipelines:\n  bench:\n    creditor: {name: Bench B.V.}\n"
            "    source:\n      type: moneybird\n"
            f"      administration_id: '{fake.administration_id}'\n"
            "      token: bench-token\n"
            f"      base_url: {fake.base_url}\n"
            f"      window_seconds: {window}\n"
            "    channels:\n"
            "      email: {type: email, delivery: file, folder: mail, from_address: a@b.nl}\n"
            "    steps:\n"
            "      - {name: reminder, after_due: 3, channel: email, template: friendly-reminder}\n",
            encoding="utf-8",
        )
        config = load_config(folder / "pipelines.yaml")
        pipeline = config.pipeline("bench")
        ledger = Ledger.open(f"sqlite:///{folder / 'bench.db'}")
        try:
            fake.clear_log()
            started = time.perf_counter()
            run_id, _ = ledger.runs.start("bench", today)
            summary = RunSummary(pipeline="bench", as_of=today)
            sync_source(make_source(config, pipeline), ledger, "bench", run_id, summary,
                        NoProgress())  # fmt: skip
            ledger.runs.finish(run_id, "completed", {})
            elapsed = time.perf_counter() - started
            first = list(fake.log)
            fake.clear_log()
            run_id, _ = ledger.runs.start("bench", today)
            sync_source(make_source(config, pipeline), ledger, "bench", run_id,
                        RunSummary(pipeline="bench", as_of=today), NoProgress())  # fmt: skip
            ledger.runs.finish(run_id, "completed", {})
            idle = list(fake.log)
        finally:
            ledger.close()
    calls = len(first)
    throttled = sum(1 for r in first if r.status == 429)
    fastest = (math.ceil(calls / LIMIT) - 1) * window
    share = 1.0 if fastest == 0 else min(fastest / elapsed, 1.0)
    print(
        f"invoices in the fake:     {count:,} ({invoices:,} synced states, {contacts:,} contacts)"
    )
    print(f"records stored:           {summary.synced_invoices:,} invoices, "
          f"{summary.synced_debtors:,} debtors")  # fmt: skip
    print(f"calls made:               {calls} (minimum {minimum}; goal <= {minimum + 2})")
    print(f"time:                     {elapsed:.2f} s (window {window:g} s, {LIMIT} calls each)")
    print(f"share of the allowed rate: {share:.1%} (goal >= 90%; fastest legal {fastest:.2f} s)")
    print(f"429s received:            {throttled} (goal 0)")
    print(f"idle second sync:         {len(idle)} call(s)")
    missed = []
    if calls > minimum + 2:
        missed.append("calls")
    if share < 0.9:
        missed.append("rate")
    if throttled:
        missed.append("429s")
    if missed:
        print(f"goals missed: {', '.join(missed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
