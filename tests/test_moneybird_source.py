"""The ``moneybird`` source against the local fake of the API, over real HTTP: mapping,
incremental sync and its request counts, write-back, faults and the conformance kit."""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner
from pytest_httpserver import HTTPServer

from dunning.core.errors import ConfigError, SourceError
from dunning.core.ledger import Ledger
from dunning.core.ledger.tokens import TokenPair
from dunning.core.models import Debtor, DebtorKind, Invoice, Payment, RowProblem, SyncCursor
from dunning.core.progress import NoProgress
from dunning.core.source import Capability, SourceContext, SyncRecord
from dunning.core.summary import RunSummary
from dunning.core.sync import sync_source
from dunning.core.testing.sources import SourceUnderTest, check_source
from dunning.plugins.moneybird import MoneybirdSource
from dunning.plugins.moneybird.commands import moneybird
from dunning.plugins.moneybird.config import MoneybirdConfig
from dunning.plugins.moneybird.fake import FakeMoneybird
from tests.conftest import dunning_command

TODAY = date(2026, 3, 17)
TOKEN = "test-token"


@pytest.fixture
def fake() -> Iterator[FakeMoneybird]:
    with FakeMoneybird(TOKEN, today=TODAY) as server:
        yield server


def section(fake: FakeMoneybird, **overrides: Any) -> dict[str, Any]:
    return {
        "administration_id": fake.administration_id,
        "token": TOKEN,
        "base_url": fake.base_url,
        "timeout": 2,
        **overrides,
    }


def source_for(fake: FakeMoneybird, tmp_path: Path, **overrides: Any) -> MoneybirdSource:
    config = MoneybirdConfig.model_validate(section(fake, **overrides))
    return MoneybirdSource(config, SourceContext(pipeline="main", config_dir=tmp_path))


def by_type(records: list[SyncRecord]) -> tuple[dict[str, Debtor], dict[str, Invoice]]:
    debtors = {r.debtor_id: r for r in records if isinstance(r, Debtor)}
    invoices = {r.number: r for r in records if isinstance(r, Invoice)}
    return debtors, invoices


def cursor_of(records: list[SyncRecord]) -> str:
    last = records[-1]
    assert isinstance(last, SyncCursor)
    return last.value


def business(fake: FakeMoneybird, **values: Any) -> str:
    defaults: dict[str, Any] = {
        "company_name": "Bakker Installatietechniek B.V.",
        "email": "info@bakker.nl",
        "send_invoices_to_email": "facturen@bakker.nl",
        "phone": "06-12345678",
        "address1": "Kerkstraat 1",
        "address2": "Unit 4",
        "zipcode": "1012 AB",
        "city": "Amsterdam",
        "country": "NL",
        "contact_people": [
            {"firstname": "Els", "lastname": "Bakker", "email": "els@bakker.nl", "phone": "0201"},
            {"firstname": "Jan", "lastname": "Smit", "email": "jan@bakker.nl"},
        ],
    }
    return fake.add_contact(**{**defaults, **values}).id


def late(fake: FakeMoneybird, contact_id: str, total: str = "363.00", **values: Any) -> Any:
    values = {"invoice_date": date(2026, 1, 10), "due_date": date(2026, 2, 9), **values}
    return fake.add_invoice(contact_id, total, **values)


