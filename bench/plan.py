"""Benchmark: plan a 6-step ladder over a million open invoices, against a bare SELECT of them.

Generates a ledger (a real SQLite file) of ``--invoices`` open invoices for ``--debtors`` debtors,
with paid invoices (payment behaviour, segments, thank-you notes), steps already sent for about
30% of the open invoices and a few hundred pauses. Then, in a child process so that generation
memory does not count, it times ``plan_pipeline`` (what ``dunning run`` plans, explain off) and a
bare SELECT of the same rows through SQLAlchemy Core (the same query, no objects built).

Goals: planning takes at most 3 times the SELECT, and the child's peak RSS stays at or below
1 GiB. The script exits 1, saying which goal was missed, when one is.

    .venv/bin/python bench/plan.py [--quick] [--invoices N] [--debtors N] [--keep ledger.db]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import Engine, Table, and_, func, select, text  # noqa: E402

from dunning.core.config import load_config  # noqa: E402
from dunning.core.ledger import Ledger  # noqa: E402
from dunning.core.ledger.schema import (  # noqa: E402
    debtors,
    invoices,
    message_items,
    messages,
    pauses,
)
from dunning.core.planning import plan_pipeline  # noqa: E402

PIPELINE = "bench"
TODAY = date(2026, 3, 18)
"""A Wednesday and a Dutch business day: with ``business_days_only`` the plan is not empty."""
NOW = datetime(2026, 3, 18, 9, 30, tzinfo=UTC)
"""The moment ``dunning run`` checks the send window against: inside the default 07:00-20:00."""
MAX_RATIO = 3.0
MAX_RSS_MIB = 1024
CHUNK = 50_000
SCENARIOS = {
    "daily": "the ledger as daily runs leave it: every step due before today was sent on its day",
    "catch-up": "30% of open invoices have some history, the rest none: a first run catching up",
}
CONSUMER_SHARE = 0.20
PAUSE_SHARE = 0.002
PAID_PER_OPEN = 0.5
PAYMENT_HABITS = ((-10, 0), (-10, 0), (-3, 6), (0, 30), (10, 90))
"""Days paid after the due date (from, to) per debtor: punctual (twice as common), slightly late,
late, very late."""

CONFIG = """\
version: 1
state: "sqlite:///{db}"
pipelines:
  bench:
    creditor: {{name: Bench B.V., iban: NL91ABNA0417164300}}
    source: {{type: csv, path: invoices.csv}}
    channels:
      email: {{type: email, delivery: file, folder: out/mail,
               from_address: debiteuren@example.nl}}
    calendar: {{country: NL, business_days_only: true}}
    contact: {{min_days_between: 2}}
    thank_you: {{channel: email}}
    steps:
      - {{name: courtesy-reminder, before_due: 3, channel: email, template: courtesy-reminder}}
      - {{name: friendly-reminder, after_due: 3, channel: email, template: friendly-reminder}}
      - {{name: second-reminder, after_previous: 7, channel: email, template: second-reminder}}
      - {{name: third-reminder, after_previous: 5, delays_in: business, channel: email,
          template: second-reminder}}
      - {{name: final-reminder, after_previous: 10, channel: email, template: final-reminder,
          when: {{min_open: 50}}}}
      - {{name: final-demand, after_previous: 14, channel: email, template: final-demand,
          when: {{debtor_kind: consumer}}}}
"""
LADDER = (
    ("courtesy-reminder", -3),
    ("friendly-reminder", 3),
    ("second-reminder", 7),
    ("third-reminder", 7),
    ("final-reminder", 10),
    ("final-demand", 14),
)
"""Step names and (calendar) days after the previous step, for the generated history."""
STEP_INDEX = {name: index for index, (name, _) in enumerate(LADDER)}


class Writer:
    """Buffers generated rows per table and inserts them in chunks, one transaction each.

    Every buffer is flushed when one is full, parents first, so foreign keys always hold."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.buffers: dict[str, list[dict[str, Any]]] = {}
        self.tables: dict[str, Table] = {}
        self.counts: Counter[str] = Counter()

    def add(self, table: Table, row: dict[str, Any]) -> None:
        buffer = self.buffers.setdefault(table.name, [])
        self.tables[table.name] = table
        buffer.append(row)
        if len(buffer) >= CHUNK:
            self.flush()

    def flush(self) -> None:
        with self.engine.begin() as connection:
            for name, rows in self.buffers.items():
                if rows:
                    connection.execute(self.tables[name].insert(), rows)
                    self.counts[name] += len(rows)
        self.buffers = {name: [] for name in self.buffers}


