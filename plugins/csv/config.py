"""The ``source:`` section of a CSV pipeline: where the file is and how to read it.

Every key has a default that fits a typical Dutch spreadsheet export except ``path``. Unknown keys
(also inside ``columns:``) are configuration errors, so a misspelt key never goes unnoticed.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from dunning.core.source import SourceConfig

LANGUAGE_PATTERN = re.compile(r"^[a-z]{2}$")


class CsvColumns(BaseModel):
    """Logical field -> header name in the file. Matching is case-insensitive and trims spaces.

    Required columns: ``invoice_number``, ``debtor_id``, ``debtor_name``, ``issue_date``,
    ``due_date`` and ``amount``. Every other column may be absent from the file; the write-back
    columns (``paid``, ``paid_date``, ``paid_amount``) are appended when a payment is written.
    ``debtor_tags``, ``country`` and ``timezone`` describe the debtor; ``tags``,
    ``discount_percent`` and ``discount_days`` the invoice; ``payment_reference`` the reference
    the debtor quotes when paying, ``your_ref`` the debtor's own reference (their order number).
    ``manager_name``, ``manager_phone`` and ``manager_email`` are the debtor's management
    contact, whom a credit controller calls when the payer keeps being absent; ``street``,
    ``postcode`` and ``city`` the postal address printed on letters (a country line is added for
    debtors outside NL); ``iban`` the bank accounts the debtor pays from (several separated by
    spaces or commas), which payment matching recognises. See docs/source-csv.md.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    invoice_number: str = Field(default="factuurnummer", min_length=1)
    debtor_id: str = Field(default="debiteurnummer", min_length=1)
    debtor_name: str = Field(default="debiteur", min_length=1)
    contact_name: str = Field(default="contactpersoon", min_length=1)
    email: str = Field(default="email", min_length=1)
    phone: str = Field(default="telefoon", min_length=1)
    language: str = Field(default="taal", min_length=1)
    debtor_kind: str = Field(default="soort", min_length=1)
    debtor_tags: str = Field(default="debiteur_labels", min_length=1)
    country: str = Field(default="land", min_length=1)
    timezone: str = Field(default="tijdzone", min_length=1)
    street: str = Field(default="adres", min_length=1)
    postcode: str = Field(default="postcode", min_length=1)
    city: str = Field(default="plaats", min_length=1)
    manager_name: str = Field(default="directie", min_length=1)
    manager_phone: str = Field(default="directie_telefoon", min_length=1)
    manager_email: str = Field(default="directie_email", min_length=1)
    iban: str = Field(default="iban", min_length=1)
    issue_date: str = Field(default="factuurdatum", min_length=1)
    due_date: str = Field(default="vervaldatum", min_length=1)
    amount: str = Field(default="bedrag", min_length=1)
    amount_open: str = Field(default="openstaand", min_length=1)
    currency: str = Field(default="valuta", min_length=1)
    payment_link: str = Field(default="betaallink", min_length=1)
    tags: str = Field(default="labels", min_length=1)
    discount_percent: str = Field(default="korting", min_length=1)
    discount_days: str = Field(default="kortingstermijn", min_length=1)
    payment_reference: str = Field(default="betalingskenmerk", min_length=1)
    your_ref: str = Field(default="uw_referentie", min_length=1)
    paid: str = Field(default="betaald", min_length=1)
    paid_date: str = Field(default="betaaldatum", min_length=1)
    paid_amount: str = Field(default="betaald_bedrag", min_length=1)
    paid_keys: str = Field(default="betaald_kenmerken", min_length=1)


REQUIRED_FIELDS: tuple[str, ...] = (
    "invoice_number",
    "debtor_id",
    "debtor_name",
    "issue_date",
    "due_date",
    "amount",
)
"""Logical fields whose header must be in the file; every other column is optional."""

WRITEBACK_FIELDS: tuple[str, ...] = ("paid", "paid_date", "paid_amount", "paid_keys")
"""Columns ``register_payment`` writes, appended to the header (in this order) when absent."""


class CsvConfig(SourceConfig):
    """Settings of a ``type: csv`` source. ``path`` is relative to the folder of pipelines.yaml."""

    path: Path
    delimiter: str = ";"
    decimal: Literal[",", "."] = ","
    date_format: str = "auto"
    encoding: str = "utf-8-sig"
    default_language: str = "nl"
    columns: CsvColumns = CsvColumns()
    invoice_pdfs: Path | None = None
    """A folder holding each invoice's PDF as ``<invoice number>.pdf`` (for the agency
    dossier); relative to pipelines.yaml."""

    @field_validator("delimiter")
    @classmethod
    def _one_character(cls, value: str) -> str:
        if value.lower() == "tab":
            return "\t"
        if len(value) != 1 or value in '\r\n"':
            raise ValueError("delimiter must be one character such as ';' or ',' (or 'tab')")
        return value

    @field_validator("date_format")
    @classmethod
    def _auto_or_strptime(cls, value: str) -> str:
        if value != "auto" and "%" not in value:
            raise ValueError("date_format must be 'auto' or a strptime format such as '%d-%m-%Y'")
        return value

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        try:
            codecs.lookup(value)
        except LookupError:
            raise ValueError(
                "unknown encoding; use e.g. 'utf-8-sig' (default), 'utf-8' or 'cp1252'"
            ) from None
        return value

    @field_validator("default_language")
    @classmethod
    def _language_code(cls, value: str) -> str:
        value = value.strip().lower()
        if not LANGUAGE_PATTERN.match(value):
            raise ValueError("default_language must be a two-letter code such as 'nl' or 'en'")
        return value