def test_invoices_and_contacts_are_mapped(fake: FakeMoneybird, tmp_path: Path) -> None:
    company = business(fake)
    person = fake.add_contact(
        firstname="Anouk", lastname="de Vries", email="anouk@example.nl", country="BE"
    ).id
    only_people = business(
        fake,
        company_name="Visser Transport",
        email="",
        send_invoices_to_email="",
        contact_people=[{"firstname": "Noor", "lastname": "Visser", "email": "noor@visser.nl"}],
    )
    owed = late(fake, company, "363.00", language="en")
    consumer = late(fake, person, "50.00", due_date=date(2026, 4, 1))
    paid = late(fake, only_people, "80.00", paid=Decimal("80.00"))
    partly = late(fake, person, "100.00", paid=Decimal("40.00"))

    records = list(source_for(fake, tmp_path).sync(None))
    debtors, invoices = by_type(records)

    assert not [r for r in records if isinstance(r, RowProblem)]
    bakker = debtors[company]
    assert (bakker.kind, bakker.name) == (DebtorKind.BUSINESS, "Bakker Installatietechniek B.V.")
    assert bakker.email == "facturen@bakker.nl"  # send_invoices_to_email before email
    assert (bakker.contact_name, bakker.first_name) == ("Els Bakker", "Els")
    assert bakker.phone == "06-12345678" and bakker.language == "en" and bakker.country == "NL"
    assert bakker.address == ("Kerkstraat 1", "Unit 4", "1012 AB Amsterdam")
    assert [(c.name, c.email) for c in bakker.contacts] == [
        ("Els Bakker", "els@bakker.nl"),
        ("Jan Smit", "jan@bakker.nl"),
    ]
    anouk = debtors[person]
    assert (anouk.kind, anouk.name, anouk.first_name) == (
        DebtorKind.CONSUMER,
        "Anouk de Vries",
        "Anouk",
    )
    assert (anouk.email, anouk.country) == ("anouk@example.nl", "BE")
    assert debtors[only_people].email == "noor@visser.nl"  # the contact person's, last

    mapped = invoices[owed.invoice_id]
    assert mapped.debtor_id == company and isinstance(mapped.debtor_id, str)
    assert (mapped.amount_total, mapped.amount_open) == (Decimal("363.00"), Decimal("363.00"))
    assert (mapped.issue_date, mapped.due_date) == (date(2026, 1, 10), date(2026, 2, 9))
    assert mapped.payment_reference == owed.payment_reference.strip() != ""
    assert mapped.payment_link and mapped.payment_link.endswith("/pay")
    assert mapped.place == f"moneybird:sales_invoice:{owed.id}"
    assert invoices[consumer.invoice_id].amount_open == Decimal("50.00")
    assert invoices[partly.invoice_id].amount_open == Decimal("60.00")
    settled = invoices[paid.invoice_id]
    assert (settled.amount_open, settled.paid_on) == (Decimal("0"), paid.paid_at)
    for record in records[:-1]:  # a debtor before its invoices
        if isinstance(record, Invoice):
            assert records.index(debtors[record.debtor_id]) < records.index(record)


def test_an_uncollectible_invoice_closes_and_drafts_are_never_read(
    fake: FakeMoneybird, tmp_path: Path
) -> None:
    contact = business(fake)
    written_off = late(fake, contact, marked_uncollectible_on=date(2026, 3, 1))
    fake.change_invoice(written_off.id, state="uncollectible")
    late(fake, contact, state="draft")
    _, invoices = by_type(list(source_for(fake, tmp_path).sync(None)))
    assert list(invoices) == [written_off.invoice_id]
    assert invoices[written_off.invoice_id].amount_open == 0


def test_the_period_is_always_sent_so_an_old_late_invoice_is_found(
    fake: FakeMoneybird, tmp_path: Path
) -> None:
    old = late(fake, business(fake), invoice_date=date(2023, 5, 1), due_date=date(2023, 5, 31))
    _, invoices = by_type(list(source_for(fake, tmp_path).sync(None)))
    assert invoices[old.invoice_id].amount_open > 0
    (listing,) = fake.requests_to("GET sales_invoices/synchronization")
    assert "period:20000101..20991231" in listing.query["filter"]


