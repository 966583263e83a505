"""Write a payment back into the CSV file: atomically, idempotently, touching only one row.

The file is streamed into a temporary file in the same folder, which then replaces the original
with ``os.replace`` after an ``fsync``; a failure at any point leaves the original untouched and
no temporary file behind. Every record other than the paid invoice's (and the header, when
write-back columns must be appended) is copied byte for byte.
"""

from __future__ import annotations

import codecs
import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import TextIO

from dunning.core.errors import SourceError
from dunning.core.models import Invoice, Payment
from dunning.plugins.csv.config import WRITEBACK_FIELDS, CsvConfig
from dunning.plugins.csv.header import HeaderMap, map_header
from dunning.plugins.csv.rowtext import rewrite_record
from dunning.plugins.csv.stream import Record, iter_records, open_binary, text_stream
from dunning.plugins.csv.values import DateFormat, format_amount, parse_amount, parse_flag

BOM = codecs.BOM_UTF8
PAID_MARK = "ja"


def write_payment(path: Path, config: CsvConfig, invoice: Invoice, payment: Payment) -> None:
    """Record ``payment`` on the row of ``payment.invoice_number`` in the file at ``path``.

    The row gets ``paid_amount`` = its previous paid amount + ``payment.amount``, ``paid_date`` =
    ``payment.paid_on`` (in the style of the row's invoice date), ``paid`` = ``ja`` once nothing is
    left open, and, when the file has an ``amount_open`` column, the new open amount. Missing
    write-back columns are appended to the header.

    Idempotent: a payment with a ``key`` is written once; its key goes into the row's
    ``paid_keys`` column, and a payment whose key is there already leaves the file as it is (a
    retry after a crash or a lost answer). A payment without a key counts as written when the
    row's paid date is ``payment.paid_on``, its paid amount is at least ``payment.amount``, and
    its open amount is no more than ``invoice.amount_open`` (the ledger's view, with every
    payment not yet written back taken off).

    Raises :class:`SourceError` (file unchanged) for an unknown invoice number, a non-positive
    payment, a row whose amounts cannot be read, or a failing write.
    """
    file_name = path.name
    if payment.invoice_number != invoice.number:
        raise SourceError(
            f"{file_name}: payment for invoice {payment.invoice_number!r} was passed with "
            f"invoice {invoice.number!r}; nothing was written (this is a bug in the caller)"
        )
    if payment.amount <= 0:
        raise SourceError(
            f"{file_name}: payment of {payment.amount} for invoice {payment.invoice_number!r} "
            "is not a positive amount; nothing was written; correct the payment in the ledger"
        )
    _rewrite(path, config, invoice, payment, _apply)


def undo_payment(path: Path, config: CsvConfig, invoice: Invoice, payment: Payment) -> None:
    """Take ``payment`` (written earlier by :func:`write_payment`, with its ``key``) off the
    row of its invoice again, because the bank returned it: ``paid_amount`` goes down by its
    amount, its key leaves ``paid_keys``, ``paid`` is cleared while money is open, and an
    ``amount_open`` column goes up. Idempotent: a row without the key is left as it is.
    Atomic like :func:`write_payment`."""
    if payment.key is None or payment.amount <= 0:
        raise SourceError(
            f"{path.name}: a payment of invoice {payment.invoice_number!r} without a key (or "
            "not positive) cannot be undone; nothing was written"
        )
    _rewrite(path, config, invoice, payment, _undo)


def _rewrite(
    path: Path, config: CsvConfig, invoice: Invoice, payment: Payment, apply: _Apply
) -> None:
    """Stream the file into its replacement with ``apply`` done to the payment's line; replace
    it only when that changed the line."""
    write_encoding = _write_encoding(path, config.encoding)
    with _replacement(path, write_encoding) as (out, commit):
        with open_binary(path) as binary, text_stream(binary, config.encoding) as text:
            read_state = _file_state(os.fstat(binary.fileno()))
            records = iter_records(
                text,
                file_name=path.name,
                delimiter=config.delimiter,
                encoding=config.encoding,
                keep_raw=True,
            )
            changed = _copy_with_payment(records, out, config, path.name, invoice, payment, apply)
        if changed:
            commit(read_state)


def _write_encoding(path: Path, encoding: str) -> str:
    """The codec to write the file back with: for ``utf-8-sig``, a BOM only if it had one."""
    if codecs.lookup(encoding).name != "utf-8-sig":
        return encoding
    with open_binary(path) as binary:
        return encoding if binary.read(len(BOM)) == BOM else "utf-8"


