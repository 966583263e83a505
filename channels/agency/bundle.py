"""Renders a dossier or a payment notice into the files every delivery method sends.

A dossier becomes ``manifest.json``, ``invoices.csv``, ``summary.pdf`` and one
``invoices/<file>`` per invoice document; the manifest lists the others with their SHA-256.
The same dossier always gives the same bytes, so a re-delivery is identical to the first.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from dunning.channels.agency.files import (
    INVOICE_FOLDER,
    INVOICES_CSV,
    MANIFEST,
    SUMMARY_PDF,
    AgencyFile,
    safe_filename,
    safe_name,
)
from dunning.channels.agency.invoices_csv import invoices_csv
from dunning.channels.agency.manifest import (
    dossier_manifest,
    to_json_bytes,
    update_notice,
)
from dunning.channels.agency.summary_pdf import summary_pdf
from dunning.core.handoff.dossier import AgencyUpdate, Dossier, InvoiceDocument
from dunning.core.pdf import FontFiles

JSON = "application/json"


@dataclass(frozen=True, slots=True)
class RenderedDossier:
    """A dossier as files: ``manifest`` (also as ``manifest_data``) and its ``attachments``."""

    reference: str
    manifest: AgencyFile
    manifest_data: dict[str, Any]
    attachments: tuple[AgencyFile, ...]

    @property
    def files(self) -> tuple[AgencyFile, ...]:
        """Every file, the manifest first."""
        return (self.manifest, *self.attachments)


@dataclass(frozen=True, slots=True)
class RenderedUpdate:
    """A payment notice: ``notice`` as JSON data and as the file ``name``."""

    reference: str
    notice: dict[str, Any]
    file: AgencyFile


def _document_files(documents: tuple[InvoiceDocument, ...]) -> Iterator[AgencyFile]:
    """Invoice documents under ``invoices/``, with safe names distinct from each other and from
    the other files (so that an email can attach every file under its bare name)."""
    taken = {MANIFEST, INVOICES_CSV, SUMMARY_PDF}
    for document in documents:
        name = safe_filename(document.filename or f"{document.invoice_number}.pdf")
        stem, dot, suffix = name.rpartition(".")
        if not dot:
            stem, suffix = name, ""
        candidate, counter = name, 1
        while candidate in taken:
            counter += 1
            candidate = f"{stem}-{counter}.{suffix}" if suffix else f"{stem}-{counter}"
        taken.add(candidate)
        content_type = mimetypes.guess_type(candidate)[0] or "application/octet-stream"
        yield AgencyFile(f"{INVOICE_FOLDER}/{candidate}", content_type, document.content)


def render_dossier(
    dossier: Dossier,
    *,
    language: str = "nl",
    agency_name: str | None = None,
    fonts: FontFiles | None = None,
) -> RenderedDossier:
    """Every file of ``dossier``. Raises :class:`~dunning.core.errors.ConfigError` when the PDF
    font cannot be found."""
    attachments = (
        AgencyFile(INVOICES_CSV, "text/csv; charset=utf-8", invoices_csv(dossier)),
        AgencyFile(
            SUMMARY_PDF, "application/pdf", summary_pdf(dossier, language, agency_name, fonts)
        ),
        *_document_files(dossier.documents),
    )
    data = dossier_manifest(dossier, attachments, agency_name)
    manifest = AgencyFile(MANIFEST, JSON, to_json_bytes(data))
    return RenderedDossier(dossier.reference, manifest, data, attachments)


def render_update(update: AgencyUpdate) -> RenderedUpdate:
    """The JSON notice of ``update``, as the file ``<safe reference>.json``."""
    notice = update_notice(update)
    name = f"{safe_name(update.reference)}.json"
    return RenderedUpdate(update.reference, notice, AgencyFile(name, JSON, to_json_bytes(notice)))


@dataclass(frozen=True, slots=True)
class Renderer:
    """Renders with one channel's settings: the summary's language, the agency's name, the font."""

    language: str = "nl"
    agency_name: str | None = None
    fonts: FontFiles | None = None

    def dossier(self, dossier: Dossier) -> RenderedDossier:
        return render_dossier(
            dossier, language=self.language, agency_name=self.agency_name, fonts=self.fonts
        )

    def update(self, update: AgencyUpdate) -> RenderedUpdate:
        return render_update(update)