def test_an_unchanged_administration_costs_two_requests_and_a_change_one_more(
    fake: FakeMoneybird, tmp_path: Path
) -> None:
    fake.seed(300)
    synced = [i for i in fake.store.invoices.values() if i.state != "draft"]
    records = list(source_for(fake, tmp_path).sync(None))
    first = len(fake.log)
    assert first == 2 + math.ceil(len(synced) / 100)
    _, invoices = by_type(records)
    assert len(invoices) == len(synced)

    fake.clear_log()
    again = list(source_for(fake, tmp_path).sync(cursor_of(records)))
    assert len(fake.log) == 2
    assert again == [SyncCursor(cursor_of(records))]

    changed = next(i for i in synced if i.state == "late")
    fake.change_invoice(changed.id, total_price_incl_tax="999.00")
    fake.clear_log()
    after = list(source_for(fake, tmp_path).sync(cursor_of(again)))
    assert [e.endpoint for e in fake.log] == [
        "GET sales_invoices/synchronization",
        "GET contacts/synchronization",
        "POST sales_invoices/synchronization",
    ]
    assert fake.log[-1].json == {"ids": [changed.id]}
    assert [r.number for r in after if isinstance(r, Invoice)] == [changed.invoice_id]
    assert not [r for r in after if isinstance(r, Debtor)]  # the ledger has the debtor


def test_a_changed_contact_alone_is_fetched_as_a_debtor(
    fake: FakeMoneybird, tmp_path: Path
) -> None:
    contact = business(fake)
    late(fake, contact, language="en")
    cursor = cursor_of(list(source_for(fake, tmp_path).sync(None)))
    fake.change_contact(contact, send_invoices_to_email="boekhouding@bakker.nl")
    fake.clear_log()
    records = list(source_for(fake, tmp_path).sync(cursor))
    assert fake.counts["POST contacts/synchronization"] == 1
    assert "POST sales_invoices/synchronization" not in fake.counts
    (debtor,) = [r for r in records if isinstance(r, Debtor)]
    assert (debtor.email, debtor.language) == ("boekhouding@bakker.nl", "en")
    fake.clear_log()
    list(source_for(fake, tmp_path).sync(cursor_of(records)))
    assert len(fake.log) == 2


def synced_source(fake: FakeMoneybird, tmp_path: Path) -> tuple[MoneybirdSource, Any, Invoice]:
    """A source that has synced one late invoice; the fake's invoice and the ledger's view."""
    owed = late(fake, business(fake))
    source = source_for(fake, tmp_path)
    _, invoices = by_type(list(source.sync(None)))
    return source, owed, invoices[owed.invoice_id]


def test_a_payment_is_registered_once_with_its_transaction_identifier(
    fake: FakeMoneybird, tmp_path: Path
) -> None:
    source, owed, invoice = synced_source(fake, tmp_path)
    payment = Payment(invoice.number, Decimal("100.5"), TODAY, key="dunning-main-payment-1")
    source.register_payment(invoice, payment)
    source_for(fake, tmp_path).register_payment(invoice, payment)  # a later run, by number
    (registered,) = fake.invoice(owed.id).payments
    assert (registered.transaction_identifier, registered.price) == (
        "dunning-main-payment-1",
        Decimal("100.50"),
    )
    (post,) = fake.requests_to("POST sales_invoices/{id}/payments")
    assert post.json["payment"]["price"] == "100.50"
    assert "manual_payment_action" not in post.json["payment"]
    assert fake.misuses == []
    print("second run:", dict(fake.counts))


def test_a_returned_payment_is_deleted_once_and_the_invoice_is_open_again(
    fake: FakeMoneybird, tmp_path: Path
) -> None:
    source, owed, invoice = synced_source(fake, tmp_path)
    payment = Payment(invoice.number, invoice.amount_open, TODAY, key="dunning-main-payment-3")
    other = Payment(invoice.number, Decimal("1.00"), TODAY, key="dunning-main-payment-4")
    source.register_payment(invoice, payment)
    assert fake.invoice(owed.id).state == "paid"
    source.reverse_payment(invoice, payment)
    source_for(fake, tmp_path).reverse_payment(invoice, payment)  # a retry: nothing left to do
    source.reverse_payment(invoice, other)  # never registered: nothing to do
    assert fake.invoice(owed.id).payments == []
    assert fake.invoice(owed.id).state != "paid"
    assert len(fake.requests_to("DELETE sales_invoices/{id}/payments/{id}")) == 1
    assert fake.misuses == []


