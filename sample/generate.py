#!/usr/bin/env python3
"""Write the sample invoice export the default pipeline runs on.

Usage::

    python sample/generate.py --out sample/invoices.csv [--today YYYY-MM-DD] [--force]

The file looks like a Dutch accounting export (``;`` between columns, decimal comma, dd-mm-yyyy
dates, the column names the ``csv`` source expects by default). Every date is relative to
``--today`` (default: the real today), so whatever the day the pipeline finds invoices not yet
due, a few days late, weeks late and months late. The content is deterministic for a given
``--today``: ``random.Random(2024)`` fills in amounts, phone numbers and payment dates.

What the file covers: invoices not yet due, 1-5 days late, 10-20 days late, 30-90 days late,
partly paid invoices, credit notes, debtors with several overdue invoices (so reminders are
grouped), one debtor with an invalid email address (a per-debtor send problem) and exactly one
unreadable row (amount ``12,3x``), reported as a row problem.

For the policy's finer rules: Belgian debtors (``land`` BE, ``tijdzone`` Europe/Brussels; the
others leave both empty), debtor and invoice labels, two invoices due soon whose terms offer 2% off
within 8 days of the invoice date (still open on ``--today``: a courtesy reminder can offer it),
and for every debtor but two new ones a history of three or more invoices paid in full, always on
time (punctual), 5-20 days late (late-but-reliable) or 35-80 days late (risky).

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
    "debiteur_labels",
    "land",
    "tijdzone",
    "factuurdatum",
    "vervaldatum",
    "bedrag",
    "betaallink",
    "labels",
    "korting",
    "kortingstermijn",
    "betaald",
    "betaaldatum",
    "betaald_bedrag",
]
CENT = Decimal("0.01")
BAD_AMOUNT = "12,3x"
PRIVATE = "particulier"
PUNCTUAL, LATE, RISKY, NEW = "punctual", "late-but-reliable", "risky", "new"
PAYMENT_DELAY = {PUNCTUAL: (-7, 0), LATE: (5, 20), RISKY: (35, 80)}
"""Days between due date and payment of a paid invoice, by the debtor's payment behaviour."""
HISTORY_SIZE = 3
"""Invoices paid in full that every debtor but the new ones has (the policy's minimum history)."""
DISCOUNT_PERCENT, DISCOUNT_DAYS = "2", "8"
BELGIUM, BRUSSELS = "BE", "Europe/Brussels"


@dataclass(frozen=True)
class Customer:
    name: str
    contact: str
    email: str
    phone_style: str  # "nl", "be" or "uk"
    behaviour: str  # how they paid before: PUNCTUAL, LATE, RISKY or NEW (no history)
    language: str = "nl"
    kind: str = "zakelijk"
    labels: str = ""

    @property
    def country(self) -> str:
        return BELGIUM if self.phone_style == "be" else ""

    @property
    def timezone(self) -> str:
        return BRUSSELS if self.phone_style == "be" else ""

    @property
    def term(self) -> int:
        """Payment term of the invoices in their history."""
        return 14 if self.kind == PRIVATE else 30


