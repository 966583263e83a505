"""Realistic, deterministic data for one division: about one account per five receivable terms,
each with a main contact (names with diacritics now and then, Dutch and Belgian phone numbers
typed the way people type them, some without e-mail, languages NL/EN/FR), invoices of mostly one
and sometimes two terms over the past fourteen months, some paid or part-paid, a few credit
notes and a few purchase terms (``LineType`` 22) that a client must skip.

Fast enough for 50,000 terms in a few seconds: it goes through the store's own methods.
"""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

from dunning.plugins.exact.fake.store import ExactStore

COMPANIES = (
    "Bakker Installatietechniek",
    "Visser Transport",
    "De Vries Bouw",
    "Café De Gouden Leeuw",
    "Brasserie Ærø",
    "Smit Schilderwerken",
    "Peeters & Zonen",
    "Boulangerie Lefèvre",
    "Meijer Advies",
    "Groothandel Müller",
    "Société Wallonne de Façades",
    "Bloemen Boërs",
    "Jansen ICT",
    "Catering Ünal",
    "Administratiekantoor Hendriks",
    "Maes Logistiek",
)
LEGAL_FORMS = ("B.V.", "BV", "V.O.F.", "NV", "BVBA", "SRL", "")
FIRST_NAMES = (
    "Jan",
    "Els",
    "Pieter",
    "Anouk",
    "Zoë",
    "Bram",
    "Anaïs",
    "Ruben",
    "Fleur",
    "Thijs",
    "Chloé",
    "Wout",
    "Noor",
    "Daan",
    "Søren",
    "Emma",
    "Jens",
    "Inès",
)
SURNAMES = (
    "Bakker",
    "Jansen",
    "de Vries",
    "van den Berg",
    "Visser",
    "Smit",
    "Meijer",
    "de Boer",
    "Peeters",
    "Maes",
    "Claes",
    "Wouters",
    "Dubois",
    "Lefèvre",
    "Çelik",
    "Müller",
)
NL_CITIES = (("Amsterdam", "1012 AB"), ("Utrecht", "3511 CE"), ("Zwolle", "8011 PK"))
BE_CITIES = (("Antwerpen", "2000"), ("Gent", "9000"), ("Liège", "4000"))
PHONES_NL = ("06-{a}{b}", "+31 6 {a} {b}", "0031 6 {a}{b}", "020 - {a}{b}", "+31(0)6{a}{b}")
PHONES_BE = ("+32 470 {a} {b}", "0032 (0)470 {a}.{b}", "0470/{a}{b}", "03 {a} {b}")
LANGUAGES = ("NL", "NL", "NL", "NL", "EN", "FR")


def seed(
    store: ExactStore,
    n_receivables: int,
    *,
    rng_seed: int = 0,
    division: int | None = None,
    paid_share: float = 0.2,
) -> None:
    rng = random.Random(rng_seed)
    today = store.today
    account_ids = [
        _account(store, rng, number, division) for number in range(max(1, n_receivables // 5))
    ]
    made = 0
    while made < n_receivables:
        account_id = rng.choice(account_ids)
        terms = 2 if rng.random() < 0.12 and n_receivables - made >= 2 else 1
        amount = Decimal(rng.randint(2_500, 1_250_000)) / 100
        if rng.random() < 0.02:
            amount, terms = -amount / 10, 1
        invoice_date = today - timedelta(days=rng.randint(0, 420))
        number = store.add_invoice(
            account_id,
            amount,
            invoice_date=invoice_date,
            due_date=invoice_date + timedelta(days=rng.choice((14, 30, 30, 60))),
            your_ref=f"PO-{rng.randint(1000, 99999)}" if rng.random() < 0.4 else None,
            terms=terms,
            division=division,
        )
        made += terms
        if amount > 0:
            chance = rng.random()
            paid_on = min(today, invoice_date + timedelta(days=rng.randint(5, 60)))
            if chance < paid_share:
                store.pay(number, on=paid_on, division=division)
            elif chance < paid_share + 0.05:
                part = (amount * Decimal(rng.choice(("0.25", "0.5")))).quantize(Decimal("0.01"))
                store.pay(number, part, on=paid_on, division=division)
        if rng.random() < 0.01:
            store.add_payable(account_id, Decimal(rng.randint(5_000, 500_000)) / 100, division)


def _account(store: ExactStore, rng: random.Random, number: int, division: int | None) -> str:
    country = "BE" if rng.random() < 0.25 else "NL"
    city, postcode = rng.choice(BE_CITIES if country == "BE" else NL_CITIES)
    first, last = rng.choice(FIRST_NAMES), rng.choice(SURNAMES)
    name = f"{rng.choice(COMPANIES)} {rng.choice(LEGAL_FORMS)}".strip()
    domain = name.split()[0].lower().encode("ascii", "ignore").decode() or "example"
    phone = rng.choice(PHONES_BE if country == "BE" else PHONES_NL).format(
        a=rng.randint(1000, 9999), b=rng.randint(1000, 9999)
    )
    email = None if rng.random() < 0.12 else f"administratie@{domain}{number}.{country.lower()}"
    account = store.add_account(
        name,
        division=division,
        email=email,
        phone=phone,
        language=rng.choice(LANGUAGES),
        country=country,
        address_line1=f"Kerkstraat {number + 1}",
        postcode=postcode,
        city=city,
        chamber_of_commerce=f"{rng.randint(10_000_000, 99_999_999)}",
        vat_number=f"{country}{rng.randint(100_000_000, 999_999_999)}B01"
        if country == "NL"
        else f"BE0{rng.randint(100_000_000, 999_999_999)}",
    )
    store.add_contact(
        account.id,
        first,
        last,
        division=division,
        email=None if rng.random() < 0.2 else _person_email(first, last, domain, number, country),
        phone=phone,
        mobile=rng.choice(PHONES_NL).format(a=rng.randint(1000, 9999), b=rng.randint(1000, 9999)),
    )
    return account.id


def _person_email(first: str, last: str, domain: str, number: int, country: str) -> str:
    local = f"{first}.{last}".lower().replace(" ", "")
    return f"{local}@{domain}{number}.{country.lower()}"
