"""Handing debtors over to a collection agency, end to end through the real CLI.

The agency is a real local HTTP server (pytest-httpserver) or the real SMTP test server. Ladder:
friendly reminder 3 days after due (4 March), the Dutch 14-day letter to consumers 7 days later
(11 March), a call the same week for businesses, and the handoff 21 days after the letter.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from pytest_httpserver import HTTPServer

from tests.call_portfolio import CallPortfolio
from tests.smtp_server import SMTPTestServer
from tests.test_pauses_cli import Inbox, inbox, only_line

__all__ = ["inbox"]

HEADER = (
    "factuurnummer;debiteurnummer;debiteur;contactpersoon;email;telefoon;soort;taal;"
    "factuurdatum;vervaldatum;bedrag"
)
CONSUMER = "C1;Zoë Çelik;Zoë Çelik;zoe@celik.nl;06 11111111;particulier;nl"
BUSINESS = "B1;Bakker B.V.;Jan Bakker;jan@bakker.nl;020 123 4567;zakelijk;nl"
ROWS = [
    f"F-1;{CONSUMER};01-02-2026;01-03-2026;1234,56",
    f"F-2;{BUSINESS};01-02-2026;01-03-2026;500,00",
    f"F-3;{BUSINESS};01-03-2026;31-05-2026;80,00",  # not yet due at handoff: never handed over
]
LADDER = """\
      - {name: friendly-reminder, after_due: 3, channel: email, template: friendly-reminder}
      - {name: fourteen-day-letter, after_previous: 7, channel: email,
         template: nl-14-day-letter, legal: nl_14_day_letter}
      - {name: phone-call, after_previous: 1, channel: phone, template: phone-call,
         when: {debtor_kind: business}}
      - {name: handoff, after_previous: 21, channel: agency, template: dossier}
"""
DAYS = ["2026-03-04", "2026-03-11", "2026-03-12", "2026-04-02", "2026-04-03"]


def http_agency(server: HTTPServer) -> str:
    return f"""\
      agency:
        type: agency
        delivery: http
        url: {server.url_for("/intake")}
        updates_url: {server.url_for("/updates")}
        token: s3cret-token
        agency_name: Incasso Noord
        retry_wait_seconds: 0
"""


def email_agency(port: int) -> str:
    return f"""\
      agency:
        type: agency
        delivery: email
        to: intake@incasso-noord.nl
        from_address: debiteuren@example.nl
        smtp: {{host: 127.0.0.1, port: {port}, security: none, timeout: 5}}
