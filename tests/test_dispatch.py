"""Dispatch through a real SMTP server: re-check before sending, retries, per-debtor failures."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from dunning.core.config import LoadedConfig, load_config
from dunning.core.ledger import Ledger
from dunning.core.models import Payment
from dunning.core.runner import run_pipeline
from tests.portfolio import FRIENDLY, SECOND, write_smtp_project
from tests.smtp_server import SMTPTestServer

AS_OF = date(2026, 3, 20)
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
ROWS = [
    "A-1;D1;Alfa B.V.;Anna Alfa;anna@alfa.example;01-02-2026;03-03-2026;100,00",
    "A-2;D1;Alfa B.V.;Anna Alfa;anna@alfa.example;05-02-2026;07-03-2026;50,00",
    "B-1;D2;Beta B.V.;Bob Beta;bob@beta.example;01-02-2026;03-03-2026;200,00",
    "C-1;D3;Gamma B.V.;Cor Gamma;cor@gamma.example;01-02-2026;03-03-2026;300,00",
]


def project(tmp_path: Path, port: int) -> LoadedConfig:
    return load_config(write_smtp_project(tmp_path, ROWS, "p", port, (FRIENDLY, SECOND)))


def run(config: LoadedConfig, day: date = AS_OF):
    ledger = Ledger.open(config.state_url)
    try:
        noon = datetime.combine(day, time(12), tzinfo=AMSTERDAM)  # inside the send window
        return run_pipeline(config, config.pipeline("p"), ledger, day, retry_wait=0.01, now=noon)
    finally:
        ledger.close()


def test_one_connection_one_message_per_debtor_listing_all_invoices(tmp_path, smtp_server):
    config = project(tmp_path, smtp_server.port)
    summary = run(config)
    assert summary.sent == 3
    received = smtp_server.wait_for(3)
    assert smtp_server.connections == 1
    alfa = next(m for m in received if m.rcpt_tos == ("anna@alfa.example",))
    text = alfa.parsed().get_body(("plain",)).get_content()
    assert "A-1" in text and "A-2" in text


def test_invoice_paid_after_planning_is_not_reminded(tmp_path, smtp_server):
    config = project(tmp_path, smtp_server.port)
    smtp_server.refuse("bob@beta.example", 451)  # B-1's message stays pending for a retry
    smtp_server.refuse("anna@alfa.example", 451)
    first = run(config)
    assert first.retry_later == 2
    ledger = Ledger.open(config.state_url)
    ledger.payments.record("p", Payment("B-1", Decimal("200.00"), AS_OF))  # paid in full
    ledger.payments.record("p", Payment("A-2", Decimal("50.00"), AS_OF))  # one of two invoices
    ledger.close()
    smtp_server.accept("bob@beta.example")
    smtp_server.accept("anna@alfa.example")
    second = run(config)
    assert second.cancelled == 1  # Beta: nothing left open
    assert second.sent == 1  # Alfa: only A-1 left in the message
    messages = smtp_server.wait_for(2)
    recipients = [m.rcpt_tos for m in messages]
    assert ("bob@beta.example",) not in recipients
    alfa = next(m for m in messages if m.rcpt_tos == ("anna@alfa.example",))
    text = alfa.parsed().get_body(("plain",)).get_content()
    assert "A-1" in text and "A-2" not in text


def test_refused_recipient_fails_that_debtor_only(tmp_path, smtp_server):
    config = project(tmp_path, smtp_server.port)
    smtp_server.refuse("bob@beta.example", 550)
    summary = run(config)
    assert summary.sent == 2
    assert summary.failed + summary.bad_recipients == 1
    assert any("bob@beta.example" in p for p in summary.problems)
    assert summary.exit_code in (0, 1)


def test_server_down_leaves_messages_pending_for_the_next_run(tmp_path):
    with SMTPTestServer() as server:
        port = server.port
    config = project(tmp_path, port)
    down = run(config)
    assert down.sent == 0 and down.retry_later == 3 and down.exit_code == 1
    with SMTPTestServer(port) as server:
        up = run(config)
        assert up.sent == 3
        assert len(server.wait_for(3)) == 3