def _spread(rng: random.Random, count: int, debtor_count: int, minimum: int) -> list[int]:
    """``count`` invoices over the debtors, each at least ``minimum``, a few with very many."""
    weights = [rng.paretovariate(1.5) for _ in range(debtor_count)]
    per_debtor = [minimum] * debtor_count
    extra = count - minimum * debtor_count
    for index in rng.choices(range(debtor_count), weights=weights, k=extra):
        per_debtor[index] += 1
    return per_debtor


def _history(rng: random.Random, due: date, scenario: str) -> list[tuple[str, date]]:
    """Steps already sent for an invoice due on ``due``: a prefix of the ladder, before today
    (all of it in the ``daily`` scenario, a random part of it for 30% of invoices otherwise)."""
    day = due
    eligible: list[tuple[str, date]] = []
    for index, (name, delay) in enumerate(LADDER):
        day = due + timedelta(days=delay) if index < 2 else day + timedelta(days=delay)
        if day >= TODAY:
            break
        eligible.append((name, day))
    if scenario == "daily":
        return eligible
    if eligible and rng.random() < 0.30:
        return eligible[: rng.randint(1, len(eligible))]
    return []


def generate(
    url: str, invoice_count: int, debtor_count: int, scenario: str, seed: int = 20260318
) -> None:
    """Fill the ledger at ``url`` with a portfolio (deterministic for a given seed)."""
    rng = random.Random(seed)
    ledger = Ledger.open(url)
    writer = Writer(ledger.engine)
    now = datetime.now(UTC)
    per_debtor = _spread(rng, invoice_count, debtor_count, 1)
    paid_per_debtor = _spread(rng, int(invoice_count * PAID_PER_OPEN), debtor_count, 0)
    number = 0
    message_id = 0
    for d in range(debtor_count):
        debtor_id = f"D{d:07d}"
        consumer = rng.random() < CONSUMER_SHARE
        country = rng.choices(["NL", "BE", "DE", None], weights=[70, 15, 5, 10])[0]
        writer.add(
            debtors,
            {
                "pipeline": PIPELINE,
                "debtor_id": debtor_id,
                "name": f"Klant {d}" if consumer else f"Klant {d} B.V.",
                "contact_name": "Anna de Vries",
                "first_name": "Anna",
                "email": f"debtor{d}@example.nl",
                "phone": None,
                "language": "nl" if country != "DE" else "en",
                "kind": "consumer" if consumer else "business",
                "synced_at": now,
                "tags": "vip" if rng.random() < 0.02 else "",
                "country": country,
                "timezone": None,
            },
        )
        early, late = rng.choice(PAYMENT_HABITS)
        for _ in range(paid_per_debtor[d]):
            number += 1
            due = TODAY - timedelta(days=rng.randint(-10, 365))
            paid_on = min(TODAY, due + timedelta(days=rng.randint(early, late)))
            amount = rng.randint(1000, 500_000)
            writer.add(
                invoices,
                _invoice_row(f"P{number:08d}", debtor_id, due, amount, 0, now, paid_on=paid_on),
            )
        sent: dict[date, list[tuple[str, str, int]]] = {}
        paused: list[tuple[str, int]] = []
        for _ in range(per_debtor[d]):
            number += 1
            invoice_number = f"F{number:08d}"
            due = TODAY + timedelta(days=rng.randint(-120, 20))
            total = rng.randint(1000, 500_000)
            open_cents = total if rng.random() < 0.85 else rng.randint(100, total)
            row = _invoice_row(invoice_number, debtor_id, due, total, open_cents, now)
            if rng.random() < 0.05:
                row["tags"] = "project retention"
            if rng.random() < 0.03:
                row["discount_percent"], row["discount_days"] = "2", 14
            history = _history(rng, due, scenario)
            if history:
                # What Outbox.add keeps on the invoice: its latest step and that step's day.
                row["ladder_step"], row["ladder_day"] = history[-1]
            writer.add(invoices, row)
            for step, day in history:
                sent.setdefault(day, []).append((invoice_number, step, open_cents))
            if due < TODAY - timedelta(days=10) and len(paused) < 3:
                paused.append((invoice_number, open_cents))
        for day, items in sorted(sent.items()):
            message_id += 1
            severest = max((step for _, step, _ in items), key=STEP_INDEX.__getitem__)
            writer.add(messages, _message_row(message_id, debtor_id, day, severest, now))
            for invoice_number, step, open_cents in items:
                writer.add(
                    message_items,
                    {
                        "message_id": message_id,
                        "pipeline": PIPELINE,
                        "invoice_number": invoice_number,
                        "step": step,
                        "item_key": f"{PIPELINE}:{invoice_number}:{step}",
                        "amount_open_cents": open_cents,
                    },
                )
        if paused and rng.random() < PAUSE_SHARE:
            writer.add(pauses, _pause_row(rng, debtor_id, paused, now))
    writer.flush()
    with ledger.engine.begin() as connection:  # what Outbox.add keeps on the debtor
        connection.execute(
            text(
                "UPDATE debtors SET last_contact_day = (SELECT MAX(m.planned_for) FROM messages m"
                " WHERE m.pipeline = debtors.pipeline AND m.debtor_id = debtors.debtor_id)"
            )
        )
    ledger.close()
    print(
        "generated: "
        + ", ".join(f"{count:,} {table}" for table, count in sorted(writer.counts.items()))
    )


