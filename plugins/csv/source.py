"""The ``csv`` source: open invoices from a spreadsheet export, payments written back into it."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

from dunning.core.errors import PluginError, SourceError
from dunning.core.handoff.dossier import InvoiceDocument
from dunning.core.models import Debtor, Invoice, Payment, RowProblem, SyncCursor
from dunning.core.source import Capability, Source, SourceConfig, SourceContext, SyncRecord
from dunning.plugins.csv.config import CsvConfig
from dunning.plugins.csv.header import map_header
from dunning.plugins.csv.reader import RowReader
from dunning.plugins.csv.stream import HashingReader, iter_records, open_binary, text_stream
from dunning.plugins.csv.writeback import undo_payment, write_payment


class CsvSource(Source):
    """Reads every invoice of one CSV file on each sync (a full snapshot).

    Rows that cannot be used become :class:`RowProblem` records; the invoices of every other row
    still come through. A bad IBAN is reported the same way, but its row is used without it.
    Payments are written back into the file itself (``paid``, ``paid_date``, ``paid_amount``
    columns), atomically.
    """

    kind = "csv"
    Config = CsvConfig
    capabilities = frozenset(
        {
            Capability.REGISTER_PAYMENTS,
            Capability.REVERSE_PAYMENTS,
            Capability.FULL_SNAPSHOT,
            Capability.INVOICE_DOCUMENTS,
        }
    )

    def __init__(self, config: SourceConfig, context: SourceContext) -> None:
        if not isinstance(config, CsvConfig):
            raise PluginError(f"the csv source needs a CsvConfig, got {type(config).__name__}")
        super().__init__(config, context)
        self.settings = config
        self.path: Path = (
            config.path if config.path.is_absolute() else context.config_dir / config.path
        )

    def sync(self, cursor: str | None) -> Iterator[SyncRecord]:
        """Stream the whole file: debtors (when new or changed), invoices and row problems.

        ``cursor`` is ignored: a CSV file has no change log, so every sync is a full snapshot.
        The last record is a :class:`SyncCursor` holding the SHA-256 of the file's bytes. Memory
        grows only with the distinct invoice numbers and debtors, never with the file.
        """
        file_name = self.path.name
        with open_binary(self.path) as binary:
            hashing = HashingReader(binary)
            with text_stream(io.BufferedReader(hashing), self.settings.encoding) as text:
                records = iter_records(
                    text,
                    file_name=file_name,
                    delimiter=self.settings.delimiter,
                    encoding=self.settings.encoding,
                )
                header_record = next((r for r in records if not r.is_blank), None)
                if header_record is None:
                    raise SourceError(
                        f"{file_name}: the file is empty; it needs a header line with the "
                        "column names, then one line per invoice"
                    )
                header = map_header(
                    header_record.cells,
                    self.settings.columns,
                    file_name,
                    self.settings.delimiter,
                )
                rows = RowReader(config=self.settings, header=header, file_name=file_name)
                debtors: dict[str, Debtor] = {}
                for record in records:
                    if record.is_blank:
                        continue
                    result = rows.read(record)
                    if isinstance(result, RowProblem):
                        yield result
                        continue
                    debtor, invoice, notes = result
                    if debtors.get(debtor.debtor_id) != debtor:
                        debtors[debtor.debtor_id] = debtor
                        yield debtor
                    yield invoice
                    yield from notes
                yield SyncCursor(value=hashing.hexdigest_to_end())

    def register_payment(self, invoice: Invoice, payment: Payment) -> None:
        """Write ``payment`` into the invoice's row (see :func:`.writeback.write_payment`)."""
        write_payment(self.path, self.settings, invoice, payment)

    def reverse_payment(self, invoice: Invoice, payment: Payment) -> None:
        """Take a returned payment off the invoice's row (see :func:`.writeback.undo_payment`)."""
        undo_payment(self.path, self.settings, invoice, payment)

    def invoice_document(self, invoice: Invoice) -> InvoiceDocument | None:
        """``<invoice_pdfs>/<number>.pdf`` when ``invoice_pdfs`` is set and the file exists."""
        folder = self.settings.invoice_pdfs
        if folder is None:
            return None
        folder = folder if folder.is_absolute() else self.context.config_dir / folder
        safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in invoice.number)
        path = folder / f"{safe}.pdf"
        if not path.is_file():
            return None
        try:
            content = path.read_bytes()
        except OSError as error:
            raise SourceError(f"{path}: cannot read the invoice PDF ({error.strerror})") from None
        return InvoiceDocument(invoice.number, path.name, content)