def test_a_payment_whose_answer_was_lost_is_checked_not_sent_again(
    fake: FakeMoneybird, tmp_path: Path
) -> None:
    source, owed, invoice = synced_source(fake, tmp_path)
    source = source_for(fake, tmp_path, timeout=0.5)

    def lose_the_next_answer(response: requests.Response, *args: Any, **kwargs: Any) -> None:
        if "find_by_invoice_id" in response.url and not fake.invoice(owed.id).payments:
            fake.fail_next(1, status="timeout", sleep_seconds=1.5)

    source.client.session.hooks["response"].append(lose_the_next_answer)
    payment = Payment(invoice.number, invoice.amount_open, TODAY, key="dunning-main-payment-7")
    source.register_payment(invoice, payment)
    source.register_payment(invoice, payment)
    assert len(fake.requests_to("POST sales_invoices/{id}/payments")) == 1
    assert [p.transaction_identifier for p in fake.invoice(owed.id).payments] == [payment.key]
    assert fake.invoice(owed.id).state == "paid"
    assert fake.misuses == []
    print("second run:", dict(fake.counts))


def test_notes_todos_pause_resume_and_the_pdf(fake: FakeMoneybird, tmp_path: Path) -> None:
    source, owed, invoice = synced_source(fake, tmp_path)
    assert Capability.OWN_REMINDERS in source.capabilities
    source.attach_note(invoice, "friendly-reminder sent by email to facturen@bakker.nl")
    source.take_over(invoice)
    assert fake.invoice(owed.id).paused
    source.take_over(invoice)  # again: still paused, no error
    source.let_go(invoice)
    assert not fake.invoice(owed.id).paused
    document = source.invoice_document(invoice)
    assert document is not None and document.content.startswith(b"%PDF")
    assert document.filename == f"{owed.invoice_id}.pdf"
    notes = fake.invoice(owed.id).notes
    assert [(n.note, n.todo) for n in notes] == [
        ("friendly-reminder sent by email to facturen@bakker.nl", False)
    ]
    assert "GET sales_invoices/find_by_invoice_id" not in fake.counts  # ids known from the sync


def test_a_call_task_becomes_a_moneybird_todo(fake: FakeMoneybird, tmp_path: Path) -> None:
    from dunning.core.calls.model import CallTask

    source, owed, invoice = synced_source(fake, tmp_path)
    fields: dict[str, Any] = dict.fromkeys(CallTask.__dataclass_fields__)
    fields.update(
        id=5,
        pipeline="main",
        debtor_id=invoice.debtor_id,
        step="call",
        reason="second reminder unanswered",
        invoice_numbers=(invoice.number,),
        due_on=TODAY,
        contact_role="main",
        contact_name="Els Bakker",
        contact_phone="+31201234567",
        talking_points=(),
        attempt=1,
    )
    reference = source.create_task(CallTask(**fields))
    (note,) = fake.invoice(owed.id).notes
    assert note.todo and note.id == reference and "Els Bakker" in note.note


def test_notes_and_pauses_can_be_switched_off(fake: FakeMoneybird, tmp_path: Path) -> None:
    owed = late(fake, business(fake))
    source = source_for(fake, tmp_path, notes=False, pause_own_reminders=False)
    _, invoices = by_type(list(source.sync(None)))
    fake.clear_log()
    source.attach_note(invoices[owed.invoice_id], "sent")
    source.take_over(invoices[owed.invoice_id])
    assert fake.log == []


def test_a_refused_token_is_a_one_line_config_error_naming_source_token(
    fake: FakeMoneybird, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError) as raised:
        list(source_for(fake, tmp_path, token="wrong").sync(None))
    message = str(raised.value)
    assert "source.token" in message and "401" in message and "\n" not in message
    assert "wrong" not in message


