"""The agency channel against a real folder, a real HTTP server and a real SMTP server."""

from __future__ import annotations

import base64
import csv
import io
import json
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from pypdf import PdfReader
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from dunning.channels.agency import AgencyChannel, AgencyConfig
from dunning.channels.agency.files import safe_name
from dunning.channels.agency.mail_message import message_id_for
from dunning.core.channel import ChannelContext, OutgoingMessage
from dunning.core.errors import ConfigError, SendError
from dunning.core.handoff.dossier import AgencyUpdate, Dossier
from dunning.core.http import retry_after_seconds
from dunning.core.models import Debtor, Receipt
from dunning.core.pdf import FONT_ENV, find_fonts
from dunning.core.plugins import load_registry
from tests.agency_fixtures import (
    BIG_INVOICE,
    CREDITOR,
    DEBTOR,
    LETTER_LAST_DAY,
    LETTER_RECEIVED,
    LETTER_SENT,
    REFERENCE,
    SMALL_INVOICE,
    TODAY,
    dossier,
    paid_update,
)
from tests.smtp_server import LOOPBACK, SMTPTestServer, free_port

TOKEN = "s3cret-token"
INTAKE = "intake@incasso.example.nl"
SENDER = "debiteuren@acme.example.com"


def agency(config_dir: Path, **settings: Any) -> AgencyChannel:
    config = AgencyConfig.model_validate(settings)
    context = ChannelContext(pipeline="p", name="agency", config_dir=config_dir, creditor=CREDITOR)
    return AgencyChannel(config, context)


def handoff(file: Dossier | None = None) -> OutgoingMessage:
    file = file or dossier()
    return OutgoingMessage(
        idempotency_key=file.reference,
        pipeline="p",
        debtor=file.debtor,
        recipient="agency",
        step="hand-over",
        template="hand-over",
        invoices=file.invoices,
        today=TODAY,
        creditor=CREDITOR,
        dossier=file,
    )


def notice(update: AgencyUpdate | None = None) -> OutgoingMessage:
    update = update or paid_update()
    return OutgoingMessage(
        idempotency_key=update.reference,
        pipeline="p",
        debtor=update.debtor,
        recipient="agency",
        step="hand-over",
        template="agency-update",
        invoices=(update.invoice,),
        today=TODAY,
        creditor=CREDITOR,
        agency_update=update,
    )


def send(channel: AgencyChannel, *messages: OutgoingMessage) -> list[Receipt]:
    with channel.connect() as connection:
        return [connection.send(message) for message in messages]


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


# --- registration, recipient, config -------------------------------------------------------------


def test_agency_kind_is_registered_through_the_entry_point():
    registry = load_registry()
    assert registry.channels["agency"] is AgencyChannel
    assert registry.provided_by[("channel", "agency")] == "agency"
    assert AgencyChannel.hands_over
    assert not AgencyChannel.contacts_debtor  # the agency receives it: no debtor send window


def test_recipient_is_the_agency_even_for_a_debtor_without_email_or_phone(tmp_path: Path):
    nobody = Debtor(debtor_id="D9", name="Zonder Adres")
    assert agency(tmp_path, delivery="folder", folder="out/agency").recipient(nobody) == str(
        tmp_path / "out" / "agency"
    )
    mail = agency(
        tmp_path, delivery="email", to=INTAKE, from_address=SENDER, smtp={"host": "localhost"}
    )
    assert mail.recipient(nobody) == INTAKE
    api = agency(tmp_path, delivery="http", url="https://api.incasso.example.nl/dossiers")
    assert api.recipient(nobody) == "https://api.incasso.example.nl/dossiers"


@pytest.mark.parametrize(
    ("settings", "problem"),
    [
        ({"delivery": "http"}, "delivery: http needs url"),
        ({"delivery": "folder"}, "delivery: folder needs folder"),
        ({"delivery": "email", "to": INTAKE}, "delivery: email needs from_address and smtp"),
        ({"delivery": "folder", "folder": "x", "url": "https://a.nl"}, "url is not used with"),
        ({"delivery": "http", "url": "ftp://agency.nl"}, "not an http:// or https:// address"),
        ({"delivery": "fax"}, "'folder', 'email' or 'http'"),
        ({"delivery": "folder", "folder": "x", "folders": "y"}, "Extra inputs are not permitted"),
        ({"delivery": "email", "to": "no-at-sign", "from_address": SENDER}, "valid email"),
    ],
)
def test_config_names_what_is_missing_or_wrong(settings: dict[str, Any], problem: str):
    with pytest.raises(ValidationError, match=problem):
        AgencyConfig.model_validate(settings)