"""


def portfolio(folder: Path, port: int, agency: str) -> CallPortfolio:
    return CallPortfolio(folder, port, ROWS, header=HEADER, ladder=LADDER,
                         extra_channels=agency)  # fmt: skip


def posted(server: HTTPServer, path: str) -> list[tuple[dict[str, str], dict[str, Any]]]:
    return [
        (dict(request.headers), json.loads(request.get_data()))
        for request, _ in server.log
        if request.path == path
    ]


@pytest.fixture
def agency_server(httpserver: HTTPServer) -> HTTPServer:
    httpserver.expect_request("/intake", method="POST").respond_with_json({"id": "AG-1"})
    httpserver.expect_request("/updates", method="POST").respond_with_json({"ok": True})
    return httpserver


def test_the_handoff_delivers_a_complete_dossier_and_then_nobody_is_contacted(
    tmp_path: Path, smtp_server: SMTPTestServer, agency_server: HTTPServer, inbox: Inbox
) -> None:
    book = portfolio(tmp_path, smtp_server.port, http_agency(agency_server))
    for day in DAYS[:3]:
        book.run(day)
    call = next(t["id"] for t in book.tasks() if t["debtor_id"] == "B1")
    book.done(call, "--outcome", "promise", "--spoken-to", "Jan", "--on", "2026-03-14",
              "--note", "pays Friday", day="2026-03-12")  # fmt: skip
    for day in (*DAYS[3:], "2026-04-10"):  # the broken promise moved B1's handoff later
        book.run(day)
    dossiers = posted(agency_server, "/intake")
    assert {body["debtor"]["id"] for _, body in dossiers} == {"C1", "B1"}
    headers, consumer = next((h, b) for h, b in dossiers if b["debtor"]["id"] == "C1")
    assert headers["Authorization"] == "Bearer s3cret-token"
    assert headers["Idempotency-Key"] == consumer["reference"]
    assert consumer["debtor"]["kind"] == "consumer"
    assert [i["number"] for i in consumer["invoices"]] == ["F-1"]
    assert consumer["invoices"][0]["open"] == "1234.56"
    steps = [m["step"] for m in consumer["messages"] if m["state"] == "sent"]
    assert steps[:2] == ["friendly-reminder", "fourteen-day-letter"]
    [letter] = consumer["letters"]
    assert letter["sent_on"] == "2026-03-11" and letter["invoice_numbers"] == ["F-1"]
    assert consumer["claim"]["costs_now"] is True and consumer["claim"]["total"] != "1234.56"
    business = next(b for _, b in dossiers if b["debtor"]["id"] == "B1")
    [call_record] = business["calls"]
    assert call_record["outcome"] == "promise" and call_record["spoken_to"] == "Jan"
    assert [a["status"] for a in business["agreements"]] == ["broken"]
    assert [i["number"] for i in business["invoices"]] == ["F-2"]
    # After the handoff: every later run leaves both debtors alone about those invoices.
    inbox.new()
    for day in ("2026-04-11", "2026-05-01", "2026-06-15"):
        book.run(day)
    mails = inbox.new()
    assert not [m for m in mails if m.to == "zoe@celik.nl"]
    assert all("F-2" not in m.text for m in mails if m.to == "jan@bakker.nl")
    assert len(posted(agency_server, "/intake")) == 2  # each dossier delivered once
    refused = book("promise", "F-1", "--until", "2026-07-01", "--date", "2026-06-15")
    assert refused.returncode == 2
    assert "was handed over to a collection agency on 2026-04-02" in only_line(refused.stderr)


def test_payment_at_the_source_after_handoff_is_told_to_the_agency_once(
    tmp_path: Path, smtp_server: SMTPTestServer, agency_server: HTTPServer
) -> None:
    book = portfolio(tmp_path, smtp_server.port, http_agency(agency_server))
    for day in DAYS:
        book.run(day)
    book.ok("mark-paid", "F-1", "--amount", "234.56", "--date", "2026-04-05")
    book.run("2026-04-06")
    book.run("2026-04-07")
    # The rest is paid at the source: the export now says F-1 is paid in full.
    rows = (tmp_path / "invoices.csv").read_text(encoding="utf-8").splitlines()
    assert rows[0].endswith(";betaald;betaaldatum;betaald_bedrag;betaald_kenmerken")
    rows = [";".join([*r.split(";")[:-4], "ja", "08-04-2026", "1234,56", r.split(";")[-1]])
            if r.startswith("F-1;") else r for r in rows]  # fmt: skip
    book.header = rows[0]
    book.write_rows(rows[1:])
    book.run("2026-04-08")
    book.run("2026-04-09")
    notices = [body for _, body in posted(agency_server, "/updates")]
    assert [(n["invoice"], n["event"], n["amount_open"]) for n in notices] == [
        ("F-1", "partly-paid", "1000.00"),
        ("F-1", "paid", "0.00"),
    ]


def test_the_dossier_goes_by_email_with_a_readable_pdf(
    tmp_path: Path, smtp_server: SMTPTestServer
) -> None:
    book = portfolio(tmp_path, smtp_server.port, email_agency(smtp_server.port))
    for day in DAYS:
        book.run(day)
    dossiers = [m.parsed() for m in smtp_server.messages
                if "intake@incasso-noord.nl" in str(m.parsed()["To"])]  # fmt: skip
    assert len(dossiers) == 2
    consumer = next(d for d in dossiers if "Çelik" in str(d["Subject"]) or any(
        "C1" in (part.get_filename() or "") for part in d.iter_attachments()))  # fmt: skip
    files = {part.get_filename(): part.get_payload(decode=True)
             for part in consumer.iter_attachments()}  # fmt: skip
    assert {"manifest.json", "invoices.csv", "summary.pdf"} <= set(files)
    text = "\n".join(
        page.extract_text() for page in PdfReader(io.BytesIO(files["summary.pdf"])).pages
    )
    text = text.replace("\xa0", " ")
    assert "Zoë Çelik" in text and "F-1" in text and "€ 1.234,56" in text


def test_the_agency_report_records_payments_and_closures_once(
    tmp_path: Path, smtp_server: SMTPTestServer, agency_server: HTTPServer
) -> None:
    book = portfolio(tmp_path, smtp_server.port, http_agency(agency_server))
    for day in DAYS:
        book.run(day)
    report = tmp_path / "report.csv"
    report.write_text(
        "invoice;status;amount_collected;date\n"
        "F-1;partly-paid;200,00;2026-04-20\n"
        "F-2;closed;0;2026-04-21\n",
        encoding="utf-8",
    )
    out = book.ok("agency", "import", str(report))
    assert "F-1 partly-paid, payment of 200.00 recorded" in out
    assert "F-2 closed; the agency closed the case" in out
    assert "1 payment(s) written back to the source" in out
    again = book.ok("agency", "import", str(report))
    assert "2 line(s) were imported before" in again
    later = tmp_path / "later.json"
    entry = {"invoice": "F-1", "status": "paid", "amount_collected": "1234.56",
             "date": "2026-05-02"}  # fmt: skip
    later.write_text(json.dumps([entry]))
    assert "payment of 1034.56 recorded" in book.ok("agency", "import", str(later))
    paid = book.db("select sum(amount_cents) from payments where invoice_number = 'F-1'")
    assert paid == [(123456,)]
    # The agency's own collections are not reported back to it as news.
    book.run("2026-05-03")
    assert posted(agency_server, "/updates") == []
    listing = book.json("agency", "list")
    assert {(r["invoice"], r["agency_status"]) for r in listing} == {
        ("F-1", "paid"), ("F-2", "closed"),
    }  # fmt: skip


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("invoice;status;amount_collected;date\nF-1;lost;0;2026-04-20\n",
         "report.csv:3: status 'lost' is not known"),
        ("invoice;status;amount_collected;date\nF-1;paid;12,345;2026-04-20\n",
         "report.csv:3: amount collected '12,345' is not an amount"),
        ("invoice;status;amount_collected;date\nF-1;paid;10;20 april\n",
         "report.csv:3: date '20 april' is not a date"),
        ("invoice;status;amount_collected;date\nF-3;paid;80;2026-04-20\n",
         "report.csv:3: invoice F-3 was not handed over to an agency"),
        ("invoice;status;date\nF-1;paid;2026-04-20\n", "report.csv:2: amount_collected is missing"),
    ],
)  # fmt: skip
def test_a_bad_agency_report_is_one_error_and_records_nothing(
    tmp_path: Path, smtp_server: SMTPTestServer, agency_server: HTTPServer,
    content: str, message: str,
) -> None:  # fmt: skip
    book = portfolio(tmp_path, smtp_server.port, http_agency(agency_server))
    for day in DAYS:
        book.run(day)
    report = tmp_path / "report.csv"
    report.write_text("invoice;status;amount_collected;date\nF-2;paid;500;2026-04-20\n"
                      + content.split("\n", 1)[1], encoding="utf-8")  # fmt: skip
    if "amount_collected" not in content:
        report.write_text(content, encoding="utf-8")
    result = book("agency", "import", str(report))
    assert result.returncode == 2
    assert message in only_line(result.stderr)
    assert book.db("select count(*) from payments") == [(0,)]
    assert book.db("select count(*) from agency_reports") == [(0,)]


def test_a_folder_delivery_holds_the_invoice_pdf_from_the_source(
    tmp_path: Path, smtp_server: SMTPTestServer
) -> None:
    agency = (
        "      agency:\n        type: agency\n        delivery: folder\n        folder: outbox\n"
    )
    book = portfolio(tmp_path, smtp_server.port, agency)
    text = book.config.read_text(encoding="utf-8")
    book.config.write_text(
        text.replace("path: invoices.csv}", "path: invoices.csv, invoice_pdfs: pdfs}"),
        encoding="utf-8",
    )
    (tmp_path / "pdfs").mkdir()
    (tmp_path / "pdfs" / "F-1.pdf").write_bytes(b"%PDF-1.4 the invoice F-1\n%%EOF\n")
    for day in DAYS:
        book.run(day)
    [folder] = [p for p in (tmp_path / "outbox").iterdir() if ":C1:" in p.name or "C1" in p.name]
    names = {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}
    assert {"manifest.json", "invoices.csv", "summary.pdf", "invoices/F-1.pdf"} <= names
    assert (folder / "invoices" / "F-1.pdf").read_bytes().startswith(b"%PDF-1.4 the invoice")
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert "invoices/F-1.pdf" in [a["name"] for a in manifest["attachments"]]


def test_a_handoff_the_agency_refuses_is_listed_as_not_delivered(
    tmp_path: Path, smtp_server: SMTPTestServer, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/intake", method="POST").respond_with_data("no", status=401)
    book = portfolio(tmp_path, smtp_server.port, http_agency(httpserver))
    results = [book("run", "--date", day, "--quiet") for day in DAYS]
    handoff = results[DAYS.index("2026-04-02")]
    assert handoff.returncode == 1  # a failed message: cron sees it
    assert "(401 UNAUTHORIZED): check 'token'" in handoff.stderr
    listing = book.json("agency", "list")
    assert {r["invoice"] for r in listing} == {"F-1", "F-2"}
    assert all(r["agency_status"].startswith("dossier not delivered: failed") for r in listing)
    # The admin fixes the token; `agency resend` lets the next run deliver the dossier.
    httpserver.clear()
    httpserver.expect_request("/intake", method="POST").respond_with_json({"id": "AG-9"})
    reference = next(r["reference"] for r in listing if r["invoice"] == "F-1")
    assert "will be delivered by the next" in book.ok("agency", "resend", reference)
    book.run("2026-04-04")
    assert [b["debtor"]["id"] for _, b in posted(httpserver, "/intake")] == ["C1"]
    again = book("agency", "resend", reference)
    assert again.returncode == 2 and "is sent, not failed" in only_line(again.stderr)