CUSTOMERS = [
    Customer("Bakkerij De Gouden Korst B.V.", "Jan Visser", "jan.visser@example.nl", "nl",
             PUNCTUAL, labels="vip"),
    Customer("Installatiebedrijf Van Dijk", "Sanne van Dijk", "sanne@example.nl", "nl", LATE),
    Customer("Hoveniersbedrijf Groen & Zn.", "Pieter Groen", "pieter.groen@example.nl", "nl",
             LATE),
    Customer("Smith & Partners Ltd", "Emma Smith", "emma.smith@example.com", "uk", PUNCTUAL,
             "en"),
    Customer("Brouwerij 't Vlaamse Hopje BV", "Lotte Peeters", "lotte@example.org", "be",
             PUNCTUAL, labels="vip"),
    Customer("Mark de Boer", "Mark de Boer", "mark.deboer@example.nl", "nl", LATE, kind=PRIVATE,
             labels="no-call"),
    Customer("Café De Hoek", "Jan de Wit", "jan@@example", "nl", RISKY),
    Customer("Greenfield Consulting Ltd", "Oliver Brown", "o.brown@example.com", "uk", NEW, "en"),
    Customer("Drukkerij De Letterzetter", "Fatima El Amrani", "fatima@example.nl", "nl", RISKY),
    Customer("Fietsenmaker Jansen", "Daan Jansen", "daan@example.nl", "nl", PUNCTUAL),
    Customer("Sophie Mulder", "Sophie Mulder", "sophie.mulder@example.com", "nl", PUNCTUAL,
             kind=PRIVATE, labels="no-call"),
    Customer("Architectenbureau Vermeulen", "Lisa Vermeulen", "lisa@example.nl", "nl", LATE),
    Customer("Tandartspraktijk Smit", "Thomas Smit", "t.smit@example.nl", "nl", PUNCTUAL,
             labels="vip, key-account"),
    Customer("Northwind Trading Ltd", "James Wilson", "accounts@example.com", "uk", RISKY, "en",
             labels="key-account"),
    Customer("Schildersbedrijf Bos", "Ruud Bos", "ruud@example.nl", "nl", NEW),
    Customer("Anna Hendriks", "Anna Hendriks", "anna.hendriks@example.nl", "nl", LATE,
             kind=PRIVATE),
    Customer("Restaurant De Zilveren Lepel", "Emre Yılmaz", "emre@example.nl", "nl", LATE),
    Customer("Brussels Language Centre", "Claire Dubois", "claire.dubois@example.org", "be",
             PUNCTUAL, "en"),
    Customer("Atelier Maes", "Wout Maes", "wout.maes@example.org", "be", LATE),
    Customer("Koffiebranderij Bonen & Co", "Nina Dekker", "nina@example.nl", "nl", PUNCTUAL),
]  # fmt: skip

# (customer index, days past due (negative: due in that many days), payment term, state)
# state: "open", "paid" (as late as the customer's behaviour says), "partial", "credit", "bad",
# "discount" (open, with korting and kortingstermijn)
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
    (18, 45, 30, "paid"), (18, 2, 14, "open"),
    (19, 20, 30, "bad"), (19, -10, 30, "open"),
    # not yet due, 2% off when paid within 8 days of the invoice date: still open on --today
    (9, -8, 14, "discount"), (17, -9, 14, "discount"),
]  # fmt: skip

INVOICE_LABELS = {
    (1, 40): "project",
    (2, 60): "project no-call",
    (8, 75): "maintenance",
    (13, 90): "export,project",
    (16, 16): "maintenance",
    (17, -9): "project",
}
"""Labels (``labels`` column) of some invoices, by (customer index, days past due)."""


def history() -> list[tuple[int, int, int, str]]:
    """Older paid invoices, so every debtor but the new ones has ``HISTORY_SIZE`` paid in full.

    Due 100-200 days ago, about a month apart; when and how late they were paid follows the
    customer's ``behaviour`` (see :data:`PAYMENT_DELAY`).
    """
    rows = []
    for index, customer in enumerate(CUSTOMERS):
        if customer.behaviour == NEW:
            continue
        paid = sum(1 for i, _, _, state in PLAN if i == index and state == "paid")
        for older in range(HISTORY_SIZE - paid):
            days_late = 100 + 33 * older + (index * 7) % 30
            rows.append((index, days_late, customer.term, "paid"))
    return rows


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
    for index, days_late, term, state in PLAN + history():
        due = today - timedelta(days=days_late)
        issue = due - timedelta(days=term)
        labels = INVOICE_LABELS.get((index, days_late), "")
        planned.append((issue, index, due, state, labels))
    planned.sort(key=lambda item: (item[0], item[1]))

    rows = []
    for sequence, (issue, index, due, state, labels) in enumerate(planned, start=1):
        customer = CUSTOMERS[index]
        number = f"{issue.year}-{sequence:04d}"
        amount = Decimal(rng.randint(8_500, 480_000)) / 100
        paid_mark = paid_on = paid_amount = discount = discount_days = ""
        if state == "credit":
            amount = -Decimal(rng.randint(2_500, 30_000)) / 100
        elif state == "discount":
            discount, discount_days = DISCOUNT_PERCENT, DISCOUNT_DAYS
        elif state == "paid":
            delay = rng.randint(*PAYMENT_DELAY[customer.behaviour])
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
                customer.labels,
                customer.country,
                customer.timezone,
                dutch_date(issue),
                dutch_date(due),
                amount_text,
                link,
                labels,
                discount,
                discount_days,
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