def test_a_message_without_dossier_or_notice_is_refused_for_good(tmp_path: Path):
    channel = agency(tmp_path, delivery="folder", folder="out")
    reminder = handoff()
    reminder = OutgoingMessage(**{**_fields(reminder), "dossier": None})
    with pytest.raises(SendError, match="only hands debtors over") as failure:
        send(channel, reminder)
    assert not failure.value.retryable


def _fields(message: OutgoingMessage) -> dict[str, Any]:
    return {name: getattr(message, name) for name in OutgoingMessage.__dataclass_fields__}


# --- folder delivery ----------------------------------------------------------------------------


def test_folder_delivery_writes_manifest_csv_summary_and_invoice_pdf(tmp_path: Path):
    channel = agency(tmp_path, delivery="folder", folder="out/agency", agency_name="Incasso Noord")
    [receipt] = send(channel, handoff())
    folder = tmp_path / "out" / "agency" / safe_name(REFERENCE)
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()) == [
        "invoices.csv",
        f"invoices/{BIG_INVOICE}.pdf",
        "manifest.json",
        "summary.pdf",
    ]
    assert (folder / "invoices" / f"{BIG_INVOICE}.pdf").read_bytes() == (
        dossier().documents[0].content
    )
    assert receipt.provider_message_id == safe_name(REFERENCE)
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".")]


def test_sending_the_same_dossier_again_writes_nothing_and_gives_the_same_receipt(tmp_path: Path):
    channel = agency(tmp_path, delivery="folder", folder="out")
    [first] = send(channel, handoff())
    manifest = tmp_path / "out" / safe_name(REFERENCE) / "manifest.json"
    written = manifest.stat().st_mtime_ns
    time.sleep(0.01)
    [again] = send(channel, handoff())
    assert again == first
    assert manifest.stat().st_mtime_ns == written
    assert [p.name for p in (tmp_path / "out").iterdir()] == [safe_name(REFERENCE)]


def test_a_half_written_dossier_of_a_crashed_attempt_is_replaced(tmp_path: Path):
    leftover = tmp_path / "out" / f".{safe_name(REFERENCE)}.abc123.partial"
    leftover.mkdir(parents=True)
    (leftover / "manifest.json").write_text("{")
    send(agency(tmp_path, delivery="folder", folder="out"), handoff())
    assert not leftover.exists()
    assert json.loads((tmp_path / "out" / safe_name(REFERENCE) / "manifest.json").read_bytes())


