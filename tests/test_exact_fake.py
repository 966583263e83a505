"""The Exact Online fake keeps the contract of API-CONTRACTS.md section 1, over real HTTP."""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from dunning.plugins.exact.fake import FakeExact

TODAY = date(2026, 3, 17)
REDIRECT = "http://localhost:8400/callback"
JSON = "application/json"
DAY = 86_400.0


@pytest.fixture
def fake() -> Iterator[FakeExact]:
    with FakeExact(divisions=(123456, 654321), today=TODAY) as server:
        yield server


@pytest.fixture
def access(fake: FakeExact) -> str:
    return fake.issue_tokens()[0]


@pytest.fixture
def account_id(fake: FakeExact) -> str:
    account = fake.add_account("Bakker B.V.", email="info@bakker.nl")
    fake.add_contact(account.id, "Els", "Bakker", email="els@bakker.nl")
    return account.id


def api(fake: FakeExact, path: str, division: int | None = None) -> str:
    return f"{fake.base_url}/api/v1/{division or fake.division}/{path}"


def get(
    fake: FakeExact, token: str, path: str, accept: str | None = JSON, **params: Any
) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"}
    if accept:
        headers["Accept"] = accept
    return requests.get(api(fake, path), headers=headers, params=params, timeout=10)


def post(fake: FakeExact, token: str, path: str, body: Any) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}", "Accept": JSON}
    return requests.post(api(fake, path), headers=headers, json=body, timeout=10)


def token_call(fake: FakeExact, **form: str) -> requests.Response:
    base = {"client_id": "test-client", "client_secret": "test-secret"}
    return requests.post(f"{fake.base_url}/api/oauth2/token", data={**base, **form}, timeout=10)


def follow(fake: FakeExact, token: str, url: str) -> tuple[list[dict[str, Any]], int]:
    """Every row behind ``url`` by following ``__next`` as given; also the page count."""
    rows: list[dict[str, Any]] = []
    pages = 0
    next_url: str | None = url
    while next_url:
        headers = {"Authorization": f"Bearer {token}", "Accept": JSON}
        response = requests.get(next_url, headers=headers, timeout=10)
        assert response.status_code == 200, response.text
        body = response.json()["d"]
        rows.extend(body["results"])
        pages += 1
        next_url = body.get("__next")
        if next_url:
            assert next_url.startswith(fake.base_url + "/api/v1/")
    return rows, pages


def message(response: requests.Response) -> str:
    value = response.json()["error"]["message"]["value"]
    assert isinstance(value, str)
    return value


# -- OAuth ---------------------------------------------------------------------------------------


def test_auth_page_redirects_with_the_code_url_encoded_and_the_state(fake: FakeExact) -> None:
    params = {
        "client_id": "test-client",
        "redirect_uri": REDIRECT,
        "response_type": "code",
        "state": "xyz 1",
    }
    response = requests.get(
        f"{fake.base_url}/api/oauth2/auth", params=params, allow_redirects=False, timeout=10
    )
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith(REDIRECT + "?code=")
    assert "%21" in location and "!" not in location
    query = parse_qs(urlsplit(location).query)
    assert query["state"] == ["xyz 1"]
    assert "!" in query["code"][0]


def test_auth_page_refuses_an_unknown_client_or_redirect(fake: FakeExact) -> None:
    for client_id, redirect in (("other", REDIRECT), ("test-client", "http://evil/cb")):
        params = {"client_id": client_id, "redirect_uri": redirect, "response_type": "code"}
        response = requests.get(
            f"{fake.base_url}/api/oauth2/auth", params=params, allow_redirects=False, timeout=10
        )
        assert response.status_code == 400
        assert response.headers["Content-Type"].startswith("text/html")


def test_code_exchange_needs_the_decoded_code_once_and_sends_expires_in_as_string(
    fake: FakeExact,
) -> None:
    code = fake.authorization_code()
    still_encoded = code.replace("!", "%21")
    refused = token_call(
        fake, grant_type="authorization_code", code=still_encoded, redirect_uri=REDIRECT
    )
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_grant"
    granted = token_call(fake, grant_type="authorization_code", code=code, redirect_uri=REDIRECT)
    assert granted.status_code == 200
    body = granted.json()
    assert body["expires_in"] == "600"
    assert body["token_type"] == "bearer"
    assert body["refresh_token"] in fake.valid_refresh_tokens()
    assert get(fake, body["access_token"], "crm/Accounts").status_code == 200
    again = token_call(fake, grant_type="authorization_code", code=code, redirect_uri=REDIRECT)
    assert again.json()["error"] == "invalid_grant"
    assert [entry["status"] for entry in fake.token_requests] == [400, 200, 400]


