"""The ``exact`` source against the local fake of the Exact Online API, over real HTTP: mapping,
incremental sync and its request counts, OAuth refresh and rotation, rate limits, faults,
write-back and the conformance kit."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from dunning.core.errors import ConfigError, SourceError, SourceLimitReached
from dunning.core.ledger import Ledger
from dunning.core.ledger.tokens import TokenPair
from dunning.core.models import (
    Debtor,
    DebtorKind,
    Invoice,
    Payment,
    RowProblem,
    SyncCursor,
)
from dunning.core.progress import NoProgress
from dunning.core.source import Capability, SourceContext, SyncRecord
from dunning.core.summary import RunSummary
from dunning.core.sync import sync_source
from dunning.core.testing.sources import SourceUnderTest, check_source
from dunning.plugins.exact import ExactSource
from dunning.plugins.exact.client import forget_shared_limits
from dunning.plugins.exact.config import ExactConfig
from dunning.plugins.exact.fake import FakeExact
from dunning.plugins.exact.mapping import exact_date
from dunning.plugins.exact.oauth import ExactAuth

CLIENT_ID, SECRET = "test-client", "test-secret"
STREAMS = {
    "GET sync/CRM/Accounts",
    "GET sync/CRM/Contacts",
    "GET sync/Cashflow/PaymentTerms",
    "GET sync/Deleted",
}


@pytest.fixture
def fake() -> Iterator[FakeExact]:
    with FakeExact(client_id=CLIENT_ID, client_secret=SECRET) as server:
        yield server


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    opened = Ledger.open(f"sqlite:///{tmp_path / 'dunning.db'}")
    yield opened
    opened.close()


def authorize(
    fake: FakeExact, ledger: Ledger, *, age: float = 0.0, left: float | None = None
) -> TokenPair:
    """Store a pair from the fake as ``dunning auth exact`` would; ``age``: how old its access
    token is at the fake, ``left``: seconds of life the ledger believes it has."""
    access, refresh = fake.issue_tokens(age_seconds=age)
    remaining = 600 - age if left is None else left
    pair = TokenPair(access, refresh, datetime.now(UTC) + timedelta(seconds=remaining))
    with ledger.tokens.locked("default", "exact") as held:
        held.save(pair)
    return pair


def settings(fake: FakeExact, **overrides: Any) -> dict[str, Any]:
    return {
        "client_id": CLIENT_ID,
        "client_secret": SECRET,
        "base_url": fake.base_url,
        "timeout": 2,
        "max_attempts": 3,
        **overrides,
    }


def source_for(fake: FakeExact, ledger: Ledger, **overrides: Any) -> ExactSource:
    config = ExactConfig.model_validate(settings(fake, **overrides))
    return ExactSource(config, SourceContext("main", Path(), ledger.tokens))


def split(records: list[SyncRecord]) -> tuple[dict[str, Debtor], dict[str, Invoice]]:
    debtors = {r.debtor_id: r for r in records if isinstance(r, Debtor)}
    invoices = {r.number: r for r in records if isinstance(r, Invoice)}
    return debtors, invoices


def cursor_of(records: list[SyncRecord]) -> str:
    last = records[-1]
    assert isinstance(last, SyncCursor)
    return last.value


def changes(records: list[SyncRecord]) -> list[SyncRecord]:
    return [r for r in records if not isinstance(r, SyncCursor)]


def bakker(fake: FakeExact) -> tuple[str, str]:
    account = fake.add_account(
        "Bakker Bouw B.V.",
        email="crediteuren@bakkerbouw.nl",
        chamber_of_commerce="12345678",
        address_line1="Dorpsstraat 1",
        postcode="1234 AB",
        city="Utrecht",
    )
    contact = fake.add_contact(account.id, "Zoë", "Bakker", mobile="+31612345678")
    return account.id, contact.id


# -- reading -----------------------------------------------------------------------------------


def test_accounts_contacts_and_open_receivables_are_mapped(fake: FakeExact, ledger: Ledger) -> None:
    authorize(fake, ledger)
    account, _ = bakker(fake)
    consumer = fake.add_account("J. Janssens", language="EN", country="BE").id
    fake.add_contact(consumer, "Jan", "Janssens", email="jan@example.be")
    two_terms = fake.add_invoice(
        account, "300.00", invoice_date=date(2026, 10, 5), terms=2, your_ref="PO-77"
    )
    paid = fake.add_invoice(account, "50.00", invoice_date=date(2026, 9, 1))
    fake.pay(paid)
    credit = fake.add_invoice(consumer, "-25.00", invoice_date=date(2026, 10, 9))
    plain = fake.add_invoice(consumer, "121.00", invoice_date=date(2026, 10, 1))
    fake.add_payable(account, "99.00")

    records = list(source_for(fake, ledger).sync(None))
    debtors, invoices = split(records)

    business = debtors["1"]
    assert (business.name, business.email, business.phone) == (
        "Bakker Bouw B.V.",
        "crediteuren@bakkerbouw.nl",
        "+31612345678",
    )
    assert (business.first_name, business.contact_name) == ("Zoë", "Zoë Bakker")
    assert business.kind is DebtorKind.BUSINESS and business.language == "nl"
    assert business.address == ("Dorpsstraat 1", "1234 AB Utrecht")
    person = debtors["2"]
    assert person.kind is DebtorKind.CONSUMER and person.language == "en"
    assert person.email == "jan@example.be" and person.country == "BE"

    assert str(paid) not in invoices  # paid before it was ever followed: history
    assert set(invoices) == {str(two_terms), str(credit), str(plain)}
    first = invoices[str(two_terms)]
    terms = fake.terms(two_terms)
    assert first.amount_total == first.amount_open == Decimal("300.00")
    assert first.issue_date == date(2026, 10, 5)
    assert first.due_date == min(t.due_date for t in terms)
    assert first.payment_reference == terms[0].payment_reference
    assert first.your_ref == "PO-77" and invoices[str(plain)].your_ref is None
    assert first.debtor_id == "1"
    assert invoices[str(credit)].is_credit_note
    assert invoices[str(plain)].amount_open == Decimal("121.00")
    assert not [r for r in records if isinstance(r, RowProblem)]

    assert all(r.accept and "application/json" in r.accept for r in fake.log)
    streams = [r for r in fake.log if (r.endpoint or "").startswith(("GET sync/", "GET bulk/"))]
    assert streams and all("$select" in r.query for r in streams)
    assert fake.counts["GET current/Me"] == 1


def test_dates_are_the_calendar_dates_exact_means() -> None:
    assert exact_date("/Date(1392163200000)/") == date(2014, 2, 12)
    assert exact_date("/Date(1392163199999)/") == date(2014, 2, 11)
    assert exact_date("2024-01-15T00:00:00") == date(2024, 1, 15)
    assert exact_date(None) is None


def test_every_page_is_read_once_following_next_as_given(fake: FakeExact, ledger: Ledger) -> None:
    authorize(fake, ledger)
    fake.seed(2_500, rng_seed=3)
    records = list(source_for(fake, ledger, division=fake.division).sync(None))
    _, invoices = split(records)
    numbers = [r.number for r in records if isinstance(r, Invoice)]
    assert len(numbers) == len(set(numbers))
    expected = {
        str(t.invoice_number)
        for t in fake.store.division(None).terms
        if t.line_type == 20 and t.is_open and t.invoice_number
    }
    assert set(invoices) == expected
    pages = fake.requests_to("GET sync/Cashflow/PaymentTerms")
    assert len(pages) >= 3
    assert pages[0].query["$filter"] == "Timestamp gt 1L"
    for page in pages[1:]:
        assert "$skiptoken" in page.query and page.query["$filter"] == "Timestamp gt 1L"
    assert "GET current/Me" not in fake.counts  # the division is fixed in the config


def test_an_unchanged_division_costs_four_requests_and_changes_only_theirs(
    fake: FakeExact, ledger: Ledger
) -> None:
    authorize(fake, ledger)
    account, contact = bakker(fake)
    paid = fake.add_invoice(account, "100.00", invoice_date=date(2026, 10, 1))
    partly = fake.add_invoice(account, "300.00", invoice_date=date(2026, 10, 2))
    gone = fake.add_invoice(account, "80.00", invoice_date=date(2026, 10, 3))
    cursor = cursor_of(list(source_for(fake, ledger, division=fake.division).sync(None)))

    fake.clear_log()
    idle = list(source_for(fake, ledger, division=fake.division).sync(cursor))
    assert changes(idle) == []
    assert sorted(fake.counts) == sorted(STREAMS) and len(fake.log) == 4

    fake.pay(paid, on=date(2026, 11, 20))
    fake.pay(partly, "100.00")
    fake.delete_invoice(gone)
    fake.change_contact(contact, email="zoe@bakkerbouw.nl")
    newcomer = fake.add_account("Nieuw B.V.", vat_number="NL001234567B01")
    fake.add_contact(newcomer.id, "Noor", "Visser")
    fresh = fake.add_invoice(newcomer.id, "42.00", invoice_date=date(2026, 11, 1))
    fake.clear_log()
    records = list(source_for(fake, ledger, division=fake.division).sync(cursor_of(idle)))
    debtors, invoices = split(records)
    assert invoices[str(paid)].amount_open == 0
    assert invoices[str(paid)].paid_on == date(2026, 11, 20)
    assert invoices[str(partly)].amount_open == Decimal("200.00")
    assert invoices[str(partly)].amount_total == Decimal("300.00")
    assert invoices[str(gone)].amount_open == 0
    assert invoices[str(fresh)].amount_open == Decimal("42.00")
    assert debtors["1"].email == "crediteuren@bakkerbouw.nl"  # the account's email comes first
    assert debtors[newcomer.code.strip()].first_name == "Noor"
    assert len(fake.log) == 4  # everything came with the four streams

    fake.clear_log()
    after = list(source_for(fake, ledger, division=fake.division).sync(cursor_of(records)))
    assert changes(after) == [] and len(fake.log) == 4


def test_a_returning_debtor_is_fetched_with_one_request_each(
    fake: FakeExact, ledger: Ledger
) -> None:
    authorize(fake, ledger)
    account, _ = bakker(fake)
    first = fake.add_invoice(account, "10.00", invoice_date=date(2026, 10, 1))
    cursor = cursor_of(list(source_for(fake, ledger, division=fake.division).sync(None)))
    fake.pay(first)
    cursor = cursor_of(list(source_for(fake, ledger, division=fake.division).sync(cursor)))
    again = fake.add_invoice(account, "20.00", invoice_date=date(2026, 11, 1))
    fake.clear_log()
    records = list(source_for(fake, ledger, division=fake.division).sync(cursor))
    debtors, invoices = split(records)
    assert debtors["1"].first_name == "Zoë" and str(again) in invoices
    assert fake.counts["GET crm/Accounts"] == 1 and fake.counts["GET crm/Contacts"] == 1
    assert records.index(debtors["1"]) < records.index(invoices[str(again)])


def test_the_full_check_closes_a_case_exact_closed_without_a_change_we_saw(
    fake: FakeExact, ledger: Ledger
) -> None:
    authorize(fake, ledger)
    account, _ = bakker(fake)
    kept = fake.add_invoice(account, "10.00", invoice_date=date(2026, 10, 1))
    vanished = fake.add_invoice(account, "20.00", invoice_date=date(2026, 10, 2))
    cursor = cursor_of(list(source_for(fake, ledger, division=fake.division).sync(None)))
    place = fake.store.division(None)
    for term in fake.terms(vanished):
        place.terms.remove(term.id)  # gone, and sync/Deleted does not say so
    fake.clear_log()
    weekly = list(source_for(fake, ledger, division=fake.division).sync(cursor))
    assert changes(weekly) == []  # checked today already: no full check yet
    records = list(source_for(fake, ledger, division=fake.division, full_check_days=0).sync(cursor))
    _, invoices = split(records)
    assert set(invoices) == {str(vanished)} and invoices[str(vanished)].amount_open == 0
    assert fake.counts["GET bulk/Cashflow/Receivables"] == 1
    assert str(kept) not in invoices


def test_an_unmatched_receipt_is_reported_for_a_person(fake: FakeExact, ledger: Ledger) -> None:
    authorize(fake, ledger)
    account, _ = bakker(fake)
    fake.add_invoice(account, "10.00", invoice_date=date(2026, 10, 1))
    place = fake.store.division(None)
    (term,) = [t for t in place.terms if t.account_id == account]
    from dataclasses import replace

    receipt = replace(term, id="0f0f0f0f-0000-0000-0000-000000000001", invoice_number=0,
                      amount_dc=Decimal("-10.00"), transaction_amount_dc=Decimal("-10.00"),
                      transaction_entry_id="0f0f0f0f-0000-0000-0000-000000000002")  # fmt: skip
    place.add_term(receipt, datetime.now(UTC))
    records = list(source_for(fake, ledger).sync(None))
    (problem,) = [r for r in records if isinstance(r, RowProblem)]
    assert "unmatched receipt" in problem.problem and "10.00" in problem.problem


# -- OAuth ---------------------------------------------------------------------------------------


def test_a_fresh_access_token_is_not_refreshed(fake: FakeExact, ledger: Ledger) -> None:
    pair = authorize(fake, ledger, age=500)  # 100 s left: refreshing would be refused
    fake.add_invoice(bakker(fake)[0], "10.00")
    list(source_for(fake, ledger).sync(None))
    assert fake.refreshes == 0
    assert ledger.tokens.load("default", "exact") == pair


def test_the_token_is_refreshed_when_fewer_than_30_seconds_remain(
    fake: FakeExact, ledger: Ledger
) -> None:
    old = authorize(fake, ledger, age=585)
    fake.add_invoice(bakker(fake)[0], "10.00")
    list(source_for(fake, ledger).sync(None))
    assert fake.refreshes == 1
    stored = ledger.tokens.load("default", "exact")
    assert stored is not None and stored.refresh_token != old.refresh_token
    assert stored.refresh_token in fake.valid_refresh_tokens()
    assert old.refresh_token not in fake.valid_refresh_tokens()
    assert stored.expires_at is not None
    assert 590 < (stored.expires_at - datetime.now(UTC)).total_seconds() <= 600
    api = [r for r in fake.log if r.path.startswith("/api/v1/")]
    assert api and all(r.token == stored.access_token for r in api)


def test_a_401_expired_refreshes_once_and_repeats_the_request(
    fake: FakeExact, ledger: Ledger
) -> None:
    authorize(fake, ledger, age=580, left=300)  # this machine believes it has 5 minutes
    fake.add_invoice(bakker(fake)[0], "10.00")
    fake.expire_access_tokens()
    records = list(source_for(fake, ledger).sync(None))
    assert split(records)[1] and fake.refreshes == 1
    assert [r.status for r in fake.log][:1] == [401]


def test_a_waiting_process_uses_the_pair_another_one_stored(
    fake: FakeExact, ledger: Ledger
) -> None:
    authorize(fake, ledger, age=585)
    config = ExactConfig.model_validate(settings(fake))
    first, second = ExactAuth(config, ledger.tokens), ExactAuth(config, ledger.tokens)
    token = first.access_token()
    assert second.access_token() == token
    assert fake.refreshes == 1 and (first.refreshes, second.refreshes) == (1, 0)


def test_a_dead_refresh_token_tells_the_admin_to_authorize_again(
    fake: FakeExact, ledger: Ledger
) -> None:
    authorize(fake, ledger, left=-1)
    fake.advance(31 * 86400)
    with pytest.raises(ConfigError) as error:
        list(source_for(fake, ledger).sync(None))
    message = str(error.value)
    assert "\n" not in message
    assert "dunning auth exact" in message and "30 days" in message and "expired" in message


def test_a_refresh_token_used_elsewhere_is_a_clear_error(fake: FakeExact, ledger: Ledger) -> None:
    pair = authorize(fake, ledger, age=585)
    config = ExactConfig.model_validate(settings(fake))
    ExactAuth(config, ledger.tokens).access_token()  # rotates it
    with ledger.tokens.locked("default", "exact") as held:
        held.save(pair)  # a stale copy put back, as a restored backup would
    with pytest.raises(ConfigError, match="dunning auth exact"):
        list(source_for(fake, ledger).sync(None))


def test_no_tokens_yet_says_how_to_get_them(fake: FakeExact, ledger: Ledger) -> None:
    with pytest.raises(ConfigError, match=r"no Exact Online tokens .* `dunning auth exact`"):
        list(source_for(fake, ledger).sync(None))


# -- rate limits and faults ---------------------------------------------------------------------


def test_requests_are_paced_under_the_minutely_limit(ledger: Ledger) -> None:
    with FakeExact(client_id=CLIENT_ID, client_secret=SECRET, minutely_limit=4,
                   time_scale=0.02) as fake:  # fmt: skip
        authorize(fake, ledger)
        fake.seed(6_000, rng_seed=5)
        started = time.monotonic()
        records = list(
            source_for(fake, ledger, calls_per_minute=4, rate_window_seconds=1.2).sync(None)
        )
        elapsed = time.monotonic() - started
    assert split(records)[1]
    calls = len(fake.log)
    assert calls > 8 and all(r.status != 429 for r in fake.log)
    assert elapsed >= (calls // 4 - 1) * 1.2  # it waited for the windows instead of a 429


def test_a_429_waits_for_the_minutely_reset(fake: FakeExact, ledger: Ledger) -> None:
    authorize(fake, ledger)
    fake.add_invoice(bakker(fake)[0], "10.00")
    fake.fail_next(1, 429)
    records = list(source_for(fake, ledger).sync(None))
    assert split(records)[1]
    assert [r.status for r in fake.log].count(429) == 1


def test_server_errors_are_retried_and_then_a_one_line_source_error(
    fake: FakeExact, ledger: Ledger
) -> None:
    authorize(fake, ledger)
    fake.add_invoice(bakker(fake)[0], "10.00")
    fake.fail_next(2, 503)
    assert split(list(source_for(fake, ledger).sync(None)))[1]
    fake.fail_next(5, 500)
    with pytest.raises(SourceError) as error:
        list(source_for(fake, ledger).sync(None))
    assert "\n" not in str(error.value) and "3 attempts" in str(error.value)


def test_access_withdrawn_mid_sync_stops_it_and_stores_nothing(
    fake: FakeExact, ledger: Ledger
) -> None:
    authorize(fake, ledger)
    fake.seed(2_500, rng_seed=2)
    fake.fail_next(1, "revoked", after=3)  # accounts, contacts, a page of terms, then 401
    summary = RunSummary(pipeline="main", as_of=date.today())
    with pytest.raises(ConfigError) as error:
        source = source_for(fake, ledger, division=fake.division)
        sync_source(source, ledger, "main", 1, summary, NoProgress())
    assert "\n" not in str(error.value) and "dunning auth exact" in str(error.value)
    assert summary.synced_invoices == 0 and ledger.invoices.cursor("main") is None
    assert fake.refreshes == 0  # a refusal that is not "expired" is not refreshed away


def test_a_read_that_times_out_is_tried_again(fake: FakeExact, ledger: Ledger) -> None:
    authorize(fake, ledger)
    fake.add_invoice(bakker(fake)[0], "10.00")
    fake.fail_next(1, "timeout", sleep_seconds=1.5)
    records = list(source_for(fake, ledger, timeout=0.5).sync(None))
    assert split(records)[1] and len(fake.log) >= 6


def test_malformed_json_is_a_clear_source_error(fake: FakeExact, ledger: Ledger) -> None:
    authorize(fake, ledger)
    fake.fail_next(1, "malformed")
    with pytest.raises(SourceError, match="not JSON"):
        list(source_for(fake, ledger).sync(None))


def test_the_daily_limit_mid_sync_keeps_what_was_read_and_the_next_run_goes_on(
    fake: FakeExact, ledger: Ledger
) -> None:
    authorize(fake, ledger)
    fake.seed(2_500, rng_seed=9)
    open_numbers = {
        str(t.invoice_number)
        for t in fake.store.division(None).terms
        if t.line_type == 20 and t.is_open and t.invoice_number
    }
    fake.use_daily_limit(remaining=3)  # accounts, contacts, first page of terms
    summary = RunSummary(pipeline="main", as_of=date.today())
    source = source_for(fake, ledger, division=fake.division)
    sync_source(source, ledger, "main", 1, summary, NoProgress())
    assert summary.sync_incomplete and "daily limit" in summary.sync_incomplete
    assert summary.exit_code == 1
    assert any("stopped early" in p for p in summary.problems)
    first_part = summary.synced_invoices
    assert 0 < first_part < len(open_numbers)
    assert len(fake.log) == 3  # the headers said nothing is left: no call to be refused
    with pytest.raises(SourceLimitReached):  # nor any later today
        source.client.get("crm/Accounts", {"$top": "1"})
    assert len(fake.log) == 3

    fake.reset_limits()  # the next day, in a new process:
    forget_shared_limits()
    later = RunSummary(pipeline="main", as_of=date.today())
    sync_source(source_for(fake, ledger, division=fake.division), ledger, "main", 2, later,
                NoProgress())  # fmt: skip
    assert later.sync_incomplete is None
    assert first_part + later.synced_invoices == len(open_numbers)
    found = ledger.invoices.get("main", sorted(open_numbers))
    assert set(found) == open_numbers


# -- write-back ----------------------------------------------------------------------------------


def test_notes_and_call_tasks_go_on_the_account(fake: FakeExact, ledger: Ledger) -> None:
    from dunning.core.calls.model import CallTask, TaskStatus

    authorize(fake, ledger)
    account, contact = bakker(fake)
    number = fake.add_invoice(account, "10.00", invoice_date=date(2026, 10, 1))
    source = source_for(fake, ledger, task_user="11111111-2222-3333-4444-555555555555")
    _, invoices = split(list(source.sync(None)))
    source.attach_note(invoices[str(number)], "dunning: step 'friendly-reminder' sent by email")
    (note,) = fake.notes
    assert note["Account"] == account and str(number) in note["Subject"]
    task = CallTask(
        id=7, pipeline="main", debtor_id="1", step="call", reason="second reminder unanswered",
        invoice_numbers=(str(number),), due_on=date(2026, 11, 25), due_time=None, hours=None,
        assigned_to=None, contact_role="contact", contact_name="Zoë Bakker",
        contact_phone="+31612345678", talking_points=(), attempt=1, status=TaskStatus.OPEN,
        flag=None, created_at=datetime.now(UTC),
    )  # fmt: skip
    ref = source.create_task(task)
    (made,) = fake.tasks
    assert ref and made["ID"] == ref
    assert made["TaskType"] == 1 and made["Contact"] == contact and made["Account"] == account
    assert made["User"] == "11111111-2222-3333-4444-555555555555"
    assert str(number) in made["Description"]


def test_payment_write_back_is_off_unless_configured(fake: FakeExact, ledger: Ledger) -> None:
    authorize(fake, ledger)
    assert Capability.REGISTER_PAYMENTS not in source_for(fake, ledger).capabilities
    on = source_for(fake, ledger, payment_entries={"journal": "20"})
    assert Capability.REGISTER_PAYMENTS in on.capabilities
    assert Capability.REGISTER_PAYMENTS in ExactSource.capabilities  # the kind can


def test_a_payment_entry_is_posted_once_and_exact_matches_it(
    fake: FakeExact, ledger: Ledger
) -> None:
    authorize(fake, ledger)
    account, _ = bakker(fake)
    number = fake.add_invoice(account, "300.00", invoice_date=date(2026, 10, 1))
    source = source_for(fake, ledger, payment_entries={"journal": "20"})
    records = list(source.sync(None))
    invoice = split(records)[1][str(number)]
    payment = Payment(
        str(number), Decimal("100.00"), date(2026, 11, 20), key="dunning-main-payment-1"
    )
    source.register_payment(invoice, payment)
    source.register_payment(invoice, payment)
    (entry,) = fake.bank_entries
    (line,) = entry["BankEntryLines"]["results"]
    assert line["OurRef"] == number and "dunning-main-payment-1" in line["Description"]
    assert fake.open_amount(number) == Decimal("200.00")
    after = split(list(source.sync(cursor_of(records))))[1]
    assert after[str(number)].amount_open == Decimal("200.00")


def test_a_payment_entry_whose_answer_was_lost_is_checked_not_posted_again(
    fake: FakeExact, ledger: Ledger
) -> None:
    authorize(fake, ledger)
    number = fake.add_invoice(bakker(fake)[0], "50.00", invoice_date=date(2026, 10, 1))
    source = source_for(fake, ledger, payment_entries={"journal": "20"}, timeout=0.5)
    invoice = split(list(source.sync(None)))[1][str(number)]
    fake.fail_next(1, "timeout", sleep_seconds=1.5)
    source.register_payment(invoice, Payment(str(number), Decimal("50.00"), date.today(),
                                             key="dunning-main-payment-2"))  # fmt: skip
    assert len(fake.bank_entries) == 1 and fake.open_amount(number) == 0


# -- conformance ---------------------------------------------------------------------------------


def test_exact_source_passes_the_conformance_kit(fake: FakeExact, tmp_path: Path) -> None:
    account, _ = bakker(fake)
    for amount in ("100.00", "200.00", "300.00", "400.00"):
        fake.add_invoice(account, amount, invoice_date=date(2026, 10, 1))
    current: dict[str, Path] = {}
    good: dict[str, TokenPair] = {}

    def section(folder: Path) -> dict[str, Any]:
        current["folder"] = folder
        opened = Ledger.open(f"sqlite:///{folder / 'dunning.db'}")
        try:
            good["pair"] = authorize(fake, opened)
        finally:
            opened.close()
        return settings(fake, division=fake.division, payment_entries={"journal": "20"})

    def read_payments(number: str) -> list[Payment]:
        return [
            Payment(number, Decimal(str(line["AmountFC"])), exact_date(line["Date"]) or date.min)
            for entry in fake.bank_entries
            for line in entry["BankEntryLines"]["results"]
            if str(line["OurRef"]) == number
        ]

    def fail(kind: str | None) -> None:
        opened = Ledger.open(f"sqlite:///{current['folder'] / 'dunning.db'}")
        later = datetime.now(UTC) + timedelta(hours=1)
        try:
            with opened.tokens.locked("default", "exact") as held:
                held.save(
                    TokenPair("revoked", "revoked", later) if kind == "auth" else good["pair"]
                )
        finally:
            opened.close()
        if kind == "rate_limited":
            fake.fail_next(2, 429)
        elif kind == "server_error":
            fake.fail_next(2, 503)

    check_source(
        SourceUnderTest(
            kind="exact",
            section=section,
            bad_sections=[
                ({"client_id": CLIENT_ID, "base_url": fake.base_url}, "client_secret"),
                (settings(fake, country="xx"), "country"),
                (settings(fake, country="nl"), "country or base_url"),
                (settings(fake, payment_entries={"journal": ""}), "journal"),
            ],
            change=lambda number: fake.pay(int(number), "10.00"),
            read_payments=read_payments,
            calls=lambda: len(fake.log),
            idle_calls=4,
            calls_per_change=0,
            fail=fail,
            can_fail=("auth", "rate_limited", "server_error"),
        ),
        tmp_path,
    )
