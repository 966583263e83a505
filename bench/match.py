"""Benchmark: import a CAMT.053 statement of 50,000 entries against 200,000 open invoices.

Generates a ledger (a real SQLite file) of ``--invoices`` open invoices (two per debtor, half
with a payment reference, a third of the debtors with a known bank account) and a statement of
``--entries`` credit entries that exercise every rule: a structured reference (40%), the invoice
number in the text (30%), the payer's account (10%), several invoices named in the text (5%),
a partial payment by reference (5%), and payments nothing identifies (10%). Then, in a child
process so that generation does not count, it times ``dunning payments import`` as the command
runs it (read, match, store in one transaction; write-back off, as it depends on the source)
and reports the child's peak RSS.

Goals: the import takes at most 60 s and the child's peak RSS stays at or below 1 GiB. The
script exits 1, saying which goal was missed, when one is. The matched counts are checked
against what the generator made, so a fast but wrong matcher fails too.

    .venv/bin/python bench/match.py [--quick] [--invoices N] [--entries N] [--keep FOLDER]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dunning.core.bank.importing import (  # noqa: E402
    ORIGIN,
    ImportResult,
    choose_pipeline,
    import_statement,
    plan_lines,
)
from dunning.core.bank.read import read_statement  # noqa: E402
from dunning.core.config import load_config  # noqa: E402
from dunning.core.ledger import Ledger  # noqa: E402
from dunning.core.ledger.bank import LineStatus  # noqa: E402
from dunning.core.ledger.schema import debtor_accounts, debtors, invoices  # noqa: E402

PIPELINE = "bench"
OWN_IBAN = "NL91ABNA0417164300"
MAX_SECONDS = 60.0
MAX_RSS_MIB = 1024
PER_DEBTOR = 2
MIX = (
    ("reference", 0.40),
    ("invoice-number", 0.30),
    ("account", 0.10),
    ("several-invoices", 0.05),
    ("partial", 0.05),
    ("unknown", 0.10),
)
CONFIG = f"""
state: ledger.db
pipelines:
  {PIPELINE}:
    creditor: {{name: Bench B.V., iban: {OWN_IBAN}}}
    source: {{type: csv, path: invoices.csv}}
    channels:
      email:
        type: email
        delivery: smtp
        from_address: debiteuren@example.nl
        smtp: {{host: 127.0.0.1, port: 2, security: none}}
    steps:
      - {{name: friendly-reminder, after_due: 7, channel: email, template: friendly-reminder}}