def _file_state(stat: os.stat_result) -> tuple[int, int]:
    """What tells us another program saved the file meanwhile: modification time and size."""
    return stat.st_mtime_ns, stat.st_size


def _copy_with_payment(
    records: Iterator[Record],
    out: TextIO,
    config: CsvConfig,
    file_name: str,
    invoice: Invoice,
    payment: Payment,
    apply: _Apply,
) -> bool:
    """Copy ``records`` to ``out`` with ``apply`` (:func:`_apply` or :func:`_undo`) done to the
    payment's line; False when nothing had to change."""
    header_record = next(records, None)
    while header_record is not None and header_record.is_blank:
        out.write(header_record.raw)
        header_record = next(records, None)
    if header_record is None:
        raise SourceError(
            f"{file_name}: the file is empty; invoice {invoice.number!r} is not in it"
        )
    header = map_header(header_record.cells, config.columns, file_name, config.delimiter)

    header_cells = list(header_record.cells)
    indexes = dict(header.indexes)
    for name in WRITEBACK_FIELDS if apply is _apply else ():
        if name == "paid_keys" and payment.key is None:
            continue  # the column is only added for payments that carry a key
        if name not in indexes:
            indexes[name] = len(header_cells)
            header_cells.append(getattr(config.columns, name))
    if header_cells == header_record.cells:
        out.write(header_record.raw)
    else:
        out.write(rewrite_record(header_record, header_cells, config.delimiter))
    full_header = HeaderMap(indexes=indexes)

    changed = False
    found = False
    for record in records:
        number = header.cell(record.cells, "invoice_number")
        if found or record.is_blank or number != payment.invoice_number:
            out.write(record.raw)
            continue
        found = True
        place = f"{file_name}:{record.line}"
        new_cells = apply(record.cells, header, full_header, config, place, invoice, payment)
        if new_cells is None or new_cells == record.cells:
            out.write(record.raw)
        else:
            out.write(rewrite_record(record, new_cells, config.delimiter))
            changed = True
    if not found:
        raise SourceError(
            f"{file_name}: invoice {payment.invoice_number!r} is not in the file, so its payment "
            "cannot be written back; check whether its line was removed or renumbered "
            "(the file was left unchanged)"
        )
    return changed


def _apply(
    cells: list[str],
    header: HeaderMap,
    full_header: HeaderMap,
    config: CsvConfig,
    place: str,
    invoice: Invoice,
    payment: Payment,
) -> list[str] | None:
    """The row's cells after ``payment``; ``None`` when the row already records it."""

    def amount(name: str, what: str) -> Decimal | None:
        failing = f"the payment of invoice {payment.invoice_number!r} cannot be written back"
        return _cell_amount(cells, header, config, place, name, what, failing)

    total = amount("amount", "amount") or Decimal("0.00")
    paid_before = amount("paid_amount", "paid amount") or Decimal("0.00")
    already_paid = parse_flag(header.cell(cells, "paid")) is True
    open_cell = amount("amount_open", "open amount")
    if already_paid:
        open_before = Decimal("0.00")
    elif open_cell is not None:
        open_before = open_cell
    else:
        open_before = total - paid_before

    dates = DateFormat(config.date_format)
    written_keys = _written_keys(cells, header)
    if payment.key is not None and payment.key in written_keys:
        return None  # this very payment was written before (its answer was lost)
    last_paid_on = dates.parse(header.cell(cells, "paid_date"))
    if (
        payment.key is None
        and last_paid_on == payment.paid_on
        and paid_before >= payment.amount
        and open_before <= invoice.amount_open
    ):
        return None

    open_after = open_before - payment.amount
    new_cells = list(cells)
    new_cells.extend([""] * (max(full_header.indexes.values()) + 1 - len(new_cells)))

    def put(name: str, value: str) -> None:
        new_cells[full_header.indexes[name]] = value

    put("paid_amount", format_amount(paid_before + payment.amount, config.decimal))
    put("paid_date", payment.paid_on.strftime(dates.style_of(header.cell(cells, "issue_date"))))
    if open_after <= 0 and not already_paid:
        put("paid", PAID_MARK)
    if header.has("amount_open"):
        put("amount_open", format_amount(max(open_after, Decimal("0.00")), config.decimal))
    if payment.key is not None:
        put("paid_keys", " ".join([*written_keys, payment.key]))
    return new_cells


