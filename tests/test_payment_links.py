"""Payment links in reminders: Mollie against a local server that answers as its API does,
and the fallbacks (the invoice's own link, the bank details with the payment reference)."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.smtp_server import SMTPTestServer
from tests.test_pauses_cli import Inbox, Portfolio, inbox

__all__ = ["inbox"]

HEADER = (
    "factuurnummer;debiteurnummer;debiteur;contactpersoon;email;taal;factuurdatum;vervaldatum;"
    "bedrag;betaallink;betalingskenmerk"
)
F1 = "F-1;D1;Bakker B.V.;Jan Bakker;jan@bakker.nl;nl;01-02-2026;01-03-2026;1234,56;;"
F2 = "F-2;D2;Smith Ltd;Anne Smith;anne@smith.co.uk;en;01-02-2026;01-03-2026;300,00;;"
LINKED = (
    "F-3;D3;Nobel;Nina Nobel;nina@nobel.nl;nl;01-02-2026;01-03-2026;50,00;"
    "https://pay.example.nl/F-3;1234 5678 9012 3456"
)
PAY = "https://paymentlink.mollie.com/payment/"
LADDER = (
    "      - {name: friendly-reminder, after_due: 3, channel: email, template: friendly-reminder}\n"
)


def settings(server: HTTPServer) -> str:
    return (
        "calendar: {business_days_only: false, quiet_channels: []}\n"
        "    payment_links:\n"
        "      api_key: ${MOLLIE_API_KEY}\n"
        f"      base_url: {server.url_for('')}\n"
        "      redirect_url: https://www.example.nl/bedankt\n"
        "      retry_wait_seconds: 0\n"
    )


def created(link_id: str) -> Response:
    body = {
        "resource": "payment-link",
        "id": link_id,
        "mode": "test",
        "description": "...",
        "amount": {"currency": "EUR", "value": "0.00"},
        "_links": {
            "self": {"href": f"https://api.mollie.com/v2/payment-links/{link_id}"},
            "paymentLink": {
                "href": f"{PAY}{link_id}/",
                "type": "text/html",
            },
        },
    }
    return Response(json.dumps(body), status=201, content_type="application/hal+json")


@pytest.fixture(autouse=True)
def mollie_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOLLIE_API_KEY", "test_dHar4XY7LxsDOtmnkVtjNVWXLSlXsM")


def book(tmp_path: Path, smtp: SMTPTestServer, server: HTTPServer, *rows: str) -> Portfolio:
    return Portfolio(tmp_path, smtp.port, list(rows), header=HEADER, settings=settings(server),
                     ladder=LADDER)  # fmt: skip


def mollie_requests(server: HTTPServer) -> list[Request]:
    return [r for r, _ in server.log if r.path == "/v2/payment-links"]


def test_each_reminder_gets_its_own_mollie_link_once(
    tmp_path: Path, smtp_server: SMTPTestServer, httpserver: HTTPServer, inbox: Inbox
) -> None:
    ids = iter(["pl_4Y0eZitmBnQ6IDoMqZQKh", "pl_9aXu3nG4yTrhVvPq2k1Lm"])
    httpserver.expect_request("/v2/payment-links", method="POST").respond_with_handler(
        lambda _request: created(next(ids))
    )
    portfolio = book(tmp_path, smtp_server, httpserver, F1, F2)
    portfolio.run("2026-03-04")
    mails = {m.to: m for m in inbox.new()}
    first, second = mollie_requests(httpserver)
    body = first.get_json()
    assert first.headers["Authorization"] == f"Bearer {os.environ['MOLLIE_API_KEY']}"
    assert first.headers["Idempotency-Key"] == "main:D1:email:2026-03-04"
    assert body["amount"] == {"currency": "EUR", "value": "1234.56"}  # a string, two decimals
    assert body["description"] == "Test B.V.: F-1"
    assert body["redirectUrl"] == "https://www.example.nl/bedankt"
    assert second.get_json()["amount"]["value"] == "300.00"
    jan, anne = mails["jan@bakker.nl"].text, mails["anne@smith.co.uk"].text
    assert f"direct online betalen: {PAY}pl_4Y0eZitmBnQ6IDoMqZQKh/" in jan
    assert f"pay online straight away: {PAY}pl_9aXu3nG4yTrhVvPq2k1Lm/" in anne
    portfolio.run("2026-03-04")
    assert len(mollie_requests(httpserver)) == 2  # nothing sent twice, no second link
    with sqlite3.connect(tmp_path / "dunning.db") as ledger:
        stored = ledger.execute("select key, amount_cents from payment_links order by key")
        assert stored.fetchall() == [
            ("main:D1:email:2026-03-04", 123456),
            ("main:D2:email:2026-03-04", 30000),
        ]


def test_a_rate_limit_is_waited_out(
    tmp_path: Path, smtp_server: SMTPTestServer, httpserver: HTTPServer, inbox: Inbox
) -> None:
    answers = iter([
        Response(json.dumps({"status": 429, "title": "Too Many Requests", "detail": "slow down"}),
                 status=429, headers={"Retry-After": "1"}, content_type="application/hal+json"),
        created("pl_after429"),
    ])  # fmt: skip
    httpserver.expect_request("/v2/payment-links").respond_with_handler(lambda _r: next(answers))
    book(tmp_path, smtp_server, httpserver, F1).run("2026-03-04")
    [mail] = inbox.new()
    assert "pl_after429" in mail.text
    assert len(mollie_requests(httpserver)) == 2


@pytest.mark.parametrize(
    ("status", "body", "problem"),
    [
        (422, {"status": 422, "title": "Unprocessable Entity", "detail": "The amount is lower "
               "than the minimum", "field": "amount"}, "Mollie refused the payment link: 422 The "
               "amount is lower than the minimum (field amount)"),
        (401, {"status": 401, "title": "Unauthorized Request", "detail": "Missing "
               "authentication, or failed to authenticate"}, "check payment_links.api_key"),
    ],
)  # fmt: skip
def test_a_refusal_falls_back_to_the_bank_details_and_turns_links_off_for_the_run(
    tmp_path: Path, smtp_server: SMTPTestServer, httpserver: HTTPServer, inbox: Inbox,
    status: int, body: dict[str, object], problem: str,
) -> None:  # fmt: skip
    httpserver.expect_request("/v2/payment-links").respond_with_json(body, status=status)
    summary = book(tmp_path, smtp_server, httpserver, F1, F2).run("2026-03-04")
    mails = {m.to: m for m in inbox.new()}
    assert "op rekeningnummer (IBAN) NL91ABNA0417164300" in mails["jan@bakker.nl"].text
    assert "mollie" not in mails["jan@bakker.nl"].text
    assert len(mollie_requests(httpserver)) == 1  # not asked again for the second reminder
    assert any(problem in p for p in summary["problems"]), summary["problems"]


@pytest.mark.parametrize("broken", ["server error", "malformed json"])
def test_mollie_trouble_never_holds_a_reminder_back(
    tmp_path: Path, smtp_server: SMTPTestServer, httpserver: HTTPServer, inbox: Inbox,
    broken: str,
) -> None:  # fmt: skip
    if broken == "server error":
        httpserver.expect_request("/v2/payment-links").respond_with_data("oops", status=503)
    else:
        httpserver.expect_request("/v2/payment-links").respond_with_data(
            "<html>gateway</html>", status=201, content_type="text/html"
        )
    summary = book(tmp_path, smtp_server, httpserver, F1).run("2026-03-04")
    [mail] = inbox.new()
    assert "(IBAN) NL91ABNA0417164300" in mail.text
    assert any("no payment link for main:D1:email:2026-03-04" in p for p in summary["problems"])


def test_without_mollie_the_invoice_link_and_payment_reference_are_used(
    tmp_path: Path, smtp_server: SMTPTestServer, inbox: Inbox
) -> None:
    portfolio = Portfolio(tmp_path, smtp_server.port, [F1, LINKED], header=HEADER,
                          ladder=LADDER)  # fmt: skip
    portfolio.run("2026-03-04")
    mails = {m.to: m for m in inbox.new()}
    nobel = mails["nina@nobel.nl"].text
    assert "direct online betalen: https://pay.example.nl/F-3" in nobel
    assert "Vermeld bij de betaling het betalingskenmerk 1234 5678 9012 3456." in nobel
    assert "Vermeld bij de betaling het factuurnummer F-1." in mails["jan@bakker.nl"].text
