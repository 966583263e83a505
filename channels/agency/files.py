"""The files a dossier is delivered as, and safe names for references and attachments."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from dunning.core.models import CENT

UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
MAX_NAME = 100

MANIFEST = "manifest.json"
INVOICES_CSV = "invoices.csv"
SUMMARY_PDF = "summary.pdf"
INVOICE_FOLDER = "invoices"


@dataclass(frozen=True, slots=True)
class AgencyFile:
    """One file of a delivery: ``name`` is its path inside the dossier (``invoices/x.pdf``)."""

    name: str
    content_type: str
    content: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()

    @property
    def basename(self) -> str:
        return self.name.rsplit("/", 1)[-1]


def safe_name(text: str) -> str:
    """A file name for ``text`` (a reference): itself when it is already safe and short, else a
    readable part plus a hash of the original, so different references never share a name."""
    readable = UNSAFE.sub("_", text).strip("._-")[:MAX_NAME]
    if readable == text:
        return text
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
    return f"{readable or 'dossier'}-{digest}"


def safe_filename(filename: str) -> str:
    """A safe file name that keeps its extension: ``"Factuur 7.pdf"`` -> ``"Factuur_7-<hash>.pdf"``.

    Any folder part is dropped."""
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    stem, dot, suffix = base.rpartition(".")
    suffix = UNSAFE.sub("", suffix)[:10] if dot else ""
    if not dot:
        stem = base
    name = safe_name(stem) if stem.strip("._-") else "file"
    return f"{name}.{suffix}" if suffix else name


def money(amount: Decimal) -> str:
    """An amount for machines: two decimals, a dot, no grouping (``"1234.56"``, ``"-50.00"``)."""
    return str(amount.quantize(CENT, rounding=ROUND_HALF_UP))