def _invoice_row(
    number: str,
    debtor_id: str,
    due: date,
    total: int,
    open_cents: int,
    now: datetime,
    paid_on: date | None = None,
) -> dict[str, Any]:
    return {
        "pipeline": PIPELINE,
        "number": number,
        "debtor_id": debtor_id,
        "issue_date": due - timedelta(days=30),
        "due_date": due,
        "amount_total_cents": total,
        "amount_open_cents": open_cents,
        "currency": "EUR",
        "payment_link": f"https://pay.example.nl/{number}",
        "is_credit_note": 0,
        "place": None,
        "in_source": 1,
        "last_sync_id": 1,
        "synced_at": now,
        "tags": "",
        "paid_on": paid_on,
        "days_late": (paid_on - due).days if paid_on else None,
        "discount_percent": None,
        "discount_days": None,
        "ladder_step": None,
        "ladder_day": None,
    }


def _message_row(
    message_id: int, debtor_id: str, day: date, step: str, now: datetime
) -> dict[str, Any]:
    return {
        "id": message_id,
        "pipeline": PIPELINE,
        "idempotency_key": f"{PIPELINE}:{debtor_id}:email:{day.isoformat()}",
        "debtor_id": debtor_id,
        "channel": "email",
        "step": step,
        "template": step,
        "planned_for": day,
        "state": "sent",
        "attempts": 1,
        "created_at": now,
        "updated_at": now,
        "kind": "step",
    }


def _pause_row(
    rng: random.Random, debtor_id: str, covered: list[tuple[str, int]], now: datetime
) -> dict[str, Any]:
    """An active promise to pay; some are past their day plus grace (the ladder resumes)."""
    starts_on = TODAY - timedelta(days=rng.randint(1, 20))
    return {
        "pipeline": PIPELINE,
        "debtor_id": debtor_id,
        "kind": "promise",
        "invoice_numbers": " ".join(n for n, _ in covered),
        "reason": "promised on the phone",
        "starts_on": starts_on,
        "until": starts_on + timedelta(days=rng.randint(3, 30)),
        "grace_days": 3,
        "open_at_start_cents": sum(cents for _, cents in covered),
        "status": "active",
        "created_by": "bench",
        "created_at": now,
    }


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _open_invoices(ordered: bool) -> Any:
    """The query ``InvoiceStore.dunnable`` runs (optionally without its ORDER BY)."""
    query = select(invoices).where(
        and_(
            invoices.c.pipeline == PIPELINE,
            invoices.c.in_source == 1,
            invoices.c.is_credit_note == 0,
            invoices.c.amount_total_cents > 0,
            invoices.c.amount_open_cents > 0,
        )
    )
    if ordered:
        query = query.order_by(invoices.c.debtor_id, invoices.c.due_date, invoices.c.number)
    return query


def _time_select(engine: Engine, ordered: bool) -> tuple[float, int]:
    started = time.perf_counter()
    rows = 0
    with engine.connect() as connection:
        for _row in connection.execute(_open_invoices(ordered)):
            rows += 1
    return time.perf_counter() - started, rows


def measure(config_path: Path, profile: bool) -> dict[str, Any]:
    """In the child: time the bare SELECT (best of two) and the plan; report peak RSS."""
    config = load_config(config_path)
    pipeline = config.pipeline(PIPELINE)
    ledger = Ledger.open(config.state_url)
    unordered_s, _ = min(_time_select(ledger.engine, ordered=False) for _ in range(2))
    select_s, rows = min(_time_select(ledger.engine, ordered=True) for _ in range(2))
    rss_before = _peak_rss_mib()
    profiler = cProfile.Profile() if profile else None
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    plan = plan_pipeline(ledger, pipeline, TODAY, now=NOW, explain=False)
    if profiler:
        profiler.disable()
    plan_s = time.perf_counter() - started
    peak = _peak_rss_mib()
    if profiler:
        stats = pstats.Stats(profiler, stream=sys.stderr)
        stats.sort_stats("tottime").print_stats(25)
        stats.sort_stats("cumulative").print_stats(30)
    with ledger.engine.connect() as connection:
        debtor_count = connection.execute(select(func.count()).select_from(debtors)).scalar_one()
    ledger.close()
    per_step: Counter[str] = Counter()
    items_per_step: Counter[str] = Counter()
    for message in plan.messages:
        per_step[message.step] += 1
        for item in message.items:
            items_per_step[item.step] += 1
    return {
        "rows": rows,
        "debtors": debtor_count,
        "select_s": select_s,
        "unordered_s": unordered_s,
        "plan_s": plan_s,
        "rss_before_mib": rss_before,
        "peak_rss_mib": peak,
        "messages": len(plan.messages),
        "not_planned": plan.not_planned,
        "per_step": dict(per_step),
        "items_per_step": dict(items_per_step),
    }