def test_a_token_revoked_mid_sync_stops_it_and_nothing_is_lost(
    fake: FakeMoneybird, tmp_path: Path
) -> None:
    fake.seed(300)
    ledger = Ledger.open(f"sqlite:///{tmp_path / 'ledger.db'}")
    source = source_for(fake, tmp_path)

    def revoke_after_first_batch(response: requests.Response, *args: Any, **kwargs: Any) -> None:
        if response.request.method == "POST":
            fake.revoke_token()

    source.client.session.hooks["response"].append(revoke_after_first_batch)
    summary = RunSummary(pipeline="main", as_of=TODAY)
    with pytest.raises(ConfigError, match=r"source\.token"):
        sync_source(source, ledger, "main", 1, summary, NoProgress())
    assert ledger.invoices.cursor("main") is None  # the next sync starts over

    fake.add_token(TOKEN)
    sync_source(source_for(fake, tmp_path), ledger, "main", 2, summary, NoProgress())
    stored = ledger.invoices.cursor("main")
    assert stored is not None
    expected = {i.id for i in fake.store.invoices.values() if i.state != "draft"}
    assert set(json.loads(stored)["invoices"]) == expected
    ledger.close()


def test_429_bursts_and_server_errors_are_retried(fake: FakeMoneybird, tmp_path: Path) -> None:
    late(fake, business(fake))
    expected = by_type(list(source_for(fake, tmp_path).sync(None)))[1]
    fake.fail_next(2, status=429, retry_after_seconds=0.2)
    fake.fail_next(1, status=503)
    fake.fail_next(1, status=500)
    source = source_for(fake, tmp_path, max_attempts=6)
    assert by_type(list(source.sync(None)))[1] == expected
    assert source.client.stats.throttled == 2


def test_server_errors_beyond_the_attempts_are_a_source_error(
    fake: FakeMoneybird, tmp_path: Path
) -> None:
    fake.fail_next(3, status=503)
    with pytest.raises(SourceError, match="503") as raised:
        list(source_for(fake, tmp_path, max_attempts=2).sync(None))
    assert "\n" not in str(raised.value)


def test_malformed_json_is_a_clear_source_error(fake: FakeMoneybird, tmp_path: Path) -> None:
    late(fake, business(fake))
    fake.fail_next(1, status="malformed")
    with pytest.raises(SourceError) as raised:
        list(source_for(fake, tmp_path).sync(None))
    message = str(raised.value)
    assert "not valid JSON" in message and "synchronization" in message and "\n" not in message


def test_an_expired_oauth_token_is_refreshed_once(
    fake: FakeMoneybird, tmp_path: Path, httpserver: HTTPServer
) -> None:
    late(fake, business(fake))
    httpserver.expect_request("/oauth/token", method="POST").respond_with_json(
        {"access_token": "fresh-token", "refresh_token": "next", "expires_in": 3600}
    )
    fake.revoke_token()
    fake.add_token("fresh-token")
    source = source_for(
        fake,
        tmp_path,
        refresh_token="r1",
        client_id="c",
        client_secret="s",
        oauth_url=httpserver.url_for("/oauth/token"),
    )
    _, invoices = by_type(list(source.sync(None)))
    assert invoices
    (call,) = httpserver.log
    assert "grant_type=refresh_token" in call[0].get_data(as_text=True)


def test_oauth_settings_come_together() -> None:
    with pytest.raises(ValueError, match="refresh_token, client_id and client_secret together"):
        MoneybirdConfig.model_validate(
            {"administration_id": "1", "token": "t", "refresh_token": "r"}
        )


def test_the_administrations_command_lists_what_the_token_reaches(fake: FakeMoneybird) -> None:
    runner = CliRunner()
    result = runner.invoke(
        moneybird, ["administrations", "--base-url", fake.base_url], env={"MONEYBIRD_TOKEN": TOKEN}
    )
    assert result.exit_code == 0, result.output
    assert fake.administration_id in result.output and "Voorbeeld B.V." in result.output
    refused = runner.invoke(moneybird, ["administrations", "--base-url", fake.base_url,
                                        "--token", "nope"])  # fmt: skip
    assert refused.exit_code != 0 and "source.token" in refused.output


# -- the conformance kit -----------------------------------------------------------------------