def test_manifest_holds_the_whole_file_with_amounts_as_strings(tmp_path: Path):
    send(agency(tmp_path, delivery="folder", folder="out", agency_name="Incasso Noord"), handoff())
    folder = tmp_path / "out" / safe_name(REFERENCE)
    manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
    assert manifest["schema_version"] == 1
    assert manifest["reference"] == REFERENCE
    assert manifest["agency_name"] == "Incasso Noord"
    assert manifest["creditor"]["iban"] == CREDITOR.iban
    assert manifest["debtor"] == {
        "id": "D042",
        "name": "Zoë Çelik",
        "kind": "consumer",
        "business": False,
        "contact_name": "Zoë Çelik",
        "email": DEBTOR.email,
        "phone": DEBTOR.phone,
        "language": "nl",
        "country": "NL",
        "tags": ["webshop"],
        "contacts": [],
    }
    big, small = manifest["invoices"]
    assert big == {
        "number": BIG_INVOICE,
        "issue_date": "2026-01-15",
        "due_date": "2026-02-14",
        "days_overdue": 65,
        "total": "1234.56",
        "open": "1234.56",
        "currency": "EUR",
        "payment_link": None,
        "tags": [],
    }
    assert (small["total"], small["open"]) == ("250.00", "150.00")
    assert manifest["total_open"] == "1384.56"
    assert manifest["credit_notes"][0]["total"] == "-20.00"
    assert manifest["vat_deductible"] is True

    claim = dossier().claim
    assert manifest["claim"]["total"] == f"{claim.total:.2f}"
    assert manifest["claim"]["costs_now"] is True
    assert manifest["claim"]["interest_basis"] == "wettelijke rente (art. 6:119 BW)"
    line = manifest["claim"]["lines"][0]
    assert line["invoice"] == BIG_INVOICE and line["principal"] == "1234.56"
    assert line["interest_from"] == "2026-02-15" and line["interest_periods"][0]["days"] == 65

    assert [m["step"] for m in manifest["messages"]] == ["friendly-reminder", "fourteen-day-letter"]
    assert manifest["messages"][1]["sent_at"] == "2026-03-09T09:00:00+00:00"
    assert manifest["messages"][1]["recipient"] == DEBTOR.email
    [call] = manifest["calls"]
    assert (call["outcome"], call["spoken_to"]) == ("promise", "Zoë Çelik")
    assert call["details"] == {"promised_for": "2026-04-03"}
    promise, arrangement = manifest["agreements"]
    assert (promise["kind"], promise["status"], promise["until"]) == (
        "promise",
        "broken",
        "2026-04-03",
    )
    assert arrangement["instalments"][0] == {"due_on": "2026-04-15", "amount": "692.28"}
    assert manifest["payments"] == [
        {
            "invoice_number": SMALL_INVOICE,
            "amount": "100.00",
            "paid_on": "2026-03-02",
            "origin": "bank",
            "reference": "TRX-881",
        }
    ]
    assert manifest["letters"][0]["received_on"] == "2026-03-10"
    assert manifest["letters"][0]["last_day"] == "2026-03-24"

    files = {f["name"]: f for f in manifest["attachments"]}
    assert set(files) == {"invoices.csv", "summary.pdf", f"invoices/{BIG_INVOICE}.pdf"}
    pdf = (folder / "summary.pdf").read_bytes()
    assert files["summary.pdf"]["size"] == len(pdf)
    assert files["summary.pdf"]["content_type"] == "application/pdf"


