"""Benchmark: the first Exact Online sync of 50,000 receivables under the minutely limit, scaled.

The local fake (``dunning.plugins.exact.fake``) enforces Exact's 60 calls a minute per division,
with the minute shrunk by ``--time-scale`` (default 0.25: 15 s) so the benchmark takes seconds;
the source is told the same scaled minute (``rate_window_seconds``). It syncs through the engine
into a real SQLite ledger with tokens from the fake stored in it, then syncs again with nothing
changed.

The minimum number of calls is one ``current/Me`` (no division is configured) and the pages of
the sync endpoints, 1000 rows each: ``sync/CRM/Accounts``, ``sync/CRM/Contacts``,
``sync/Cashflow/PaymentTerms`` (payables included: the endpoint has no filter on them) and one
``sync/Deleted``. 50,000 seeded receivables (about 52,000 terms once part-payments split some)
need 75 calls: a little more than one minute's allowance.

The share of the allowed rate is measured over the requests: from the start of the sync until
its last answer (the source reads every page before it yields a record), against the fastest
legal schedule for that many calls, ``(ceil(calls / 60) - 1)`` minutes. That is the figure the
pacing decides. Applying and storing the records afterwards takes a few seconds of CPU that a
scaled minute does not shrink; the share over the whole sync is printed beside it for
information (with Exact's real minute, ``--time-scale 1``, the two nearly agree). The default
minute of 15 s (``--time-scale 0.25``) keeps the server's own time per call (about 25 ms) small
beside the minute, as it is at Exact. Below 61 calls (``--quick``) no wait is needed and there
is no rate to measure.

Printed: receivables in the fake, records stored, calls made against the minimum, time, share
of the allowed rate, 429s received, the idle sync's calls and time, and the stored cursor's
size (the exact source keeps every open invoice, its account and main contact in it).
Goals: >= 90 % of the allowed rate, zero 429s, calls <= minimum + 2. Exit 1 when one is missed.

    .venv/bin/python bench/sync_exact.py [--receivables 50000] [--time-scale 0.25] [--quick]
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from dunning.core.config import load_config
from dunning.core.ledger import Ledger
from dunning.core.ledger.tokens import TokenPair
from dunning.core.progress import NoProgress
from dunning.core.runner import make_source
from dunning.core.source import SyncRecord
from dunning.core.summary import RunSummary
from dunning.core.sync import sync_source
from dunning.plugins.exact.fake import FakeExact

LIMIT, WINDOW, PAGE = 60, 60.0, 1000
RECEIVABLE = 20


def _noting_first_record(
    sync: Callable[[str | None], Iterator[SyncRecord]], moments: list[float]
) -> Callable[[str | None], Iterator[SyncRecord]]:
    """``sync``, noting when its first record comes: the exact source makes every call of a first
    sync before it yields anything, so that moment ends the reading."""

    def noted(cursor: str | None) -> Iterator[SyncRecord]:
        for record in sync(cursor):
            if not moments:
                moments.append(time.perf_counter())
            yield record

    return noted


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--receivables", type=int, default=50_000)
    parser.add_argument("--time-scale", type=float, default=0.25)
    parser.add_argument("--quick", action="store_true", help="5,000 receivables")
    args = parser.parse_args(argv)
    count = 5_000 if args.quick else args.receivables
    window = WINDOW * args.time_scale
    today = date.today()
    fake = FakeExact(
        "bench-client", "bench-secret", minutely_limit=LIMIT, time_scale=args.time_scale
    )
    with fake, tempfile.TemporaryDirectory() as tmp:
        fake.seed(count, rng_seed=7)
        division = fake.store.divisions[fake.division]
        terms = len(division.terms)
        receivables = [t for t in division.terms if t.line_type == RECEIVABLE]
        open_terms = sum(1 for t in receivables if t.is_open)
        accounts, contacts = len(division.accounts), len(division.contacts)
        pages = [terms, accounts, contacts]
        minimum = sum(math.ceil(n / PAGE) or 1 for n in pages) + 1 + 1  # + Deleted, current/Me
        folder = Path(tmp)
        (folder / "pipelines.yaml").write_text(
            "pipelines:\n  bench:\n    creditor: {name: Bench B.V.}\n"
            "    source:\n      type: exact\n"
            f"      client_id: {fake.client_id}\n"
            f"      client_secret: {fake.client_secret}\n"
            f"      base_url: {fake.base_url}\n"
            f"      rate_window_seconds: {window}\n"
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
            access, refresh = fake.issue_tokens()
            with ledger.tokens.locked("default", "exact") as held:
                held.save(TokenPair(access, refresh, datetime.now(UTC) + timedelta(seconds=600)))
            fake.clear_log()
            read: list[float] = []
            started = time.perf_counter()
            run_id, _ = ledger.runs.start("bench", today)
            summary = RunSummary(pipeline="bench", as_of=today)
            source = make_source(config, pipeline, ledger)
            source.sync = _noting_first_record(source.sync, read)  # type: ignore[method-assign]
            sync_source(source, ledger, "bench", run_id, summary, NoProgress())
            ledger.runs.finish(run_id, "completed", {})
            elapsed = time.perf_counter() - started
            reading = (read[0] if read else time.perf_counter()) - started
            first = list(fake.log)
            fake.clear_log()
            idle_started = time.perf_counter()
            run_id, _ = ledger.runs.start("bench", today)
            idle_summary = RunSummary(pipeline="bench", as_of=today)
            sync_source(make_source(config, pipeline, ledger), ledger, "bench", run_id,
                        idle_summary, NoProgress())  # fmt: skip
            ledger.runs.finish(run_id, "completed", {})
            idle_elapsed = time.perf_counter() - idle_started
            idle = list(fake.log)
            cursor = ledger.invoices.cursor("bench") or ""
        finally:
            ledger.close()
    calls = len(first)
    throttled = sum(1 for r in first + idle if r.status == 429)
    fastest = (math.ceil(calls / LIMIT) - 1) * window
    share = None if fastest == 0 else min(fastest / reading, 1.0)
    whole = None if fastest == 0 else min(fastest / elapsed, 1.0)
    print(f"receivables in the fake:   {len(receivables):,} terms ({open_terms:,} open), "
          f"{terms - len(receivables)} payable terms, {accounts:,} accounts, "
          f"{contacts:,} contacts (seeded {count:,})")  # fmt: skip
    print(f"records stored:            {summary.synced_invoices:,} invoices, "
          f"{summary.synced_debtors:,} debtors, {summary.skipped_rows} rows skipped")  # fmt: skip
    print(f"calls made:                {calls} (minimum {minimum}; goal <= {minimum + 2})")
    print(f"time:                      {elapsed:.2f} s: calls {reading:.2f} s, then applying "
          f"and storing {elapsed - reading:.2f} s (minute scaled to {window:g} s, {LIMIT} "
          "calls each)")  # fmt: skip
    if share is None:
        print(f"share of the allowed rate: not applicable ({calls} calls fit in one minute's "
              "allowance: no wait is needed)")  # fmt: skip
    else:
        print(f"share of the allowed rate: {share:.1%} over the requests (goal >= 90%; "
              f"fastest legal {fastest:g} s = {math.ceil(calls / LIMIT) - 1} minute(s) of "
              f"waiting); {whole:.1%} over the whole sync, storing included")  # fmt: skip
    print(f"429s received:             {throttled} (goal 0)")
    print(f"idle second sync:          {len(idle)} call(s), {idle_elapsed:.2f} s, "
          f"{idle_summary.synced_invoices} invoices changed")  # fmt: skip
    print(f"stored cursor:             {len(cursor.encode()):,} bytes")
    missed = []
    if calls > minimum + 2:
        missed.append("calls")
    if share is not None and share < 0.9:
        missed.append("rate")
    if throttled:
        missed.append("429s")
    if missed:
        print(f"goals missed: {', '.join(missed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
