"""The Moneybird fake keeps the contract of API-CONTRACTS.md section 2, over real HTTP."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
import requests

from dunning.plugins.moneybird.fake import FakeMoneybird, Invoice

TODAY = date(2026, 3, 17)
TOKEN = "test-token"


@pytest.fixture
def fake() -> Iterator[FakeMoneybird]:
    with FakeMoneybird(TOKEN, today=TODAY) as server:
        yield server


@pytest.fixture
def debtor_id(fake: FakeMoneybird) -> str:
    return fake.add_contact(
        company_name="Bakker B.V.",
        email="info@bakker.nl",
        phone="06-12345678",
        contact_people=[{"firstname": "Els", "lastname": "Bakker", "email": "els@bakker.nl"}],
    ).id


def get(fake: FakeMoneybird, path: str, **params: Any) -> requests.Response:
    return requests.get(f"{fake.api_url}/{path}", headers=fake.auth_headers, params=params)


def post(fake: FakeMoneybird, path: str, body: Any = None) -> requests.Response:
    return requests.post(f"{fake.api_url}/{path}", headers=fake.auth_headers, json=body)


def late_invoice(
    fake: FakeMoneybird, contact_id: str, year: int = 2026, total: str = "363.0"
) -> Invoice:
    return fake.add_invoice(
        contact_id, total, invoice_date=date(year, 2, 1), due_date=date(year, 2, 15)
    )


def ids(response: requests.Response) -> set[str]:
    assert response.status_code == 200, response.text
    return {item["id"] for item in response.json()}


def test_administrations_and_resources_are_routed_with_json_suffix(
    fake: FakeMoneybird, debtor_id: str
) -> None:
    answer = requests.get(f"{fake.base_url}/administrations.json", headers=fake.auth_headers)
    assert answer.status_code == 200
    (administration,) = answer.json()
    assert administration["id"] == fake.administration_id
    assert {"name", "language", "currency", "country", "time_zone", "access", "suspended",
            "period_locked_until", "period_start_date"} <= administration.keys()  # fmt: skip

    assert ids(get(fake, "contacts.json")) == {debtor_id}
    contact = get(fake, f"contacts/{debtor_id}.json").json()
    assert contact["company_name"] == "Bakker B.V."
    assert contact["contact_people"][0]["email"] == "els@bakker.nl"
    assert get(fake, f"contacts/{debtor_id}").status_code == 404
    assert get(fake, "sales_invoices").status_code == 404


def test_missing_wrong_or_revoked_token_is_401(fake: FakeMoneybird) -> None:
    url = f"{fake.api_url}/sales_invoices.json"
    missing = requests.get(url)
    wrong = requests.get(url, headers={"Authorization": "Bearer nope"})
    assert (missing.status_code, wrong.status_code) == (401, 401)
    assert set(wrong.json()) == {"error", "symbolic"}
    assert requests.get(url, headers=fake.auth_headers).status_code == 200

    fake.revoke_token()

    assert requests.get(url, headers=fake.auth_headers).status_code == 401


def test_unknown_administration_or_record_is_404_with_symbolic_error(fake: FakeMoneybird) -> None:
    other = requests.get(
        f"{fake.base_url}/123456789/sales_invoices.json", headers=fake.auth_headers
    )
    missing = get(fake, "sales_invoices/496081500075190000.json")
    for answer in (other, missing):
        assert answer.status_code == 404
        assert answer.json() == {"error": "record not found", "symbolic": {"id": "not_found"}}


def test_without_an_explicit_period_last_years_overdue_invoices_are_missing(
    fake: FakeMoneybird, debtor_id: str
) -> None:
    this_year = late_invoice(fake, debtor_id, 2026)
    last_year = late_invoice(fake, debtor_id, 2025)

    assert ids(get(fake, "sales_invoices.json")) == {this_year.id}
    assert ids(get(fake, "sales_invoices.json", filter="state:late")) == {this_year.id}
    everything = get(fake, "sales_invoices.json", filter="state:late,period:20000101..20991231")
    assert ids(everything) == {this_year.id, last_year.id}
    assert ids(get(fake, "sales_invoices/synchronization.json")) == {this_year.id}


def test_filters_on_state_period_and_contact(fake: FakeMoneybird, debtor_id: str) -> None:
    late = late_invoice(fake, debtor_id)
    open_ = fake.add_invoice(debtor_id, invoice_date=date(2026, 3, 10))
    paid = fake.add_invoice(debtor_id, invoice_date=date(2025, 6, 1), state="paid")
    other = fake.add_invoice(fake.add_contact(firstname="Jan", lastname="Smit").id)

    assert ids(get(fake, "sales_invoices.json", filter="state:open|late")) == {
        late.id, open_.id, other.id,
    }  # fmt: skip
    assert ids(get(fake, "sales_invoices.json", filter="period:202502..202512")) == {paid.id}
    assert ids(get(fake, "sales_invoices.json", filter="period:prev_year")) == {paid.id}
    assert ids(get(fake, "sales_invoices.json", filter="period:this_month")) == {
        open_.id, other.id,
    }  # fmt: skip
    by_contact = get(fake, "sales_invoices.json", filter=f"contact_id:{debtor_id},state:all")
    assert ids(by_contact) == {late.id, open_.id}
    invalid = get(fake, "sales_invoices.json", filter="state:overdue")
    assert invalid.status_code == 400
    assert invalid.json()["symbolic"] == {"filter": "invalid"}


def test_pages_are_linked_with_absolute_next_and_prev(fake: FakeMoneybird, debtor_id: str) -> None:
    created = {fake.add_invoice(debtor_id, invoice_date=date(2026, 1, 5)).id for _ in range(7)}
    seen: set[str] = set()
    url: str | None = f"{fake.api_url}/sales_invoices.json?filter=state:all&per_page=3"
    pages = []
    while url:
        answer = requests.get(url, headers=fake.auth_headers)
        pages.append(answer)
        seen |= ids(answer)
        url = answer.links.get("next", {}).get("url")
    assert seen == created
    assert [len(page.json()) for page in pages] == [3, 3, 1]
    assert "prev" not in pages[0].links
    assert pages[2].links["prev"]["url"].startswith("http://127.0.0.1:")
    assert "filter=state" in pages[1].links["next"]["url"]
    assert get(fake, "sales_invoices.json", per_page=101).status_code == 400


def test_synchronization_returns_versions_and_at_most_100_invoices_per_call(
    fake: FakeMoneybird, debtor_id: str
) -> None:
    invoices = [late_invoice(fake, debtor_id) for _ in range(3)]
    versions = get(fake, "sales_invoices/synchronization.json", filter="state:late").json()
    assert {(v["id"], v["version"]) for v in versions} == {(i.id, i.version) for i in invoices}

    asked = [invoices[0].id, int(invoices[1].id), "496081500075190000"]
    full = post(fake, "sales_invoices/synchronization.json", {"ids": asked})
    assert [item["id"] for item in full.json()] == [invoices[0].id, invoices[1].id]

    too_many = post(fake, "sales_invoices/synchronization.json", {"ids": [invoices[0].id] * 101})
    assert too_many.status_code == 400
    assert set(too_many.json()) == {"error", "symbolic"}
    contacts = get(fake, "contacts/synchronization.json").json()
    assert [c["id"] for c in contacts] == [debtor_id]
    assert ids(post(fake, "contacts/synchronization.json", {"ids": [debtor_id]})) == {debtor_id}


def test_payments_reduce_unpaid_then_mark_paid_and_bump_version(
    fake: FakeMoneybird, debtor_id: str
) -> None:
    invoice = late_invoice(fake, debtor_id, total="363.0")
    path = f"sales_invoices/{invoice.id}/payments.json"
    version = invoice.version

    first = post(fake, path, {"payment": {"payment_date": "2026-03-16", "price": "10,95"}})
    assert first.status_code == 201
    assert first.json()["price"] == "10.95"
    assert first.json()["invoice_type"] == "SalesInvoice"
    after_part = get(fake, f"sales_invoices/{invoice.id}.json").json()
    assert (after_part["state"], after_part["total_unpaid"]) == ("late", "352.05")
    assert after_part["version"] > version

    rest = {"payment_date": "2026-03-17", "price": 352.05, "transaction_identifier": "tr_1"}
    assert post(fake, path, {"payment": rest}).status_code == 201
    paid = get(fake, f"sales_invoices/{invoice.id}.json").json()
    assert (paid["state"], paid["total_unpaid"], paid["paid_at"]) == ("paid", "0.0", "2026-03-17")
    assert paid["version"] > after_part["version"]

    undone = requests.delete(
        f"{fake.api_url}/sales_invoices/{invoice.id}/payments/{first.json()['id']}.json",
        headers=fake.auth_headers,
    )
    assert undone.status_code == 204
    assert get(fake, f"sales_invoices/{invoice.id}.json").json()["state"] == "late"


def test_payment_without_date_or_price_is_422_with_details(
    fake: FakeMoneybird, debtor_id: str
) -> None:
    invoice = late_invoice(fake, debtor_id)
    answer = post(fake, f"sales_invoices/{invoice.id}/payments.json", {"payment": {}})
    assert answer.status_code == 422
    assert answer.json()["error"]["payment_date"] == ["can't be blank"]
    assert answer.json()["details"]["price"] == [{"error": "blank"}]
    assert fake.invoice(invoice.id).total_paid == 0


def test_deprecated_register_payment_is_recorded_as_misuse(
    fake: FakeMoneybird, debtor_id: str
) -> None:
    invoice = late_invoice(fake, debtor_id)
    post(fake, f"sales_invoices/{invoice.id}/payments.json",
         {"payment": {"payment_date": "2026-03-17", "price": "1.0"}})  # fmt: skip
    assert fake.misuses == []

    requests.patch(
        f"{fake.api_url}/sales_invoices/{invoice.id}/register_payment.json",
        headers=fake.auth_headers,
        json={"payment": {"payment_date": "2026-03-17", "price": "1.0"}},
    )

    assert [m.endpoint for m in fake.misuses] == ["PATCH sales_invoices/{id}/register_payment"]


def test_notes_are_stored_on_the_invoice(fake: FakeMoneybird, debtor_id: str) -> None:
    invoice = late_invoice(fake, debtor_id)
    answer = post(fake, f"sales_invoices/{invoice.id}/notes.json",
                  {"note": {"note": "Reminder 1 sent by dunning", "todo": False}})  # fmt: skip
    assert answer.status_code == 201
    assert answer.json()["entity_type"] == "SalesInvoice"
    notes = get(fake, f"sales_invoices/{invoice.id}.json").json()["notes"]
    assert [n["note"] for n in notes] == ["Reminder 1 sent by dunning"]
    assert post(fake, f"sales_invoices/{invoice.id}/notes.json", {"note": {}}).status_code == 422
    assert fake.requests_to("POST sales_invoices/{id}/notes")[0].json == {
        "note": {"note": "Reminder 1 sent by dunning", "todo": False}
    }


def test_pause_and_resume_toggle_paused_and_bump_version(
    fake: FakeMoneybird, debtor_id: str
) -> None:
    invoice = late_invoice(fake, debtor_id)
    version = invoice.version
    assert post(fake, f"sales_invoices/{invoice.id}/pause.json").status_code == 204
    paused = get(fake, f"sales_invoices/{invoice.id}.json").json()
    assert paused["paused"] is True
    assert paused["version"] > version
    assert post(fake, f"sales_invoices/{invoice.id}/resume.json").status_code == 204
    assert get(fake, f"sales_invoices/{invoice.id}.json").json()["paused"] is False


def test_over_the_limit_is_429_retry_later_with_ratelimit_headers() -> None:
    with FakeMoneybird(TOKEN, today=TODAY, limit=5) as fake:
        answers = [get(fake, "contacts.json") for _ in range(6)]
        assert [a.status_code for a in answers] == [200] * 5 + [429]
        assert [a.headers["RateLimit-Remaining"] for a in answers[:5]] == ["4", "3", "2", "1", "0"]
        refused = answers[5]
        assert refused.json() == "Retry later"
        assert refused.headers["RateLimit-Limit"] == "5"
        reset = int(refused.headers["RateLimit-Reset"])
        assert time.time() + 290 < reset <= time.time() + 301
        assert refused.headers["Retry-After"] == str(reset)
        other_token = {"Authorization": "Bearer other"}
        fake.add_token("other")
        assert requests.get(f"{fake.api_url}/contacts.json", headers=other_token).ok


def test_time_scale_shrinks_the_window_and_delta_retry_after() -> None:
    with FakeMoneybird(TOKEN, limit=2, time_scale=0.002, retry_after="delta") as fake:
        answers = [get(fake, "contacts.json") for _ in range(3)]
        assert answers[2].status_code == 429
        assert answers[2].headers["Retry-After"] == "1"
        time.sleep(0.7)
        assert get(fake, "contacts.json").status_code == 200


def test_injected_faults_503_500_429_and_malformed(fake: FakeMoneybird) -> None:
    fake.fail_next(1, 503)
    fake.fail_next(1, 500)
    fake.fail_next(1, 429, retry_after_seconds=30)
    fake.fail_next(1, "malformed")
    answers = [get(fake, "contacts.json") for _ in range(5)]
    assert [a.status_code for a in answers] == [503, 500, 429, 200, 200]
    assert int(answers[2].headers["Retry-After"]) >= int(time.time()) + 29
    with pytest.raises(ValueError):
        answers[3].json()
    assert answers[4].json() == []
    assert all("RateLimit-Remaining" in a.headers for a in answers)


def test_timeout_fault_answers_too_late_but_the_write_happens(
    fake: FakeMoneybird, debtor_id: str
) -> None:
    invoice = late_invoice(fake, debtor_id)
    fake.fail_next(1, "timeout", sleep_seconds=1.0)
    with pytest.raises(requests.Timeout):
        requests.post(
            f"{fake.api_url}/sales_invoices/{invoice.id}/payments.json",
            headers=fake.auth_headers,
            json={"payment": {"payment_date": "2026-03-17", "price": "363.0"}},
            timeout=0.3,
        )
    assert fake.invoice(invoice.id).state == "paid"


def test_ids_and_amounts_are_strings(fake: FakeMoneybird, debtor_id: str) -> None:
    late_invoice(fake, debtor_id, total="363")
    (invoice,) = get(fake, "sales_invoices.json").json()
    assert isinstance(invoice["id"], str)
    assert invoice["id"].isdigit()
    assert int(invoice["id"]) > 2**32
    assert isinstance(invoice["contact_id"], str)
    assert invoice["total_price_incl_tax"] == "363.0"
    assert invoice["total_unpaid"] == "363.0"
    assert invoice["payment_reference"].startswith("RF")
    assert invoice["contact_person"] is None
    assert invoice["url"].startswith("http://127.0.0.1:")


def test_pdf_download_is_a_pdf(fake: FakeMoneybird, debtor_id: str) -> None:
    invoice = late_invoice(fake, debtor_id)
    answer = get(fake, f"sales_invoices/{invoice.id}/download_pdf.json")
    assert answer.headers["Content-Type"] == "application/pdf"
    assert answer.content.startswith(b"%PDF-")


def test_edits_in_moneybird_and_the_passing_of_days_bump_the_version(
    fake: FakeMoneybird, debtor_id: str
) -> None:
    invoice = fake.add_invoice(debtor_id, invoice_date=date(2026, 3, 10))
    assert invoice.state == "open"
    version = invoice.version
    fake.change_invoice(invoice.id, total_price_incl_tax="500,00")
    assert get(fake, f"sales_invoices/{invoice.id}.json").json()["total_unpaid"] == "500.0"
    assert invoice.version > version

    version = invoice.version
    fake.today = date(2026, 4, 1)

    assert (invoice.state, invoice.version > version) == ("late", True)


def test_seed_makes_a_realistic_mix_over_two_years(fake: FakeMoneybird) -> None:
    fake.seed(300, rng_seed=7)
    invoices = list(fake.store.invoices.values())
    contacts = list(fake.store.contacts.values())
    assert len(invoices) == 300
    assert {"open", "late", "reminded", "paid"} <= {i.state for i in invoices}
    assert any(i.paused for i in invoices)
    assert any(i.invoice_date.year < TODAY.year and i.total_unpaid > 0 for i in invoices)
    assert any(c.company_name for c in contacts)
    assert any(c.firstname and not c.company_name for c in contacts)
    assert any(c.contact_people for c in contacts)
    assert any(c.country == "BE" for c in contacts)
    assert any(c.phone and not c.phone.startswith("+") for c in contacts)
    again = FakeMoneybird(TOKEN, today=TODAY)
    again.seed(300, rng_seed=7)
    assert [i.total_price_incl_tax for i in again.store.invoices.values()] == [
        i.total_price_incl_tax for i in invoices
    ]


def test_demo_cli_serves_seeded_data() -> None:
    command = [sys.executable, "-m", "dunning.plugins.moneybird.fake",
               "--port", "0", "--invoices", "20", "--token", "demo-token"]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(3)]
        base_url = lines[0].split()[-1]
        administration_id = lines[1].split()[-1]
        assert lines[2].split()[-1] == "demo-token"
        answer = requests.get(
            f"{base_url}/{administration_id}/sales_invoices/synchronization.json",
            headers={"Authorization": "Bearer demo-token"},
            params={"filter": "period:20000101..20991231"},
            timeout=10,
        )
        assert answer.status_code == 200
        assert len(answer.json()) == 20
    finally:
        process.terminate()
        process.wait(timeout=10)