def moneybird_case(fake: FakeMoneybird) -> SourceUnderTest:
    def change(number: str) -> None:
        invoice = next(i for i in fake.store.invoices.values() if i.invoice_id == number)
        fake.change_invoice(invoice.id, total_price_incl_tax=invoice.total_price_incl_tax + 1)

    def read_payments(number: str) -> list[Payment]:
        invoice = next(i for i in fake.store.invoices.values() if i.invoice_id == number)
        return [Payment(number, p.price, p.payment_date) for p in invoice.payments]

    def fail(kind: str | None) -> None:
        if kind == "auth":
            fake.revoke_token()
        elif kind == "rate_limited":
            fake.fail_next(2, status=429, retry_after_seconds=0.2)
        elif kind == "server_error":
            fake.fail_next(2, status=503)
        else:
            fake.add_token(TOKEN)
            fake.faults.clear()

    return SourceUnderTest(
        kind="moneybird",
        section=lambda _folder: section(fake),
        bad_sections=[
            ({"token": "t"}, "administration_id"),
            ({"administration_id": "abc", "token": "t"}, "administration_id"),
            ({"administration_id": "1", "token": "t", "period": "always"}, "period"),
            ({"administration_id": "1", "token": "t", "notez": True}, "notes"),
        ],
        change=change,
        read_payments=read_payments,
        calls=lambda: len(fake.log),
        idle_calls=2,
        calls_per_change=1,
        fail=fail,
        can_fail=("auth", "rate_limited", "server_error"),
    )


def test_moneybird_source_passes_the_conformance_kit(fake: FakeMoneybird, tmp_path: Path) -> None:
    fake.seed(40)
    check_source(moneybird_case(fake), tmp_path)


# -- end to end --------------------------------------------------------------------------------


@pytest.fixture
def quick_fake() -> Iterator[FakeMoneybird]:
    """The real rate limit with its five minutes scaled down to three seconds."""
    with FakeMoneybird(TOKEN, today=TODAY, time_scale=0.01) as server:
        yield server


def test_end_to_end_reminders_mark_paid_and_an_idle_second_run(
    quick_fake: FakeMoneybird, tmp_path: Path
) -> None:
    import subprocess

    fake = quick_fake
    fake.seed(300)
    (tmp_path / "pipelines.yaml").write_text(
        "pipelines:\n  main:\n    creditor: {name: Test B.V., iban: NL91ABNA0417164300}\n"
        "    source:\n      type: moneybird\n"
        f"      administration_id: '{fake.administration_id}'\n"
        "      token: ${MONEYBIRD_TOKEN}\n"
        f"      base_url: {fake.base_url}\n"
        "      window_seconds: 3\n"
        "    calendar: {business_days_only: false, quiet_channels: []}\n"
        "    channels:\n"
        "      email: {type: email, delivery: file, folder: mail, from_address: a@example.nl}\n"
        "    steps:\n"
        "      - {name: friendly-reminder, after_due: 3, channel: email,"
        " template: friendly-reminder}\n",
        encoding="utf-8",
    )

    def dunning(*args: str) -> subprocess.CompletedProcess[str]:
        env = {"MONEYBIRD_TOKEN": TOKEN, "PATH": "/usr/bin:/bin"}
        return subprocess.run(
            dunning_command(*args), cwd=tmp_path, capture_output=True, text=True, env=env,
            timeout=120,
        )  # fmt: skip

    first = dunning("run", "--date", TODAY.isoformat(), "--json", "--quiet")
    assert first.returncode in (0, 1), first.stderr
    sent = json.loads(first.stdout)[0]["sent"]
    mails = list((tmp_path / "mail").glob("*.eml"))
    assert sent > 0 and len(mails) == sent
    print("first run:", dict(fake.counts))

    with sqlite3.connect(tmp_path / "dunning.db") as db:
        (number,) = db.execute("select invoice_number from message_items limit 1").fetchone()
    paid = dunning("mark-paid", number, "--date", TODAY.isoformat())
    assert paid.returncode == 0, paid.stderr
    invoice = next(i for i in fake.store.invoices.values() if i.invoice_id == number)
    assert invoice.state == "paid"
    assert [p.transaction_identifier for p in invoice.payments][-1].startswith("dunning-")

    fake.clear_log()
    second = dunning("run", "--date", TODAY.isoformat(), "--json", "--quiet")
    assert second.returncode in (0, 1), second.stderr
    assert json.loads(second.stdout)[0]["sent"] == 0
    assert len(list((tmp_path / "mail").glob("*.eml"))) == sent
    assert {e.endpoint for e in fake.log} <= {
        "GET sales_invoices/synchronization",
        "GET contacts/synchronization",
        "POST sales_invoices/synchronization",
    }
    assert fake.misuses == []
    print("second run:", dict(fake.counts))


