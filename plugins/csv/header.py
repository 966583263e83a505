"""Match the file's header line to the logical fields of :class:`~.config.CsvColumns`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from dunning.core.errors import SourceError
from dunning.plugins.csv.config import REQUIRED_FIELDS, CsvColumns

_LIKELY_DELIMITERS = (";", ",", "\t", "|")


def normalize_header(name: str) -> str:
    """Header names compare case-insensitively, without surrounding spaces or a stray BOM."""
    return name.replace("\ufeff", "").strip().casefold()


@dataclass(frozen=True, slots=True)
class HeaderMap:
    """Where each logical field sits in a row. Optional fields absent from the file are missing."""

    indexes: Mapping[str, int]

    def has(self, field: str) -> bool:
        return field in self.indexes

    def cell(self, row: Sequence[str], field: str) -> str:
        """The stripped cell of ``field`` in ``row``; ``""`` when the column or cell is absent."""
        index = self.indexes.get(field)
        if index is None or index >= len(row):
            return ""
        return row[index].strip()


def map_header(
    header: Sequence[str], columns: CsvColumns, file_name: str, delimiter: str
) -> HeaderMap:
    """Locate every configured column in ``header``.

    Raises :class:`SourceError` (one line: file, missing headers, the headers found, the fix)
    when a required column is missing, or when a configured header occurs twice.
    """
    configured = {normalize_header(name) for name in columns.model_dump().values()}
    positions: dict[str, int] = {}
    for index, name in enumerate(header):
        key = normalize_header(name)
        if key in positions:
            if key in configured:
                raise SourceError(
                    f"{file_name}: column {name.strip()!r} appears twice in the header "
                    f"(columns {positions[key] + 1} and {index + 1}); rename or remove one"
                )
            continue
        positions[key] = index

    indexes: dict[str, int] = {}
    missing: list[str] = []
    for field, name in columns.model_dump().items():
        position = positions.get(normalize_header(name))
        if position is not None:
            indexes[field] = position
        elif field in REQUIRED_FIELDS:
            missing.append(f"{name!r} ({field})")
    if missing:
        found = ", ".join(repr(h.replace("\ufeff", "").strip()) for h in header) or "none"
        raise SourceError(
            f"{file_name}: required column {' and '.join(missing)} is missing from the header; "
            f"the file has {found}{_delimiter_hint(header, delimiter)}; map your own headers "
            "with 'columns:' under the source in pipelines.yaml, e.g. columns: {amount: Totaal}"
        )
    return HeaderMap(indexes=indexes)


def _delimiter_hint(header: Sequence[str], delimiter: str) -> str:
    """A hint when the header reads as one column: the delimiter setting is probably wrong."""
    if len(header) != 1:
        return ""
    for candidate in _LIKELY_DELIMITERS:
        if candidate != delimiter and candidate in header[0]:
            shown = "tab" if candidate == "\t" else candidate
            return (
                f" (one column only: the file seems to use {shown!r} between columns; "
                f"set delimiter: {shown!r})"
            )
    return ""
