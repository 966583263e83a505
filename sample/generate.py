#!/usr/bin/env python3
"""Write the sample invoice export the default pipeline runs on.

Usage::

    python sample/generate.py --out sample/invoices.csv [--today YYYY-MM-DD] [--force]

The file looks like a Dutch accounting export (``;`` between columns, decimal comma, dd-mm-yyyy
dates, the column names the ``csv`` source expects by default). Every date is relative to
``--today`` (default: the real today), so whatever the day the pipeline finds invoices not yet
due, a few days late, weeks late and months late. The content is deterministic for a given
``--today``: ``random.Random(2024)`` fills in amounts, phone numbers and payment dates.

What the file covers: punctual payers, invoices not yet due, 1-5 days late, 10-20 days late,
30-90 days late, partly paid invoices, credit notes, debtors with several overdue invoices (so
reminders are grouped), one debtor with an invalid email address (a per-debtor send problem) and
exactly one unreadable row (amount ``12,3x``), reported as a row problem.

Standard library only: it runs before dunning is installed.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

HEADER = [
    "factuurnummer",
    "debiteurnummer",
    "debiteur",
    "contactpersoon",
    "email",
    "telefoon",
    "taal",
    "soort",
    "factuurdatum",
    "vervaldatum",
    "bedrag",
    "betaallink",
    "betaald",
    "betaaldatum",
    "betaald_bedrag",
]
CENT = Decimal("0.01")
BAD_AMOUNT = "12,3x"
PRIVATE = "particulier"


@dataclass(frozen=True)
class Customer:
    name: str
    contact: str
    email: str
    phone_style: str  # "nl", "be" or "uk"
    language: str = "nl"
    kind: str = "zakelijk"


CUSTOMERS = [
    Customer("Bakkerij De Gouden Korst B.V.", "Jan Visser", "jan.visser@example.nl", "nl"),
    Customer("Installatiebedrijf Van Dijk", "Sanne van Dijk", "sanne@example.nl", "nl"),
    Customer("Hoveniersbedrijf Groen & Zn.", "Pieter Groen", "pieter.groen@example.nl", "nl"),
    Customer("Smith & Partners Ltd", "Emma Smith", "emma.smith@example.com", "uk", "en"),
    Customer("Brouwerij 't Vlaamse Hopje BV", "Lotte Peeters", "lotte@example.org", "be"),
    Customer("Mark de Boer", "Mark de Boer", "mark.deboer@example.nl", "nl", kind=PRIVATE),
    Customer("Café De Hoek", "Jan de Wit", "jan@@example", "nl"),
    Customer("Greenfield Consulting Ltd", "Oliver Brown", "o.brown@example.com", "uk", "en"),
    Customer("Drukkerij De Letterzetter", "Fatima El Amrani", "fatima@example.nl", "nl"),
    Customer("Fietsenmaker Jansen", "Daan Jansen", "daan@example.nl", "nl"),
    Customer("Sophie Mulder", "Sophie Mulder", "sophie.mulder@example.com", "nl", kind=PRIVATE),
    Customer("Architectenbureau Vermeulen", "Lisa Vermeulen", "lisa@example.nl", "nl"),
    Customer("Tandartspraktijk Smit", "Thomas Smit", "t.smit@example.nl", "nl"),
    Customer("Northwind Trading Ltd", "James Wilson", "accounts@example.com", "uk", "en"),
    Customer("Schildersbedrijf Bos", "Ruud Bos", "ruud@example.nl", "nl"),
    Customer("Anna Hendriks", "Anna Hendriks", "anna.hendriks@example.nl", "nl", kind=PRIVATE),
    Customer("Restaurant De Zilveren Lepel", "Emre Yılmaz", "emre@example.nl", "nl"),
    Customer("Boekhandel Het Open Boek", "Ingrid de Graaf", "ingrid@example.org", "nl"),
    Customer("Atelier Maes", "Wout Maes", "wout.maes@example.org", "be"),
    Customer("Koffiebranderij Bonen & Co", "Nina Dekker", "nina@example.nl", "nl"),
]

# (customer index, days past due (negative: due in that many days), payment term, state)
# state: "open", "paid", "late-paid" (paid 20-30 days after due), "partial", "credit", "bad"
PLAN: list[tuple[int, int, int, str]] = [
    (0, 75, 30, "paid"), (0, 45, 30, "paid"), (0, 15, 30, "paid"), (0, -12, 30, "open"),
    (1, 12, 30, "open"), (1, 40, 30, "open"), (1, 70, 30, "paid"),
    (2, 60, 30, "open"), (2, 3, 14, "open"), (2, 90, 30, "paid"),
    (3, 15, 30, "open"), (3, -20, 30, "open"), (3, 50, 30, "paid"),
    (4, 3, 30, "open"), (4, 20, 30, "credit"), (4, 35, 30, "paid"),
    (5, 35, 14, "open"), (5, 80, 14, "paid"),
    (6, 18, 30, "open"), (6, -5, 30, "open"),
    (7, 45, 30, "partial"), (7, -9, 30, "open"),
    (8, 5, 30, "open"), (8, 18, 30, "open"), (8, 75, 30, "open"), (8, 100, 30, "paid"),
    (9, -3, 14, "open"), (9, -25, 30, "open"),
    (10, 30, 14, "paid"), (10, -7, 14, "open"),
    (11, 10, 30, "partial"), (11, 55, 30, "paid"),
    (12, 40, 30, "paid"), (12, 10, 30, "paid"), (12, 25, 30, "credit"),
    (13, 90, 30, "open"), (13, 33, 30, "open"),
    (14, 1, 30, "open"), (14, -14, 30, "open"),
    (15, 30, 14, "partial"), (15, 65, 14, "paid"),
    (16, 4, 30, "open"), (16, 16, 30, "open"), (16, 62, 30, "paid"),
    (17, -18, 30, "open"), (17, 28, 30, "paid"),
    (18, 45, 30, "late-paid"), (18, 2, 14, "open"),
    (19, 20, 30, "bad"), (19, -10, 30, "open"),
]  # fmt: skip


def money(value: Decimal, thousands: bool = True) -> str:
    """``Decimal('1234.5')`` -> ``'1.234,50'`` (Dutch notation)."""
    text = f"{value.quantize(CENT, rounding=ROUND_HALF_UP):,.2f}"
    return text.replace(",", "_").replace(".", ",").replace("_", "." if thousands else "")


def dutch_date(day: date) -> str:
    return day.strftime("%d-%m-%Y")


def phone_number(style: str, rng: random.Random) -> str:
    if style == "be":
        return f"+32 9 {rng.randint(200, 399)} {rng.randint(10, 99)} {rng.randint(10, 99)}"
    if style == "uk":  # Ofcom's range for drama: never a real subscriber
        return f"+44 20 7946 0{rng.randint(100, 999)}"
    if rng.random() < 0.5:
        return f"06-{rng.randint(10_000_000, 99_999_999)}"
    return f"+31 20 {rng.randint(100, 999)} {rng.randint(1000, 9999)}"


def build_rows(today: date, rng: random.Random) -> list[list[str]]:
    """One row per planned invoice, in invoice-number order (that is, by invoice date)."""
    phones = [phone_number(c.phone_style, rng) for c in CUSTOMERS]
    planned = []
    for index, days_late, term, state in PLAN:
        due = today - timedelta(days=days_late)
        issue = due - timedelta(days=term)
        planned.append((issue, index, due, state))
    planned.sort(key=lambda item: (item[0], item[1]))

    rows = []
    for sequence, (issue, index, due, state) in enumerate(planned, start=1):
        customer = CUSTOMERS[index]
        number = f"{issue.year}-{sequence:04d}"
        amount = Decimal(rng.randint(8_500, 480_000)) / 100
        paid_mark = paid_on = paid_amount = ""
        if state == "credit":
            amount = -Decimal(rng.randint(2_500, 30_000)) / 100
        elif state in ("paid", "late-paid"):
            delay = rng.randint(20, 30) if state == "late-paid" else -rng.randint(0, 7)
            paid_mark = "ja"
            paid_on = dutch_date(min(due + timedelta(days=delay), today))
            paid_amount = money(amount, thousands=False)
        elif state == "partial":
            share = Decimal(rng.choice(("0.25", "0.40", "0.50")))
            paid_on = dutch_date(due - timedelta(days=rng.randint(0, 5)))
            paid_amount = money(amount * share, thousands=False)
        amount_text = BAD_AMOUNT if state == "bad" else money(amount)
        link = "" if state == "credit" else f"https://pay.example.com/i/{number}"
        rows.append(
            [
                number,
                f"D{1001 + index}",
                customer.name,
                customer.contact,
                customer.email,
                phones[index],
                customer.language,
                customer.kind,
                dutch_date(issue),
                dutch_date(due),
                amount_text,
                link,
                paid_mark,
                paid_on,
                paid_amount,
            ]
        )
    return rows


def write_sample(out: Path, today: date) -> int:
    """Write the sample to ``out``; returns the number of invoice rows."""
    rows = build_rows(today, random.Random(2024))
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, delimiter=";", lineterminator="\r\n")
        writer.writerow(HEADER)
        writer.writerows(rows)
    return len(rows)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Write the sample invoices CSV for dunning.")
    parser.add_argument("--out", type=Path, required=True, help="where to write the CSV file")
    parser.add_argument(
        "--today",
        type=date.fromisoformat,
        default=None,
        help="the day the dates are relative to (YYYY-MM-DD; default: today)",
    )
    parser.add_argument("--force", action="store_true", help="overwrite an existing file")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    out: Path = args.out
    if out.exists() and not args.force:
        print(f"kept the existing {out}; pass --force to write a fresh sample")
        return 0
    today: date = args.today or date.today()
    count = write_sample(out, today)
    print(f"wrote {count} sample invoices for {len(CUSTOMERS)} debtors to {out} (today={today})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