def test_code_expires_after_three_minutes_and_a_wrong_client_is_401(fake: FakeExact) -> None:
    code = fake.authorization_code()
    wrong = token_call(
        fake, grant_type="authorization_code", code=code, redirect_uri=REDIRECT, client_secret="x"
    )
    assert wrong.status_code == 401
    assert wrong.json()["error"] == "invalid_client"
    fake.advance(181)
    late = token_call(fake, grant_type="authorization_code", code=code, redirect_uri=REDIRECT)
    assert late.status_code == 400
    assert late.json()["error"] == "invalid_grant"


def test_early_refresh_is_refused_with_reason_header_and_the_token_stays_valid(
    fake: FakeExact,
) -> None:
    _, refresh = fake.issue_tokens(age_seconds=500)
    early = token_call(fake, grant_type="refresh_token", refresh_token=refresh)
    assert early.status_code == 400
    assert early.json() == {
        "error": "access_denied",
        "error_description": "Rate limit exceeded: access_token not expired",
    }
    assert early.headers["Reason"].startswith("TooEarlyToRefreshTokens")
    assert refresh in fake.valid_refresh_tokens()
    assert fake.refreshes == 0
    fake.advance(71)
    assert token_call(fake, grant_type="refresh_token", refresh_token=refresh).status_code == 200


def test_refresh_rotates_and_the_old_refresh_token_is_refused(fake: FakeExact) -> None:
    old_access, old_refresh = fake.issue_tokens(age_seconds=580)
    response = token_call(fake, grant_type="refresh_token", refresh_token=old_refresh)
    assert response.status_code == 200
    new = response.json()
    assert new["refresh_token"] != old_refresh
    assert fake.refreshes == 1
    assert fake.valid_refresh_tokens() == {new["refresh_token"]}
    assert get(fake, old_access, "crm/Accounts").status_code == 200
    reused = token_call(fake, grant_type="refresh_token", refresh_token=old_refresh)
    assert reused.status_code == 400
    assert reused.json() == {
        "error": "invalid_grant",
        "error_description": "Old refresh token used.",
    }
    assert fake.token_requests[-1]["refresh_token"] == old_refresh


def test_unused_refresh_token_dies_after_thirty_days(fake: FakeExact) -> None:
    _, refresh = fake.issue_tokens()
    fake.advance(30 * DAY + 5)
    assert fake.valid_refresh_tokens() == set()
    response = token_call(fake, grant_type="refresh_token", refresh_token=refresh)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert response.json()["error_description"].startswith("The refresh token expired at 20")


def test_expired_or_unknown_access_token_is_401_with_www_authenticate(fake: FakeExact) -> None:
    stale, _ = fake.issue_tokens(age_seconds=601)
    expired = get(fake, stale, "crm/Accounts")
    assert expired.status_code == 401
    assert "access token expired" in expired.headers["WWW-Authenticate"]
    unknown = get(fake, "nope", "crm/Accounts")
    assert unknown.status_code == 401
    assert unknown.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    assert unknown.content == b""
    fresh, _ = fake.issue_tokens()
    assert get(fake, fresh, "crm/Accounts").status_code == 200
    fake.expire_access_tokens()
    assert "access token expired" in get(fake, fresh, "crm/Accounts").headers["WWW-Authenticate"]


def test_access_token_ages_on_the_fake_clock(fake: FakeExact, access: str) -> None:
    assert get(fake, access, "crm/Accounts").status_code == 200
    fake.advance(601)
    assert get(fake, access, "crm/Accounts").status_code == 401


# -- OData shapes --------------------------------------------------------------------------------