def _undo(
    cells: list[str],
    header: HeaderMap,
    full_header: HeaderMap,
    config: CsvConfig,
    place: str,
    invoice: Invoice,
    payment: Payment,
) -> list[str] | None:
    """The row's cells with ``payment`` taken off again; ``None`` when it does not record it."""
    written_keys = _written_keys(cells, header)
    if payment.key not in written_keys:
        return None

    def amount(name: str, what: str) -> Decimal:
        failing = f"the returned payment of invoice {payment.invoice_number!r} cannot be written"
        return _cell_amount(cells, header, config, place, name, what, failing) or Decimal("0.00")

    total = amount("amount", "amount")
    paid_after = max(amount("paid_amount", "paid amount") - payment.amount, Decimal("0.00"))
    new_cells = list(cells)

    def put(name: str, value: str) -> None:
        new_cells[full_header.indexes[name]] = value

    put("paid_amount", format_amount(paid_after, config.decimal))
    put("paid_keys", " ".join(k for k in written_keys if k != payment.key))
    if header.has("paid") and total - paid_after > 0:
        put("paid", "")
    if header.has("amount_open"):
        reopened = min(amount("amount_open", "open amount") + payment.amount, total)
        put("amount_open", format_amount(reopened, config.decimal))
    return new_cells


def _written_keys(cells: list[str], header: HeaderMap) -> list[str]:
    """The keys of the payments written into the row (``paid_keys``)."""
    return header.cell(cells, "paid_keys").split() if header.has("paid_keys") else []


def _cell_amount(
    cells: list[str],
    header: HeaderMap,
    config: CsvConfig,
    place: str,
    name: str,
    what: str,
    failing: str,
) -> Decimal | None:
    """The amount in the row's ``name`` column (``None`` when empty); a cell that is not a
    number raises :class:`SourceError` saying ``failing`` (what cannot be done)."""
    text = header.cell(cells, name)
    if not text:
        return None
    value = parse_amount(text, config.decimal)
    if value is None:
        raise SourceError(
            f"{place}: {what} {text!r} is not a number, so {failing}; correct the cell "
            "(the file was left unchanged; the payment is retried on the next run)"
        )
    return value


_Apply = Callable[
    [list[str], HeaderMap, HeaderMap, CsvConfig, str, Invoice, Payment], list[str] | None
]


@contextlib.contextmanager
def _replacement(path: Path, encoding: str) -> Iterator[tuple[TextIO, _Commit]]:
    """A temporary file next to ``path``; ``commit(state)`` makes it replace ``path`` on exit.

    Without ``commit`` (or on any error) the temporary file is removed and ``path`` untouched.
    """
    try:
        fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise SourceError(
            f"cannot write next to {str(path)!r} ({exc.strerror or exc}); the folder must be "
            "writable for payments to be written back (the file was left unchanged)"
        ) from None
    temp = Path(temp_name)
    commit = _Commit()
    try:
        with os.fdopen(fd, "w", encoding=encoding, newline="") as out:
            yield out, commit
            out.flush()
            os.fsync(out.fileno())
        if commit.read_state is not None:
            current = path.stat()
            if _file_state(current) != commit.read_state:
                raise SourceError(
                    f"{str(path)!r} was changed by another program while the payment was being "
                    "written; it was left as that program saved it; the payment is retried on "
                    "the next run"
                )
            with contextlib.suppress(OSError):
                temp.chmod(current.st_mode & 0o7777)
            temp.replace(path)
            _fsync_folder(path.parent)
    except OSError as exc:
        raise SourceError(
            f"writing the payment into {str(path)!r} failed ({exc.strerror or exc}); "
            "the file was left unchanged; the payment is retried on the next run"
        ) from None
    finally:
        temp.unlink(missing_ok=True)


class _Commit:
    """Called by the writer once the temporary file is complete and should replace the original.

    ``read_state`` is the original's :func:`_file_state` when it was read; the replacement is
    refused if the file no longer looks like that.
    """

    read_state: tuple[int, int] | None = None

    def __call__(self, read_state: tuple[int, int]) -> None:
        self.read_state = read_state


def _fsync_folder(folder: Path) -> None:
    """Make the rename durable where the platform allows syncing a directory."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
