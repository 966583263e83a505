"""Rewrite one CSV record while keeping the exact text of every cell that did not change.

The csv module cannot round-trip a record's quoting, so the raw text is cut into per-cell
pieces; unchanged cells keep their piece, changed and new ones are quoted like the rest of the
record (all quoted, or only where needed). The result is parsed back as a check; if it does not
read as the new cells, the record is written plainly with the csv module instead.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from dunning.plugins.csv.stream import Record

_ENDINGS = ("\r\n", "\n", "\r")


def line_ending(raw: str) -> str:
    """The line ending of a raw record; ``""`` for a last line without one."""
    return next((ending for ending in _ENDINGS if raw.endswith(ending)), "")


def rewrite_record(original: Record, cells: Sequence[str], delimiter: str) -> str:
    """The text of ``original`` with its cells replaced by ``cells``, same line ending."""
    ending = line_ending(original.raw)
    pieces = _raw_pieces(original.raw[: len(original.raw) - len(ending)], delimiter)
    if len(pieces) != len(original.cells):
        pieces = []
    all_quoted = bool(pieces) and all(p.startswith('"') for p in pieces)
    parts = []
    for index, cell in enumerate(cells):
        if index < len(pieces) and original.cells[index] == cell:
            parts.append(pieces[index])
        elif cell or all_quoted:
            parts.append(_render([cell], delimiter, all_quoted))
        else:
            parts.append("")
    text = delimiter.join(parts) + ending
    if _parse(text, delimiter) == list(cells):
        return text
    return _render(cells, delimiter, all_quoted) + ending


def _raw_pieces(body: str, delimiter: str) -> list[str]:
    """``body`` cut at every delimiter outside quotes (a doubled quote toggles twice)."""
    pieces: list[str] = []
    start = 0
    quoted = False
    for index, char in enumerate(body):
        if char == '"':
            quoted = not quoted
        elif char == delimiter and not quoted:
            pieces.append(body[start:index])
            start = index + 1
    pieces.append(body[start:])
    return pieces


def _render(cells: Sequence[str], delimiter: str, all_quoted: bool) -> str:
    buffer = io.StringIO()
    writer = csv.writer(
        buffer,
        delimiter=delimiter,
        quoting=csv.QUOTE_ALL if all_quoted else csv.QUOTE_MINIMAL,
        lineterminator="\n",
    )
    writer.writerow(cells)
    return buffer.getvalue()[:-1]


def _parse(text: str, delimiter: str) -> list[str] | None:
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True))
    except csv.Error:
        return None
    return rows[0] if len(rows) == 1 else None
