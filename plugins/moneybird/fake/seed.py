"""A realistic, deterministic administration: companies and private persons, contact people, NL
and BE phone numbers typed the way people type them, and two years of invoices in every state.

Two years matter: with the default ``period:this_year`` a client misses last year's unpaid
invoices, and the seed makes sure there are some.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from dunning.plugins.moneybird.fake.models import Contact
from dunning.plugins.moneybird.fake.store import MoneybirdStore

SURNAMES = (
    "Bakker", "Jansen", "de Vries", "van den Berg", "Visser", "Smit", "Meijer", "de Boer",
    "Mulder", "de Groot", "Bos", "Vos", "Peters", "Hendriks", "Dekker", "Peeters", "Maes",
    "Claes", "Wouters", "Goossens",
)  # fmt: skip
FIRST_NAMES = (
    "Jan", "Els", "Pieter", "Anouk", "Sanne", "Bram", "Lotte", "Ruben", "Fleur", "Thijs",
    "Lieve", "Wout", "Noor", "Daan", "Emma", "Jens",
)  # fmt: skip
TRADES = (
    "Installatietechniek", "Transport", "Bouw", "Schilderwerken", "Advies", "Groothandel",
    "Bloemen", "ICT", "Catering", "Administratie",
)  # fmt: skip
LEGAL_FORMS = ("B.V.", "V.O.F.", "", "BV", "NV", "BVBA")
NL_CITIES = (("Amsterdam", "1012 AB"), ("Utrecht", "3511 CE"), ("Zwolle", "8011 PK"))
BE_CITIES = (("Antwerpen", "2000"), ("Gent", "9000"), ("Leuven", "3000"))
PHONE_FORMATS_NL = (
    "06-{a}{b}", "+31 6 {a} {b}", "0031 6 {a}{b}", "020 - {a}{b}", "tel. 010-{a}{b}",
    "06 {a} {b} (alleen 's middags)", "+31(0)6{a}{b}",
)  # fmt: skip
PHONE_FORMATS_BE = ("+32 470 {a} {b}", "0032 (0)470 {a}.{b}", "0470/{a}{b}", "03 {a} {b}")


def _phone(rng: random.Random, country: str) -> str:
    formats = PHONE_FORMATS_BE if country == "BE" else PHONE_FORMATS_NL
    return rng.choice(formats).format(a=rng.randint(1000, 9999), b=rng.randint(1000, 9999))


def _email(first: str, last: str, domain: str) -> str:
    return f"{first}.{last}".lower().replace(" ", "") + f"@{domain}"


def seed_contact(store: MoneybirdStore, rng: random.Random, number: int) -> Contact:
    country = "BE" if rng.random() < 0.25 else "NL"
    city, zipcode = rng.choice(BE_CITIES if country == "BE" else NL_CITIES)
    first, last = rng.choice(FIRST_NAMES), rng.choice(SURNAMES)
    address: dict[str, Any] = {
        "address1": f"{rng.choice(['Kerkstraat', 'Dorpsstraat', 'Stationsweg'])} {number}",
        "zipcode": zipcode,
        "city": city,
        "country": country,
        "phone": "" if rng.random() < 0.1 else _phone(rng, country),
        "customer_id": str(1000 + number),
    }
    if rng.random() < 0.35:
        return store.add_contact(
            firstname=first,
            lastname=last,
            email=_email(first, last, "example.nl"),
            delivery_method=rng.choice(["Email", "Email", "Post"]),
            **address,
        )
    name = f"{last.split()[-1].capitalize()} {rng.choice(TRADES)} {rng.choice(LEGAL_FORMS)}"
    domain = name.split()[0].lower() + (".be" if country == "BE" else ".nl")
    people = []
    for _ in range(rng.choice([0, 1, 1, 2, 3])):
        p_first, p_last = rng.choice(FIRST_NAMES), rng.choice(SURNAMES)
        people.append(
            {
                "firstname": p_first,
                "lastname": p_last,
                "phone": _phone(rng, country) if rng.random() < 0.7 else None,
                "email": _email(p_first, p_last, domain),
                "department": rng.choice([None, "Administratie", "Inkoop"]),
            }
        )
    billing = f"facturen@{domain}" if rng.random() < 0.4 else ""
    return store.add_contact(
        company_name=name.strip(),
        attention=f"t.a.v. {first} {last}" if rng.random() < 0.5 else "",
        email=f"info@{domain}",
        send_invoices_to_email=billing,
        send_invoices_to_attention=f"{first} {last}" if billing else "",
        tax_number=f"{country}{rng.randint(10**8, 10**9 - 1)}B01" if country == "NL" else "",
        chamber_of_commerce=str(rng.randint(10**7, 10**8 - 1)),
        contact_people=people,
        **address,
    )


def seed(store: MoneybirdStore, n_invoices: int, today: date, rng_seed: int = 0) -> None:
    """Add ``n_invoices`` invoices over about 200 contacts (fewer for small seeds)."""
    rng = random.Random(rng_seed)
    store.today = today
    contacts = [seed_contact(store, rng, n) for n in range(1, max(3, min(200, n_invoices // 3)))]
    dates = sorted(today - timedelta(days=rng.randint(0, 730)) for _ in range(n_invoices))
    for invoice_date in dates:
        contact = rng.choice(contacts)
        due_date = invoice_date + timedelta(days=rng.choice([14, 14, 30]))
        total = Decimal(rng.randint(2500, 500000)) / 100
        overdue = due_date < today
        roll = rng.random()
        state, paid, extra = "open", Decimal(0), {}
        if rng.random() < 0.03:
            state = "draft"
        elif overdue and roll < 0.55:
            state = "paid"
        elif overdue and roll < 0.75:
            state, extra = "reminded", {"reminder_count": rng.randint(1, 3)}
        elif overdue and roll < 0.8:
            paid = (total / 2).quantize(Decimal("0.01"))
        elif not overdue and roll < 0.2:
            state = "paid"
        if state not in ("draft", "paid") and rng.random() < 0.06:
            extra["paused"] = True
        people = contact.contact_people
        store.add_invoice(
            contact.id,
            total,
            invoice_date=invoice_date,
            due_date=due_date,
            state=state,
            paid=paid,
            reference=f"Order {rng.randint(10000, 99999)}" if rng.random() < 0.5 else "",
            contact_person_id=rng.choice(people).id if people and rng.random() < 0.5 else None,
            language="en" if rng.random() < 0.1 else "nl",
            **extra,
        )