def test_without_accept_json_the_answer_is_atom_xml(
    fake: FakeExact, access: str, account_id: str
) -> None:
    response = get(fake, access, "crm/Accounts", accept=None)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/atom+xml")
    root = ET.fromstring(response.content)
    atom = "{http://www.w3.org/2005/Atom}"
    data = "{http://schemas.microsoft.com/ado/2007/08/dataservices}"
    meta = "{http://schemas.microsoft.com/ado/2007/08/dataservices/metadata}"
    assert root.tag == f"{atom}feed"
    properties = root.find(f"{atom}entry/{atom}content/{meta}properties")
    assert properties is not None
    assert properties.findtext(f"{data}Name") == "Bakker B.V."
    assert properties.findtext(f"{data}ID") == account_id
    blocked = properties.find(f"{data}Blocked")
    assert blocked is not None and blocked.get(f"{meta}type") == "Edm.Boolean"


def test_records_carry_metadata_and_dates_are_midnight_utc(
    fake: FakeExact, access: str, account_id: str
) -> None:
    number = fake.add_invoice(
        account_id, "121.00", invoice_date=date(2014, 2, 12), due_date=date(2014, 3, 14)
    )
    response = get(fake, access, "cashflow/Receivables")
    [row] = response.json()["d"]["results"]
    assert "__next" not in response.json()["d"]
    assert row["InvoiceDate"] == "/Date(1392163200000)/"
    assert row["DueDate"] == f"/Date({int(datetime(2014, 3, 14, tzinfo=UTC).timestamp()) * 1000})/"
    assert row["InvoiceNumber"] == number
    assert row["AmountDC"] == 121.0 and isinstance(row["AmountDC"], float)
    assert row["LastPaymentDate"] is None
    assert row["__metadata"]["type"] == "Exact.Web.Api.Models.Receivable"
    assert row["__metadata"]["uri"] == api(fake, f"cashflow/Receivables(guid'{row['ID']}')")
    assert row["Modified"].startswith("/Date(")


def test_account_code_is_left_padded_to_eighteen(fake: FakeExact, access: str) -> None:
    fake.add_account("Visser", code="42")
    [row] = get(fake, access, "crm/Accounts", **{"$select": "Code"}).json()["d"]["results"]
    assert row["Code"] == " " * 16 + "42"
    assert set(row) == {"__metadata", "Code"}


def test_select_is_required_on_bulk_and_sync_and_honoured(
    fake: FakeExact, access: str, account_id: str
) -> None:
    fake.add_invoice(account_id, "50")
    for path in ("bulk/Cashflow/Receivables", "sync/Cashflow/PaymentTerms", "sync/CRM/Accounts"):
        refused = get(fake, access, path)
        assert refused.status_code == 400
        assert message(refused) == "Please add a $select or a $top=1 statement to the query string."
    rows = get(fake, access, "sync/Cashflow/PaymentTerms", **{"$select": "ID,Timestamp"})
    [row] = rows.json()["d"]["results"]
    assert set(row) == {"__metadata", "ID", "Timestamp"}
    assert row["Timestamp"] > 2**32
    wrong = get(fake, access, "bulk/CRM/Accounts", **{"$select": "ID,Nmae"})
    assert wrong.status_code == 400
    assert "Nmae" in message(wrong)


def test_standard_pages_hold_60_rows_and_next_covers_every_row_once(
    fake: FakeExact, access: str, account_id: str
) -> None:
    numbers = {fake.add_invoice(account_id, "10") for _ in range(130)}
    rows, pages = follow(fake, access, api(fake, "cashflow/Receivables?$select=ID,InvoiceNumber"))
    assert pages == 3
    assert len(rows) == len({row["ID"] for row in rows}) == 130
    assert {row["InvoiceNumber"] for row in rows} == numbers
    first = get(fake, access, "cashflow/Receivables", **{"$select": "ID"}).json()["d"]
    assert len(first["results"]) == 60
    assert "$select=ID" in first["__next"] and "$skiptoken=guid'" in first["__next"]
    assert [row["ID"] for row in rows] == sorted(row["ID"] for row in rows)


def test_top_limits_a_standard_page(fake: FakeExact, access: str, account_id: str) -> None:
    for _ in range(5):
        fake.add_invoice(account_id, "10")
    body = get(fake, access, "cashflow/Receivables", **{"$top": "2"}).json()["d"]
    assert len(body["results"]) == 2
    assert "__next" not in body