def test_the_moneybird_command_is_registered_through_the_plugin_hook() -> None:
    from dunning.core.plugins import plugin_commands

    assert moneybird in plugin_commands()


def test_an_invoice_that_leaves_the_synced_states_is_closed_once(
    fake: FakeMoneybird, tmp_path: Path
) -> None:
    contact = business(fake)
    collected = late(fake, contact)
    deleted = late(fake, contact)
    cursor = cursor_of(list(source_for(fake, tmp_path).sync(None)))
    fake.change_invoice(collected.id, state="pending_payment")
    with fake.store.lock:
        del fake.store.invoices[deleted.id]
    records = list(source_for(fake, tmp_path).sync(cursor))
    _, invoices = by_type(records)
    assert invoices[collected.invoice_id].amount_open == 0
    (problem,) = [r for r in records if isinstance(r, RowProblem)]
    assert problem.place == f"moneybird:sales_invoice:{deleted.id}"
    fake.clear_log()
    assert list(source_for(fake, tmp_path).sync(cursor_of(records)))[:-1] == []
    assert len(fake.log) == 2


def test_a_rotated_refresh_token_survives_the_run_in_the_ledger(
    fake: FakeMoneybird, tmp_path: Path, httpserver: HTTPServer
) -> None:
    """OAuth servers that rotate refresh tokens refuse the old one after a refresh: the new
    pair is stored in the ledger at once, and the next run starts from it."""
    from werkzeug import Request, Response

    from dunning.core.ledger import Ledger

    late(fake, business(fake))
    valid = {"refresh": "r1", "n": 1}
    used: list[str] = []

    def token_server(request: Request) -> Response:
        given = request.form.get("refresh_token", "")
        used.append(given)
        if given != valid["refresh"]:
            return Response('{"error": "invalid_grant"}', status=400)
        valid["n"] += 1
        valid["refresh"] = f"r{valid['n']}"
        body = f'{{"access_token": "fresh-{valid["n"]}", "refresh_token": "{valid["refresh"]}"}}'
        return Response(body, status=200, content_type="application/json")

    httpserver.expect_request("/oauth/token", method="POST").respond_with_handler(token_server)
    ledger = Ledger.open(f"sqlite:///{tmp_path / 'dunning.db'}")
    settings = {"refresh_token": "r1", "client_id": "c", "client_secret": "s",
                "oauth_url": httpserver.url_for("/oauth/token")}  # fmt: skip

    def source() -> MoneybirdSource:
        config = MoneybirdConfig.model_validate(section(fake, **settings))
        context = SourceContext(pipeline="main", config_dir=tmp_path, tokens=ledger.tokens)
        return MoneybirdSource(config, context)

    try:
        fake.revoke_token()
        fake.add_token("fresh-2")
        assert by_type(list(source().sync(None)))[1]
        stored = ledger.tokens.load("main", "moneybird")
        assert stored is not None and (stored.access_token, stored.refresh_token) == (
            "fresh-2", "r2",
        )  # fmt: skip
        fake.revoke_token("fresh-2")  # the next run: the stored access token has expired
        fake.add_token("fresh-3")
        assert by_type(list(source().sync(None)))[1]  # configured r1 is stale; r2 is used
        assert used == ["r1", "r2"]  # never the rotated-away token twice
        assert ledger.tokens.replace(
            "main", "moneybird", "r1", TokenPair("x", "y")
        ) is False  # fmt: skip
    finally:
        ledger.close()
