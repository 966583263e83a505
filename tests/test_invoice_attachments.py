"""Reminders by email carry the invoices' PDFs when the source has them (``invoice_documents``)."""

from __future__ import annotations

from pathlib import Path

from tests.smtp_server import SMTPTestServer
from tests.test_pauses_cli import F1, F2, F3, Portfolio


def test_each_reminder_carries_the_pdf_of_its_invoices(
    tmp_path: Path, smtp_server: SMTPTestServer
) -> None:
    book = Portfolio(tmp_path, smtp_server.port, [F1, F2, F3])
    text = book.config.read_text(encoding="utf-8")
    book.config.write_text(
        text.replace("path: invoices.csv}", "path: invoices.csv, invoice_pdfs: pdfs}"),
        encoding="utf-8",
    )
    (tmp_path / "pdfs").mkdir()
    pdf = b"%PDF-1.4\n% the invoice F-1 as the accounting platform made it\n%%EOF\n"
    (tmp_path / "pdfs" / "F-1.pdf").write_bytes(pdf)
    book.run("2026-03-04")  # F-1 (Bakker) and F-3 (Smith) get their friendly reminder
    mails = {str(m.parsed()["To"]): m.parsed() for m in smtp_server.messages}
    bakker = mails["jan@bakker.nl"]
    [attachment] = list(bakker.iter_attachments())
    assert attachment.get_filename() == "F-1.pdf"
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_payload(decode=True) == pdf
    assert bakker.get_body(("plain",)) is not None and bakker["Content-Language"] == "nl"
    assert list(mails["anne@smith.co.uk"].iter_attachments()) == []  # no PDF for F-3