def test_sync_pages_hold_1000_rows_and_timestamp_filter_returns_only_changes(
    fake: FakeExact, access: str
) -> None:
    fake.seed(2100, rng_seed=1)
    url = api(fake, "sync/Cashflow/PaymentTerms?$select=ID,Timestamp&$filter=Timestamp gt 1L")
    rows, pages = follow(fake, access, url)
    total = len(fake.store.division().terms)
    assert len(rows) == len({row["ID"] for row in rows}) == total
    assert pages == -(-total // 1000)
    stamps = [row["Timestamp"] for row in rows]
    assert stamps == sorted(stamps)
    highest = stamps[-1]
    account = fake.add_account("Nieuw B.V.")
    number = fake.add_invoice(account.id, "99")
    again, _ = follow(
        fake,
        access,
        api(
            fake,
            f"sync/Cashflow/PaymentTerms?$select=ID,InvoiceNumber&$filter=Timestamp gt {highest}",
        ),
    )
    assert [row["InvoiceNumber"] for row in again] == [number]
    accounts, _ = follow(
        fake, access, api(fake, f"sync/CRM/Accounts?$select=ID&$filter=Timestamp gt {highest}")
    )
    assert [row["ID"] for row in accounts] == [account.id]
    fake.change_account(account.id, name="Nieuw en Beter B.V.")
    moved = get(
        fake,
        access,
        "sync/CRM/Accounts",
        **{"$select": "ID,Name", "$filter": f"Timestamp gt {highest + 2}"},
    )
    assert [row["Name"] for row in moved.json()["d"]["results"]] == ["Nieuw en Beter B.V."]


def test_next_link_survives_a_client_adding_its_params_again(
    fake: FakeExact, access: str, account_id: str
) -> None:
    for _ in range(70):
        fake.add_invoice(account_id, "10")
    first = get(fake, access, "cashflow/Receivables", **{"$select": "ID"}).json()["d"]
    headers = {"Authorization": f"Bearer {access}", "Accept": JSON}
    second = requests.get(first["__next"], headers=headers, params={"$select": "ID"}, timeout=10)
    assert second.status_code == 200
    assert len(second.json()["d"]["results"]) == 10


def test_filters_are_parsed_strictly(fake: FakeExact, access: str, account_id: str) -> None:
    paid = fake.add_invoice(account_id, "10")
    open_number = fake.add_invoice(account_id, "20")
    fake.pay(paid)
    found = get(
        fake,
        access,
        "bulk/Cashflow/Receivables",
        **{
            "$select": "InvoiceNumber",
            "$filter": f"IsFullyPaid eq false and Account eq guid'{account_id}'",
        },
    )
    assert [row["InvoiceNumber"] for row in found.json()["d"]["results"]] == [open_number]
    for bad in (
        "IsFullyPaid eq 0",
        "AmountDC gt 5",
        "IsFullyPaid eq false or ID eq 1",
        "Name eq 'x'",
    ):
        refused = get(
            fake, access, "bulk/Cashflow/Receivables", **{"$select": "ID", "$filter": bad}
        )
        assert refused.status_code == 400, bad
        assert message(refused)
    sync_refused = get(
        fake, access, "sync/CRM/Accounts", **{"$select": "ID", "$filter": "Timestamp ge 1L"}
    )
    assert sync_refused.status_code == 400


def test_receivables_list_has_one_row_per_open_term(
    fake: FakeExact, access: str, account_id: str
) -> None:
    number = fake.add_invoice(account_id, "100.01", terms=2)
    paid = fake.add_invoice(account_id, "5")
    fake.pay(paid)
    payable_account = fake.add_account("Leverancier")
    fake.add_payable(payable_account.id, "40")
    rows = get(fake, access, "read/financial/ReceivablesList").json()["d"]["results"]
    assert [row["InvoiceNumber"] for row in rows] == [number, number]
    assert sorted(row["Amount"] for row in rows) == [50.0, 50.01]
    assert rows[0]["AccountCode"].strip() and rows[0]["AccountName"] == "Bakker B.V."
    terms = fake.terms(number)
    assert [t.transaction_amount_dc for t in terms] == [Decimal("100.01")] * 2
    sync, _ = follow(fake, access, api(fake, "sync/Cashflow/PaymentTerms?$select=LineType"))
    assert sorted(row["LineType"] for row in sync) == [20, 20, 20, 22]
    receivables = get(fake, access, "cashflow/Receivables", **{"$select": "LineType"})
    assert {row["LineType"] for row in receivables.json()["d"]["results"]} == {20}


def test_current_me_has_no_division_in_the_path(fake: FakeExact, access: str) -> None:
    headers = {"Authorization": f"Bearer {access}", "Accept": JSON}
    response = requests.get(f"{fake.base_url}/api/v1/current/Me", headers=headers, timeout=10)
    [me] = response.json()["d"]["results"]
    assert me["CurrentDivision"] == 123456
    assert me["LanguageCode"] == "nl-NL"
    assert me["ServerTime"].startswith("/Date(")
    selected = requests.get(
        f"{fake.base_url}/api/v1/current/Me",
        headers=headers,
        params={"$select": "CurrentDivision"},
        timeout=10,
    )
    assert set(selected.json()["d"]["results"][0]) == {"__metadata", "CurrentDivision"}
    assert fake.counts["GET current/Me"] == 2


def test_a_division_outside_the_users_gets_403_and_errors_use_the_envelope(
    fake: FakeExact, access: str
) -> None:
    headers = {"Authorization": f"Bearer {access}", "Accept": JSON}
    refused = requests.get(api(fake, "crm/Accounts", 999), headers=headers, timeout=10)
    assert refused.status_code == 403
    assert refused.json() == {
        "error": {
            "code": "",
            "message": {"lang": "", "value": "You have no access to division 999"},
        }
    }
    other = requests.get(api(fake, "crm/Accounts", 654321), headers=headers, timeout=10)
    assert other.status_code == 200
    missing = get(fake, access, "crm/Nothing")
    assert missing.status_code == 404
    assert message(missing)


# -- writes --------------------------------------------------------------------------------------


def test_notes_and_tasks_are_created_and_kept(
    fake: FakeExact, access: str, account_id: str
) -> None:
    note = post(
        fake,
        access,
        "activities/CommunicationNotes",
        {
            "Account": account_id,
            "Subject": "Herinnering 1",
            "Notes": "Verstuurd",
            "Date": "2026-03-17T00:00:00",
        },
    )
    assert note.status_code == 201
    entity = note.json()["d"]
    assert entity["Subject"] == "Herinnering 1" and entity["ID"]
    assert entity["Date"] == "/Date(1773705600000)/"
    assert fake.notes[0]["ID"] == entity["ID"]
    task = post(fake, access, "activities/Tasks", {"Account": account_id, "Description": "Bellen"})
    assert task.status_code == 201
    assert task.json()["d"]["Status"] == 20
    assert len(fake.tasks) == 1
    missing = post(fake, access, "activities/CommunicationNotes", {"Subject": "x"})
    unknown = post(
        fake,
        access,
        "activities/CommunicationNotes",
        {"Account": "00000000-0000-0000-0000-000000000001", "Subject": "x"},
    )
    no_description = post(fake, access, "activities/Tasks", {"Account": account_id})
    assert [missing.status_code, unknown.status_code, no_description.status_code] == [400] * 3
    assert "Account" in message(missing)
    assert len(fake.notes) == 1 and len(fake.tasks) == 1
    assert fake.counts["POST activities/CommunicationNotes"] == 3


def bank_entry(account_id: str, amount: float, our_ref: int, description: str) -> dict[str, Any]:
    line = {
        "Account": account_id,
        "AmountFC": amount,
        "Date": "2026-03-16T00:00:00",
        "Description": description,
        "OurRef": our_ref,
        "GLAccount": "11111111-2222-3333-4444-555555555555",
    }
    return {"JournalCode": "20", "BankEntryLines": [line]}


def test_bank_entry_for_the_open_amount_matches_the_invoice(
    fake: FakeExact, access: str, account_id: str
) -> None:
    number = fake.add_invoice(account_id, "200.00", terms=2)
    response = post(
        fake,
        access,
        "financialtransaction/BankEntries",
        bank_entry(account_id, 200.0, number, "full"),
    )
    assert response.status_code == 201
    assert response.json()["d"]["EntryID"] and response.json()["d"]["EntryNumber"]
    assert fake.open_amount(number) == 0
    assert all(t.status == 50 and t.is_fully_paid for t in fake.terms(number))
    assert {t.last_payment_date for t in fake.terms(number)} == {date(2026, 3, 16)}
    lines = get(
        fake, access, "financialtransaction/BankEntryLines", **{"$filter": f"OurRef eq {number}"}
    )
    [line] = lines.json()["d"]["results"]
    assert line["AmountFC"] == 200.0 and line["Description"] == "full"
    by_text = get(
        fake, access, "financialtransaction/BankEntryLines", **{"$filter": "Description eq 'full'"}
    )
    assert len(by_text.json()["d"]["results"]) == 1
    assert len(fake.bank_entries) == 1


def test_bank_entry_for_part_splits_the_term_and_too_much_stays_unmatched(
    fake: FakeExact, access: str, account_id: str
) -> None:
    number = fake.add_invoice(account_id, "100.00")
    [before] = fake.terms(number)
    post(
        fake,
        access,
        "financialtransaction/BankEntries",
        bank_entry(account_id, 30.0, number, "part"),
    )
    terms = fake.terms(number)
    assert len(terms) == 2
    open_term = next(t for t in terms if t.status == 20)
    paid_term = next(t for t in terms if t.status == 50)
    assert open_term.id == before.id and open_term.amount_dc == Decimal("70.00")
    assert paid_term.id != before.id and paid_term.entry_id != before.entry_id
    assert paid_term.amount_dc == Decimal("30.00")
    assert open_term.timestamp > before.timestamp
    assert fake.open_amount(number) == Decimal("70.00")
    post(
        fake,
        access,
        "financialtransaction/BankEntries",
        bank_entry(account_id, 80.0, number, "over"),
    )
    assert fake.open_amount(number) == Decimal("70.00")
    lines = get(
        fake, access, "financialtransaction/BankEntryLines", **{"$filter": f"OurRef eq {number}"}
    )
    assert len(lines.json()["d"]["results"]) == 2


def test_pay_and_delete_show_up_in_sync(fake: FakeExact, access: str, account_id: str) -> None:
    number = fake.add_invoice(account_id, "80")
    fake.pay(number, "30", on=date(2026, 3, 1))
    assert fake.open_amount(number) == Decimal("50.00")
    term_ids = {t.id for t in fake.terms(number)}
    fake.delete_invoice(number)
    deleted = get(fake, access, "sync/Deleted", **{"$select": "EntityKey,EntityType,Timestamp"})
    rows = deleted.json()["d"]["results"]
    assert {row["EntityKey"] for row in rows} == term_ids
    assert {row["EntityType"] for row in rows} == {10}
    receivables = get(fake, access, "cashflow/Receivables").json()["d"]["results"]
    assert receivables == []


# -- rate limits and faults ----------------------------------------------------------------------


def test_minutely_limit_gives_429_with_only_minutely_epoch_ms_headers() -> None:
    with FakeExact(minutely_limit=3, time_scale=0.02) as fake:
        access = fake.issue_tokens()[0]
        answers = [get(fake, access, "crm/Accounts") for _ in range(4)]
        assert [a.status_code for a in answers] == [200, 200, 200, 429]
        assert answers[0].headers["X-RateLimit-Minutely-Remaining"] == "2"
        assert answers[0].headers["X-RateLimit-Remaining"] == "4999"
        refused = answers[3]
        assert message(refused) == "API rate limit exceeded"
        assert "X-RateLimit-Limit" not in refused.headers
        assert "X-RateLimit-Remaining" not in refused.headers
        assert "Retry-After" not in refused.headers
        reset_ms = int(refused.headers["X-RateLimit-Minutely-Reset"])
        assert time.time() * 1000 < reset_ms < (time.time() + 2) * 1000
        time.sleep(max(0.0, reset_ms / 1000 - time.time()) + 0.05)
        assert get(fake, access, "crm/Accounts").status_code == 200
        daily_reset = int(answers[0].headers["X-RateLimit-Reset"])
        assert daily_reset % 86_400_000 == 0


def test_daily_limit_gives_429_with_daily_headers(fake: FakeExact, access: str) -> None:
    fake.use_daily_limit(1)
    assert get(fake, access, "crm/Accounts").status_code == 200
    refused = get(fake, access, "crm/Accounts")
    assert refused.status_code == 429
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    assert "X-RateLimit-Minutely-Remaining" in refused.headers
    assert token_call(fake, grant_type="refresh_token", refresh_token="x").status_code == 400
    fake.reset_limits()
    assert get(fake, access, "crm/Accounts").status_code == 200


def test_faults_hit_the_next_api_calls(fake: FakeExact, access: str, account_id: str) -> None:
    fake.fail_next(1, 500)
    fake.fail_next(1, 503)
    fake.fail_next(1, 429)
    fake.fail_next(1, "malformed")
    server_error = get(fake, access, "crm/Accounts")
    assert server_error.status_code == 500 and message(server_error)
    unavailable = get(fake, access, "crm/Accounts")
    assert unavailable.status_code == 503
    assert unavailable.headers["Content-Type"].startswith("text/html")
    limited = get(fake, access, "crm/Accounts")
    assert limited.status_code == 429
    reset = int(limited.headers["X-RateLimit-Minutely-Reset"]) / 1000
    assert 0 < reset - time.time() <= 1.5
    broken = get(fake, access, "crm/Accounts")
    assert broken.status_code == 200
    with pytest.raises(ValueError):
        broken.json()
    assert get(fake, access, "crm/Accounts").status_code == 200


def test_timeout_fault_carries_out_the_write_before_answering_late(
    fake: FakeExact, access: str, account_id: str
) -> None:
    fake.fail_next(1, "timeout", sleep_seconds=0.6)
    with pytest.raises(requests.exceptions.Timeout):
        requests.post(
            api(fake, "activities/Tasks"),
            headers={"Authorization": f"Bearer {access}", "Accept": JSON},
            json={"Account": account_id, "Description": "Bellen"},
            timeout=0.2,
        )
    assert len(fake.tasks) == 1


def test_log_records_endpoint_token_accept_and_status(
    fake: FakeExact, access: str, account_id: str
) -> None:
    get(fake, access, "sync/Cashflow/PaymentTerms", **{"$select": "ID"})
    get(fake, access, "crm/Accounts", accept=None)
    [entry] = fake.requests_to("GET sync/Cashflow/PaymentTerms")
    assert entry.status == 200 and entry.token == access and entry.accept == JSON
    assert entry.query == {"$select": "ID"}
    assert fake.requests_to("GET crm/Accounts")[0].accept == "*/*"
    fake.clear_log()
    assert fake.log == [] and not fake.counts


def test_seed_builds_accounts_with_main_contacts_and_varied_invoices(
    fake: FakeExact, access: str
) -> None:
    fake.seed(500, rng_seed=3)
    division = fake.store.division()
    accounts = list(division.accounts)
    assert len(accounts) == 100
    assert all(a.main_contact in division.contacts for a in accounts)
    assert any(a.email is None for a in accounts)
    assert {a.language for a in accounts} <= {"NL", "EN", "FR"}
    terms = [t for t in division.terms if t.line_type == 20]
    assert len(terms) >= 500
    assert any(t.status == 50 for t in terms) and any(t.amount_dc < 0 for t in terms)
    assert any(t.transaction_amount_dc != t.amount_dc for t in terms)
    assert any(not name.isascii() for name in (a.name for a in accounts))


def test_rows_carry_the_documented_fields_and_timestamp_only_on_sync(
    fake: FakeExact, access: str, account_id: str
) -> None:
    [row] = get(fake, access, "crm/Accounts").json()["d"]["results"]
    assert set(row) == {
        "__metadata", "ID", "Code", "Name", "Email", "Phone", "Language", "MainContact",
        "Blocked", "Status", "ChamberOfCommerce", "VATNumber", "AddressLine1", "Postcode", "City",
        "Country", "Modified",
    }  # fmt: skip
    assert row["MainContact"] and row["Status"] == "C" and row["Language"] == "NL"
    [contact] = get(fake, access, "crm/Contacts").json()["d"]["results"]
    assert contact["FullName"] == "Els Bakker" and contact["IsMainContact"] is True
    assert "Timestamp" not in contact
    synced = get(fake, access, "sync/CRM/Contacts", **{"$select": "Timestamp,Account"})
    [sync_row] = synced.json()["d"]["results"]
    assert sync_row["Account"] == account_id and sync_row["Timestamp"] > 2**32


def test_a_post_without_accept_json_answers_an_atom_entry(
    fake: FakeExact, access: str, account_id: str
) -> None:
    response = requests.post(
        api(fake, "activities/Tasks"),
        headers={"Authorization": f"Bearer {access}"},
        json={"Account": account_id, "Description": "Bellen"},
        timeout=10,
    )
    assert response.status_code == 201
    root = ET.fromstring(response.content)
    assert root.tag == "{http://www.w3.org/2005/Atom}entry"
    assert "Bellen" in response.text