"""


def _iban(n: int) -> str:
    return f"NL00BANK{n:010d}"


def generate(folder: Path, invoice_count: int, entry_count: int, seed: int) -> dict[str, int]:
    """Write pipelines.yaml, the ledger and statement.xml into ``folder``; return the expected
    number of lines per rule (``unknown`` are the ones that must stay unmatched)."""
    rng = random.Random(seed)
    (folder / "pipelines.yaml").write_text(CONFIG, encoding="utf-8")
    (folder / "invoices.csv").write_text("factuurnummer\n", encoding="utf-8")
    ledger = Ledger.open(load_config(folder / "pipelines.yaml").state_url)
    now = datetime.now(UTC)
    debtor_count = invoice_count // PER_DEBTOR
    due = date(2026, 10, 1)
    with ledger.engine.begin() as connection:
        connection.execute(
            debtors.insert(),
            [
                {
                    "pipeline": PIPELINE,
                    "debtor_id": f"D{d:07d}",
                    "name": f"Klant {d} B.V.",
                    "language": "nl",
                    "kind": "business",
                    "tags": "",
                    "synced_at": now,
                    "last_sync_id": 1,
                    "in_source": 1,
                }
                for d in range(debtor_count)
            ],
        )
        rows = []
        for n in range(invoice_count):
            cents = 5_000 + (n * 7919) % 200_000
            rows.append(
                {
                    "pipeline": PIPELINE,
                    "number": f"INV{n:07d}",
                    "debtor_id": f"D{n // PER_DEBTOR:07d}",
                    "issue_date": due - timedelta(days=30),
                    "due_date": due + timedelta(days=n % PER_DEBTOR),
                    "amount_total_cents": cents,
                    "amount_open_cents": cents,
                    "currency": "EUR",
                    "is_credit_note": 0,
                    "in_source": 1,
                    "last_sync_id": 1,
                    "synced_at": now,
                    "tags": "",
                    "payment_reference": f"{n:016d}" if n % 2 == 0 else None,
                }
            )
        connection.execute(invoices.insert(), rows)
        connection.execute(
            debtor_accounts.insert(),
            [
                {
                    "pipeline": PIPELINE,
                    "iban": _iban(d),
                    "debtor_id": f"D{d:07d}",
                    "learned_from": "bench",
                    "learned_at": now,
                }
                for d in range(0, debtor_count, 3)
            ],
        )
    ledger.close()

    # Each debtor is used by at most one entry, so the rules never compete for an invoice; the
    # account rule pays debtors with a known account, the others pay from unknown accounts.
    with_account = rng.sample(range(0, debtor_count, 3), debtor_count // 3)
    others = rng.sample([d for d in range(debtor_count) if d % 3], entry_count)
    expected: dict[str, int] = {}
    entries = []
    cursor = 0
    for rule, share in MIX:
        count = round(entry_count * share) if rule != "unknown" else entry_count - cursor
        pool = with_account[:count] if rule == "account" else others[cursor : cursor + count]
        entries += [_entry(rule, d, rng) for d in pool]
        expected[rule] = count
        cursor += count
    rng.shuffle(entries)
    head = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns="urn:iso:std:iso:20022:tech:'
        'xsd:camt.053.001.02"><BkToCstmrStmt><Stmt><Id>BENCH-1</Id><Acct><Id><IBAN>'
        f"{OWN_IBAN}</IBAN></Id><Ccy>EUR</Ccy></Acct>\n"
    )
    with (folder / "statement.xml").open("w", encoding="utf-8") as out:
        out.write(head)
        out.writelines(entries)
        out.write("</Stmt></BkToCstmrStmt></Document>\n")
    return expected


def _amount(n: int) -> int:
    return 5_000 + (n * 7919) % 200_000


def _entry(rule: str, d: int, rng: random.Random) -> str:
    """One credit entry of debtor ``d`` following ``rule``."""
    first = d * PER_DEBTOR
    payer = _iban(d) if rule == "account" else _iban(10_000_000 + d)
    text, reference = "", ""
    if rule == "reference" or rule == "partial":
        n = first if first % 2 == 0 else first + 1
        cents = _amount(n) if rule == "reference" else _amount(n) // 2
        reference = f"{n:016d}"
    elif rule == "invoice-number":
        n = first + rng.randrange(PER_DEBTOR)
        cents, text = _amount(n), f"Betaling factuur INV{n:07d} dank u"
    elif rule == "account":
        n = first + rng.randrange(PER_DEBTOR)
        cents, text = _amount(n), "betaling"
    elif rule == "several-invoices":
        cents = _amount(first) + _amount(first + 1)
        text = f"INV{first:07d} INV{first + 1:07d}"
    else:
        cents, text = 1_234 + d % 977, f"overboeking {d}"
    strd = (
        "<Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry><Issr>CUR</Issr></Tp>"
        f"<Ref>{reference}</Ref></CdtrRefInf></Strd>"
        if reference
        else ""
    )
    ustrd = f"<Ustrd>{text}</Ustrd>" if text else ""
    return (
        f'<Ntry><Amt Ccy="EUR">{cents / 100:.2f}</Amt><CdtDbtInd>CRDT</CdtDbtInd>'
        "<Sts>BOOK</Sts><BookgDt><Dt>2026-11-03</Dt></BookgDt><NtryDtls><TxDtls>"
        f"<Refs><EndToEndId>E2E-{d}</EndToEndId></Refs><RltdPties><Dbtr><Nm>Betaler {d}</Nm>"
        f"</Dbtr><DbtrAcct><Id><IBAN>{payer}</IBAN></Id></DbtrAcct></RltdPties>"
        f"<RmtInf>{ustrd}{strd}</RmtInf></TxDtls></NtryDtls></Ntry>\n"
    )


def measure(folder: Path) -> dict[str, Any]:
    """In the child: import the statement as the command does; time it and count outcomes."""
    config = load_config(folder / "pipelines.yaml")
    ledger = Ledger.open(config.state_url)
    path = folder / "statement.xml"
    started = time.perf_counter()
    statements = read_statement(path)  # the steps of import_statement, timed one by one
    pipeline = choose_pipeline(config, statements, None, path.name)
    result = ImportResult(pipeline.name, path.name, statements=len(statements))
    read_at = time.perf_counter()
    planned = plan_lines(ledger, pipeline, statements, result)
    matched_at = time.perf_counter()
    ledger.bank.save_import(pipeline.name, planned, ORIGIN)
    seconds = time.perf_counter() - started
    phases = {
        "read": round(read_at - started, 2),
        "match": round(matched_at - read_at, 2),
        "store": round(started + seconds - matched_at, 2),
    }
    again_started = time.perf_counter()
    again = import_statement(config, ledger, folder / "statement.xml", write_back=False)
    again_seconds = time.perf_counter() - again_started
    ledger.close()
    rules: dict[str, int] = {}
    for outcome in result.outcomes:
        if outcome.status == LineStatus.MATCHED:
            rules[outcome.rule or "-"] = rules.get(outcome.rule or "-", 0) + 1
    return {
        "seconds": round(seconds, 2),
        "phases": phases,
        "again_seconds": round(again_seconds, 2),
        "again_new": len(again.outcomes),
        "lines": result.lines,
        "matched_by_rule": rules,
        "unmatched": result.count(LineStatus.UNMATCHED),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def check(figures: dict[str, Any], expected: dict[str, int]) -> list[str]:
    problems = []
    rules = figures["matched_by_rule"]
    by_text = expected["invoice-number"]
    if rules.get("reference", 0) != expected["reference"] + expected["partial"]:
        problems.append(f"reference matches {rules.get('reference')} != expected")
    if rules.get("invoice-number", 0) != by_text:
        problems.append(f"invoice-number matches {rules.get('invoice-number')} != {by_text}")
    if rules.get("account", 0) != expected["account"]:
        problems.append(f"account matches {rules.get('account')} != {expected['account']}")
    if rules.get("several-invoices", 0) != expected["several-invoices"]:
        problems.append("several-invoices matches differ from what was generated")
    if figures["unmatched"] != expected["unknown"]:
        problems.append(f"unmatched {figures['unmatched']} != {expected['unknown']}")
    if figures["again_new"]:
        problems.append(f"importing again recorded {figures['again_new']} lines")
    if figures["seconds"] > MAX_SECONDS:
        problems.append(f"import took {figures['seconds']} s, more than {MAX_SECONDS} s")
    if figures["peak_rss_mib"] > MAX_RSS_MIB:
        problems.append(f"peak RSS {figures['peak_rss_mib']} MiB, more than {MAX_RSS_MIB} MiB")
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=200_000)
    parser.add_argument("--entries", type=int, default=50_000)
    parser.add_argument("--quick", action="store_true", help="20,000 invoices, 5,000 entries")
    parser.add_argument("--keep", type=Path, help="generate into this folder and keep it")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child)))
        return
    if args.quick:
        args.invoices, args.entries = 20_000, 5_000
    with tempfile.TemporaryDirectory() as temporary:
        folder = args.keep or Path(temporary)
        folder.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        expected = generate(folder, args.invoices, args.entries, seed=7)
        size = (folder / "statement.xml").stat().st_size / 2**20
        print(
            f"generated {args.invoices:,} open invoices and a {size:.1f} MiB statement of "
            f"{args.entries:,} entries in {time.perf_counter() - started:.1f} s"
        )
        child = subprocess.run(
            [sys.executable, __file__, "--child", str(folder)],
            capture_output=True,
            text=True,
            check=False,
        )
        if child.returncode != 0:
            print(child.stderr, file=sys.stderr)
            sys.exit(1)
        figures = json.loads(child.stdout)
    rate = figures["lines"] / figures["seconds"] if figures["seconds"] else 0
    print(
        f"import: {figures['seconds']} s for {figures['lines']:,} lines ({rate:,.0f} lines/s; "
        f"read, match and store in one transaction), peak RSS {figures['peak_rss_mib']} MiB"
    )
    phases = figures["phases"]
    print(
        f"  read {phases['read']} s, match {phases['match']} s (loading the book included), "
        f"store {phases['store']} s"
    )
    print(f"matched by rule: {json.dumps(figures['matched_by_rule'], sort_keys=True)}")
    print(f"waiting for a person: {figures['unmatched']:,}")
    print(f"importing the same file again: {figures['again_seconds']} s, 0 lines recorded")
    problems = check(figures, expected)
    for problem in problems:
        print(f"goal missed: {problem}")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