def report(figures: dict[str, Any]) -> list[str]:
    """Print the figures; return the goals missed."""
    ratio = figures["plan_s"] / figures["select_s"]
    peak = figures["peak_rss_mib"]
    print(f"open invoices:      {figures['rows']:,} of {figures['debtors']:,} debtors")
    print(
        f"bare SELECT:        {figures['select_s']:.2f} s (same query as the plan; "
        f"{figures['unordered_s']:.2f} s without ORDER BY)"
    )
    print(
        f"plan:               {figures['plan_s']:.2f} s "
        "(as `dunning run`: explain off, send window checked)"
    )
    print(f"ratio plan/select:  {ratio:.2f} (goal <= {MAX_RATIO:g})")
    print(
        f"peak RSS:           {peak:.0f} MiB (goal <= {MAX_RSS_MIB} MiB; planning child, "
        f"{figures['rss_before_mib']:.0f} MiB before planning)"
    )
    print(
        f"messages planned:   {figures['messages']:,} "
        f"({figures['not_planned']:,} invoices get nothing today)"
    )
    steps = [name for name, _ in LADDER] + ["thank-you"]
    for step in steps:
        print(
            f"  {step:<18}  {figures['per_step'].get(step, 0):>9,} messages "
            f"{figures['items_per_step'].get(step, 0):>9,} invoices"
        )
    missed = []
    if ratio > MAX_RATIO:
        missed.append(f"ratio {ratio:.2f} is above {MAX_RATIO:g}")
    if peak > MAX_RSS_MIB:
        missed.append(f"peak RSS {peak:.0f} MiB is above {MAX_RSS_MIB} MiB")
    return missed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--debtors", type=int, default=200_000)
    parser.add_argument("--quick", action="store_true", help="100,000 invoices, 20,000 debtors")
    parser.add_argument("--keep", type=Path, help="ledger file to reuse (generated if missing)")
    parser.add_argument("--profile", action="store_true", help="cProfile the plan (to stderr)")
    parser.add_argument(
        "--scenario",
        choices=sorted(SCENARIOS),
        default="daily",
        help="; ".join(f"{name}: {text}" for name, text in SCENARIOS.items()),
    )
    parser.add_argument("--generate", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate:
        generate(f"sqlite:///{args.generate}", args.invoices, args.debtors, args.scenario)
        return
    if args.child:
        print(json.dumps(measure(args.child, args.profile)))
        return
    if args.quick:
        args.invoices, args.debtors = 100_000, 20_000
    if args.debtors > args.invoices:
        parser.error("--debtors must not exceed --invoices (every debtor has an open invoice)")
    with tempfile.TemporaryDirectory() as work:
        folder = Path(work)
        db = args.keep.resolve() if args.keep else folder / "ledger.db"
        if db.exists():
            print(f"ledger: reusing {db}")
        else:
            print(
                f"ledger: generating {args.invoices:,} open invoices for {args.debtors:,} debtors"
            )
            started = time.perf_counter()
            partial = db.with_name(db.name + ".partial")
            partial.unlink(missing_ok=True)
            # Its own process: ru_maxrss survives fork and exec, so a planning child started
            # from a process that had generated would report the generator's peak.
            generation = [sys.executable, __file__, "--generate", str(partial)]
            sizes = ["--invoices", str(args.invoices), "--debtors", str(args.debtors)]
            sizes += ["--scenario", args.scenario]
            subprocess.run(generation + sizes, check=True)
            partial.rename(db)
            print(f"generation took {time.perf_counter() - started:.1f} s")
        config = folder / "pipelines.yaml"
        config.write_text(CONFIG.format(db=db), encoding="utf-8")
        command = [sys.executable, __file__, "--child", str(config)]
        if args.profile:
            command.append("--profile")
        child = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=True)
    missed = report(json.loads(child.stdout.splitlines()[-1]))
    for goal in missed:
        print(f"GOAL MISSED: {goal}")
    sys.exit(1 if missed else 0)


if __name__ == "__main__":
    main()