def test_invoices_csv_has_one_row_per_handed_over_invoice(tmp_path: Path):
    send(agency(tmp_path, delivery="folder", folder="out"), handoff())
    text = (tmp_path / "out" / safe_name(REFERENCE) / "invoices.csv").read_text("utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [row["invoice_number"] for row in rows] == [BIG_INVOICE, SMALL_INVOICE]
    big = rows[0]
    interest = dossier().claim.lines[0].interest
    assert interest is not None
    assert big["issue_date"] == "2026-01-15" and big["due_date"] == "2026-02-14"
    assert (big["total"], big["open"], big["currency"]) == ("1234.56", "1234.56", "EUR")
    assert big["days_overdue"] == "65"
    assert big["interest"] == f"{interest.amount:.2f}"
    assert big["claimed"] == f"{interest.amount + Decimal('1234.56'):.2f}"
    assert rows[1]["open"] == "150.00" and rows[1]["interest_from"] == "2026-03-04"


def test_summary_pdf_prints_euro_amounts_names_and_the_letter_dates(tmp_path: Path):
    send(agency(tmp_path, delivery="folder", folder="out", agency_name="Incasso Noord"), handoff())
    text = pdf_text((tmp_path / "out" / safe_name(REFERENCE) / "summary.pdf").read_bytes())
    text = text.replace("\xa0", " ")
    for expected in (
        "€ 1.234,56",
        "€ 1.384,56",
        "Zoë Çelik",
        BIG_INVOICE,
        SMALL_INVOICE,
        "Incasso Noord",
        "consument (B2C)",
        "Veertiendagenbrief",
        LETTER_SENT.strftime("%d-%m-%Y"),
        LETTER_RECEIVED.strftime("%d-%m-%Y"),
        LETTER_LAST_DAY.strftime("%d-%m-%Y"),
        "promise",
        "TRX-881",
        "wettelijke rente (art. 6:119 BW)",
    ):
        assert expected in text, expected


def test_summary_pdf_in_english(tmp_path: Path):
    send(agency(tmp_path, delivery="folder", folder="out", language="en"), handoff())
    text = pdf_text((tmp_path / "out" / safe_name(REFERENCE) / "summary.pdf").read_bytes())
    assert "€1,234.56" in text and "14-day letter" in text and "10/03/2026" in text


def test_the_same_dossier_renders_to_the_same_bytes(tmp_path: Path):
    send(agency(tmp_path / "a", delivery="folder", folder="out"), handoff())
    send(agency(tmp_path / "b", delivery="folder", folder="out"), handoff())
    for name in ("manifest.json", "invoices.csv", "summary.pdf"):
        first = (tmp_path / "a" / "out" / safe_name(REFERENCE) / name).read_bytes()
        assert first == (tmp_path / "b" / "out" / safe_name(REFERENCE) / name).read_bytes()


def test_payment_notice_is_written_to_the_updates_folder(tmp_path: Path):
    channel = agency(tmp_path, delivery="folder", folder="out")
    [receipt, again] = send(channel, notice(), notice())
    update = paid_update()
    path = tmp_path / "out" / "updates" / f"{safe_name(update.reference)}.json"
    assert json.loads(path.read_text("utf-8")) == {
        "schema": "dunning.agency-update",
        "schema_version": 1,
        "type": "paid",
        "event": "paid",
        "reference": update.reference,
        "handoff_reference": REFERENCE,
        "pipeline": "p",
        "debtor_id": "D042",
        "debtor_name": "Zoë Çelik",
        "invoice": BIG_INVOICE,
        "currency": "EUR",
        "open_before": "1234.56",
        "amount_open": "0.00",
        "paid_on": "2026-05-02",
    }
    assert receipt == again
    assert [p.name for p in path.parent.iterdir()] == [path.name]


def test_check_reports_a_folder_that_cannot_be_created(tmp_path: Path):
    (tmp_path / "out").write_text("a file where the folder should be")
    with pytest.raises(ConfigError, match=r"agency channel 'agency' of pipeline 'p'.*'folder'"):
        agency(tmp_path, delivery="folder", folder="out/agency").check()
    agency(tmp_path, delivery="folder", folder="elsewhere").check()
    assert (tmp_path / "elsewhere").is_dir()


def test_unwritable_folder_fails_the_batch_at_connect(tmp_path: Path):
    (tmp_path / "out").write_text("a file where the folder should be")
    with pytest.raises(SendError, match="cannot write agency dossiers") as failure:
        send(agency(tmp_path, delivery="folder", folder="out/agency"), handoff())
    assert not failure.value.retryable


# --- the PDF font -------------------------------------------------------------------------------


def test_font_comes_from_the_environment_variable_first():
    liberation = "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf"
    if not Path(liberation).is_file():
        pytest.skip("Liberation Sans is not installed")
    fonts = find_fonts({FONT_ENV: liberation})
    assert (fonts.regular, fonts.bold) == (Path(liberation), None)


def test_a_missing_font_says_what_to_install_or_set(tmp_path: Path):
    with pytest.raises(ConfigError, match=r"apt install fonts-dejavu-core.*DUNNING_PDF_FONT"):
        find_fonts({}, candidates=())
    with pytest.raises(ConfigError, match="no such font file"):
        find_fonts({FONT_ENV: str(tmp_path / "missing.ttf")})


def test_check_and_connect_report_a_bad_font_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    message = handoff()
    monkeypatch.setenv(FONT_ENV, str(tmp_path / "missing.ttf"))
    channel = agency(tmp_path, delivery="folder", folder="out")
    with pytest.raises(ConfigError, match=r"agency channel 'agency'.*missing\.ttf"):
        channel.check()
    with pytest.raises(SendError, match=r"missing\.ttf") as failure:
        send(channel, message)
    assert not failure.value.retryable


# --- HTTP delivery ------------------------------------------------------------------------------


def api(tmp_path: Path, httpserver: HTTPServer, **settings: Any) -> AgencyChannel:
    defaults: dict[str, Any] = {
        "delivery": "http",
        "url": httpserver.url_for("/dossiers"),
        "token": TOKEN,
        "retry_wait_seconds": 0,
        "max_attempts": 3,
        "timeout": 5,
    }
    return agency(tmp_path, **{**defaults, **settings})


def test_http_posts_the_manifest_with_embedded_files(tmp_path: Path, httpserver: HTTPServer):
    httpserver.expect_oneshot_request("/dossiers", method="POST").respond_with_json(
        {"id": "AG-2026-17"}, status=201
    )
    [receipt] = send(api(tmp_path, httpserver), handoff())
    [(request, _)] = httpserver.log
    assert request.headers["Idempotency-Key"] == REFERENCE
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["Content-Type"] == "application/json"
    body = request.get_json()
    assert body["reference"] == REFERENCE and body["invoices"][0]["open"] == "1234.56"
    files = {f["name"]: f for f in body["files"]}
    assert set(files) == {"invoices.csv", "summary.pdf", f"invoices/{BIG_INVOICE}.pdf"}
    pdf = base64.b64decode(files["summary.pdf"]["content_base64"])
    assert "Zoë Çelik" in pdf_text(pdf)
    assert base64.b64decode(files[f"invoices/{BIG_INVOICE}.pdf"]["content_base64"]) == (
        dossier().documents[0].content
    )
    assert receipt.provider_message_id == "AG-2026-17"


def test_http_without_token_sends_no_authorization(tmp_path: Path, httpserver: HTTPServer):
    httpserver.expect_oneshot_request("/dossiers").respond_with_json({"reference": "R-1"})
    channel = agency(tmp_path, delivery="http", url=httpserver.url_for("/dossiers"))
    [receipt] = send(channel, handoff())
    assert "Authorization" not in httpserver.log[0][0].headers
    assert receipt.provider_message_id == "R-1"


def test_http_429_waits_as_asked_then_succeeds(tmp_path: Path, httpserver: HTTPServer):
    httpserver.expect_ordered_request("/dossiers").respond_with_data(
        "slow down", status=429, headers={"Retry-After": "1"}
    )
    httpserver.expect_ordered_request("/dossiers").respond_with_json({"id": "AG-1"})
    started = time.monotonic()
    [receipt] = send(api(tmp_path, httpserver), handoff())
    assert time.monotonic() - started >= 0.9
    assert len(httpserver.log) == 2 and receipt.provider_message_id == "AG-1"
    assert {r.headers["Idempotency-Key"] for r, _ in httpserver.log} == {REFERENCE}


def test_http_429_with_an_http_date_in_the_past_is_retried_at_once(
    tmp_path: Path, httpserver: HTTPServer
):
    past = format_datetime(datetime.now(UTC) - timedelta(minutes=5), usegmt=True)
    httpserver.expect_ordered_request("/dossiers").respond_with_data(
        "", status=429, headers={"Retry-After": past}
    )
    httpserver.expect_ordered_request("/dossiers").respond_with_json({"id": "AG-1"})
    send(api(tmp_path, httpserver), handoff())
    assert len(httpserver.log) == 2


def test_http_429_asking_too_long_a_wait_ends_the_attempts(tmp_path: Path, httpserver: HTTPServer):
    httpserver.expect_request("/dossiers").respond_with_data(
        "", status=429, headers={"Retry-After": "3600"}
    )
    with pytest.raises(SendError, match="3600 s, more than max_retry_after_seconds") as failure:
        send(api(tmp_path, httpserver, max_retry_after_seconds=10), handoff())
    assert failure.value.retryable and len(httpserver.log) == 1


def test_http_503_is_retried_then_succeeds(tmp_path: Path, httpserver: HTTPServer):
    for _ in range(2):
        httpserver.expect_ordered_request("/dossiers").respond_with_data("busy", status=503)
    httpserver.expect_ordered_request("/dossiers").respond_with_json({"id": "AG-3"})
    [receipt] = send(api(tmp_path, httpserver), handoff())
    assert len(httpserver.log) == 3 and receipt.provider_message_id == "AG-3"


def test_http_5xx_until_the_attempts_run_out_is_retryable(tmp_path: Path, httpserver: HTTPServer):
    httpserver.expect_request("/dossiers").respond_with_data("down", status=502)
    with pytest.raises(SendError, match=r"502.*3 attempts") as failure:
        send(api(tmp_path, httpserver), handoff())
    assert failure.value.retryable and len(httpserver.log) == 3


def test_http_400_is_permanent_and_quotes_the_answer(tmp_path: Path, httpserver: HTTPServer):
    httpserver.expect_request("/dossiers").respond_with_json(
        {"error": "debtor.kind is required"}, status=400
    )
    with pytest.raises(SendError, match=r"400 BAD REQUEST.*debtor\.kind is required") as failure:
        send(api(tmp_path, httpserver), handoff())
    assert not failure.value.retryable and len(httpserver.log) == 1


def test_http_401_tells_to_check_the_token(tmp_path: Path, httpserver: HTTPServer):
    httpserver.expect_request("/dossiers").respond_with_data("", status=401)
    with pytest.raises(SendError) as failure:
        send(api(tmp_path, httpserver), handoff())
    message = str(failure.value)
    assert "agency channel 'agency' of pipeline 'p'" in message
    assert "check 'token'" in message and TOKEN not in message
    assert not failure.value.retryable and len(httpserver.log) == 1


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A port that accepts connections and never answers (the kernel queues them)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind((LOOPBACK, 0))
        listener.listen(8)
        yield f"http://{LOOPBACK}:{listener.getsockname()[1]}/dossiers"


def test_http_server_that_never_answers_is_a_retryable_failure(tmp_path: Path, silent_server: str):
    settings = {"timeout": 0.2, "max_attempts": 2, "retry_wait_seconds": 0}
    channel = agency(tmp_path, delivery="http", url=silent_server, **settings)
    started = time.monotonic()
    with pytest.raises(SendError, match=r"did not answer within 0\.2 s") as failure:
        send(channel, handoff())
    assert failure.value.retryable and time.monotonic() - started < 5


def test_http_nothing_listening_is_a_retryable_failure(tmp_path: Path):
    url = f"http://{LOOPBACK}:{free_port()}/dossiers"
    channel = agency(tmp_path, delivery="http", url=url, max_attempts=2, retry_wait_seconds=0)
    with pytest.raises(SendError, match="cannot connect") as failure:
        send(channel, handoff())
    assert failure.value.retryable


def test_http_malformed_json_answer_is_tolerated(tmp_path: Path, httpserver: HTTPServer):
    httpserver.expect_request("/dossiers").respond_with_data(
        "{not json", status=200, content_type="application/json"
    )
    [receipt] = send(api(tmp_path, httpserver), handoff())
    assert receipt.provider_message_id == REFERENCE


def test_http_payment_notice_goes_to_the_updates_url(tmp_path: Path, httpserver: HTTPServer):
    def accept(request: Request) -> Response:
        return Response(json.dumps({"id": "U-1"}), status=202, content_type="application/json")

    httpserver.expect_request("/updates", method="POST").respond_with_handler(accept)
    channel = api(tmp_path, httpserver, updates_url=httpserver.url_for("/updates"))
    [receipt] = send(channel, notice())
    [(request, _)] = httpserver.log
    update = paid_update()
    assert request.headers["Idempotency-Key"] == update.reference
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    body = request.get_json()
    assert (body["event"], body["invoice"], body["amount_open"]) == ("paid", BIG_INVOICE, "0.00")
    assert body["handoff_reference"] == REFERENCE and body["debtor_id"] == "D042"
    assert receipt.provider_message_id == "U-1"


def test_retry_after_reads_seconds_and_http_dates():
    now = datetime(2026, 4, 20, 12, 0, tzinfo=UTC)
    assert retry_after_seconds("7", now) == 7
    assert retry_after_seconds("Mon, 20 Apr 2026 12:00:30 GMT", now) == 30
    assert retry_after_seconds("Mon, 20 Apr 2026 11:00:00 GMT", now) == 0
    assert retry_after_seconds("soon", now) is None
    assert retry_after_seconds(None, now) is None


# --- email delivery -----------------------------------------------------------------------------


def mailer(tmp_path: Path, server: SMTPTestServer, **smtp: Any) -> AgencyChannel:
    return agency(
        tmp_path,
        delivery="email",
        to=INTAKE,
        from_address=SENDER,
        from_name="Acme debiteuren",
        smtp={"host": server.host, "port": server.port, "security": "none", **smtp},
    )


def test_email_carries_every_file_and_a_message_id_from_the_reference(
    tmp_path: Path, smtp_server: SMTPTestServer
):
    [first, again] = send(mailer(tmp_path, smtp_server), handoff(), handoff())
    received = smtp_server.wait_for(2)
    expected_id = message_id_for(REFERENCE, SENDER)
    assert first.provider_message_id == again.provider_message_id == expected_id
    assert [m.message_id for m in received] == [expected_id, expected_id]
    assert received[0].rcpt_tos == (INTAKE,) and received[0].mail_from == SENDER
    message = received[0].parsed()
    assert REFERENCE in str(message["Subject"]) and "Zoë Çelik" in str(message["Subject"])
    attachments = {part.get_filename(): part for part in message.iter_attachments()}
    assert set(attachments) == {
        "manifest.json",
        "invoices.csv",
        "summary.pdf",
        f"{BIG_INVOICE}.pdf",
    }
    manifest = json.loads(attachments["manifest.json"].get_content())
    assert manifest["reference"] == REFERENCE
    pdf = attachments["summary.pdf"].get_content()
    assert "€ 1.234,56" in pdf_text(pdf).replace("\xa0", " ")
    body = message.get_body(("plain",))
    assert body is not None and "€" in body.get_content()


def test_email_payment_notice_has_the_json_and_joins_the_dossier_thread(
    tmp_path: Path, smtp_server: SMTPTestServer
):
    [receipt] = send(mailer(tmp_path, smtp_server), notice())
    [received] = smtp_server.wait_for(1)
    message = received.parsed()
    update = paid_update()
    assert receipt.provider_message_id == message_id_for(update.reference, SENDER)
    assert str(message["In-Reply-To"]) == message_id_for(REFERENCE, SENDER)
    [attachment] = message.iter_attachments()
    assert json.loads(attachment.get_content())["amount_open"] == "0.00"
    assert BIG_INVOICE in str(message["Subject"])


def test_email_login_refused_is_a_clear_permanent_error(tmp_path: Path):
    with SMTPTestServer(auth=("agency", "right")) as server:
        channel = mailer(tmp_path, server, username="agency", password="wrong")
        with pytest.raises(SendError, match=r"refused the login.*check smtp\.username") as failure:
            send(channel, handoff())
    assert not failure.value.retryable
    assert "wrong" not in str(failure.value)


def test_email_login_accepted(tmp_path: Path):
    with SMTPTestServer(auth=("agency", "right")) as server:
        send(mailer(tmp_path, server, username="agency", password="right"), handoff())
        assert len(server.wait_for(1)) == 1


@pytest.mark.parametrize(("code", "retryable"), [(451, True), (550, False)])
def test_email_refused_intake_address_is_classified(
    tmp_path: Path, smtp_server: SMTPTestServer, code: int, retryable: bool
):
    smtp_server.refuse(INTAKE, code)
    with pytest.raises(SendError, match=f"refused the intake address.*{code}") as failure:
        send(mailer(tmp_path, smtp_server), handoff())
    assert failure.value.retryable is retryable


def test_email_rejected_content_is_permanent(tmp_path: Path, smtp_server: SMTPTestServer):
    smtp_server.answer_data_with("554 5.6.0 message rejected")
    with pytest.raises(SendError, match="554") as failure:
        send(mailer(tmp_path, smtp_server), handoff())
    assert not failure.value.retryable


def test_email_server_not_running_is_retryable(tmp_path: Path):
    channel = agency(
        tmp_path,
        delivery="email",
        to=INTAKE,
        from_address=SENDER,
        smtp={"host": LOOPBACK, "port": free_port(), "security": "none", "timeout": 2},
    )
    with pytest.raises(SendError, match="cannot connect to mail server") as failure:
        send(channel, handoff())
    assert failure.value.retryable
