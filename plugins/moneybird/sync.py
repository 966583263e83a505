"""Incremental sync through Moneybird's synchronization endpoints (API-CONTRACTS.md 2.3).

Each sync asks for the ids and versions of every sales invoice in the synced states and period
(one ``GET``) and of every contact (one ``GET``), compares them with the versions in the cursor,
and fetches only what changed: ``POST sales_invoices/synchronization.json`` with at most 100 ids
a call. A sales invoice carries its contact in full, so the debtor of a fetched invoice costs
nothing more; only contacts that changed while none of their invoices did are fetched with
``POST contacts/synchronization.json``. Nothing changed: two requests. One invoice changed:
three.

The cursor is compact JSON the plugin owns::

    {"invoices": {"<id>": <version>}, "contacts": {"<id>": [<version>, "<language>"]}}

An invoice in the cursor that is no longer listed (it went back to draft, a direct debit is
being collected, it left the period) is fetched once more and yielded closed; one Moneybird no
longer has (deleted) is reported as a :class:`RowProblem`.

``contacts`` holds only the contacts of synced invoices, with the language their debtor was
given (Moneybird keeps the language on the invoice, not on the contact). A record that cannot be
mapped becomes a :class:`RowProblem` and its version is not stored, so it is read (and reported)
again on each sync until it is fixed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from dunning.core.errors import SourceError
from dunning.core.models import Debtor, RowProblem, SyncCursor
from dunning.core.source import SyncRecord
from dunning.plugins.moneybird.client import WHAT, MoneybirdClient
from dunning.plugins.moneybird.mapping import (
    SYNCED_STATES,
    Unmappable,
    contact_to_debtor,
    invoice_to_record,
    language_of,
)

BATCH = 100
"""Moneybird returns at most 100 records per synchronization ``POST``."""


@dataclass
class Cursor:
    invoices: dict[str, int] = field(default_factory=dict)
    contacts: dict[str, tuple[int, str]] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str | None) -> Cursor | None:
        """The stored cursor, or ``None`` (sync everything) when absent or not ours."""
        if not text:
            return None
        try:
            data = json.loads(text)
            invoices = {str(k): int(v) for k, v in data["invoices"].items()}
            contacts = {str(k): (int(v[0]), str(v[1])) for k, v in data["contacts"].items()}
        except (ValueError, KeyError, TypeError, AttributeError, IndexError):
            return None
        return cls(invoices, contacts)

    def dump(self) -> str:
        contacts = {k: [v, lang] for k, (v, lang) in self.contacts.items()}
        return json.dumps({"invoices": self.invoices, "contacts": contacts}, separators=(",", ":"))


def _versions(body: Any, what: str) -> dict[str, int]:
    if not isinstance(body, list):
        raise SourceError(f"{WHAT} answered the {what} synchronization with no list of versions")
    versions: dict[str, int] = {}
    for entry in body:
        try:
            versions[str(entry["id"])] = int(entry["version"])
        except (KeyError, TypeError, ValueError):
            raise SourceError(
                f"{WHAT} answered the {what} synchronization with an entry without id and "
                f"version: {str(entry)[:100]}"
            ) from None
    return versions


def _records(body: Any, what: str) -> list[dict[str, Any]]:
    if not isinstance(body, list) or not all(isinstance(r, dict) for r in body):
        raise SourceError(f"{WHAT} answered the {what} synchronization with no list of records")
    return body


def invoice_filter(period: str) -> str:
    return f"state:{'|'.join(SYNCED_STATES)},period:{period}"


def sync_moneybird(
    client: MoneybirdClient,
    period: str,
    cursor_text: str | None,
    invoice_ids: dict[str, str] | None = None,
) -> Iterator[SyncRecord]:
    """Yield what changed since ``cursor_text``, then the new cursor (see the module docstring).

    ``invoice_ids`` collects invoice number -> Moneybird id of every invoice read."""
    old = Cursor.parse(cursor_text) or Cursor()
    invoice_versions = _versions(
        client.json(
            "GET", "sales_invoices/synchronization", params={"filter": invoice_filter(period)}
        ),
        "sales invoice",
    )
    contact_versions = _versions(client.json("GET", "contacts/synchronization"), "contact")
    changed_contacts = {
        cid for cid, (version, _) in old.contacts.items() if contact_versions.get(cid) != version
    }
    new = Cursor(
        invoices={i: v for i, v in old.invoices.items() if invoice_versions.get(i) == v},
        contacts={c: old.contacts[c] for c in old.contacts if c not in changed_contacts},
    )
    changed = [i for i, v in invoice_versions.items() if old.invoices.get(i) != v]
    gone = {i for i in old.invoices if i not in invoice_versions}
    given: set[str] = set()
    for start in range(0, len(changed) + len(gone), BATCH):
        batch = [*changed, *sorted(gone)][start : start + BATCH]
        body = client.json("POST", "sales_invoices/synchronization", json={"ids": batch})
        records = _records(body, "sales invoice")
        for missing in set(batch) - {str(r.get("id", "")) for r in records}:
            yield RowProblem(
                f"moneybird:sales_invoice:{missing}",
                "is no longer in Moneybird (deleted?); the ledger keeps its last state: "
                "settle it there (mark-paid) if it is no longer owed",
            )
        for data in records:
            invoice_id = str(data.get("id", ""))
            place = f"moneybird:sales_invoice:{invoice_id}"
            try:
                invoice = invoice_to_record(data, left=invoice_id in gone)
                contact = data.get("contact") or {}
                debtor = None
                if invoice.debtor_id not in new.contacts:  # new, changed, or the first sync
                    debtor = contact_to_debtor(contact, language_of(data))
            except Unmappable as error:
                number = str(data.get("invoice_id") or "") or None
                yield RowProblem(place, f"cannot be used: {error}", invoice_number=number)
                continue
            if debtor is not None:
                yield debtor
                given.add(debtor.debtor_id)
                version = contact_versions.get(debtor.debtor_id, int(contact.get("version") or 0))
                new.contacts[debtor.debtor_id] = (version, debtor.language)
            yield invoice
            if invoice_id in invoice_versions:  # one that left is not followed any more
                new.invoices[invoice_id] = invoice_versions[invoice_id]
            if invoice_ids is not None:
                invoice_ids[invoice.number] = invoice_id
    yield from _changed_contacts(client, sorted(changed_contacts - given), old, new)
    yield SyncCursor(new.dump())


def _changed_contacts(
    client: MoneybirdClient, contact_ids: list[str], old: Cursor, new: Cursor
) -> Iterator[Debtor | RowProblem]:
    """Debtors of contacts that changed while none of their invoices did."""
    for start in range(0, len(contact_ids), BATCH):
        batch = contact_ids[start : start + BATCH]
        body = client.json("POST", "contacts/synchronization", json={"ids": batch})
        for contact in _records(body, "contact"):
            contact_id = str(contact.get("id", ""))
            language = old.contacts.get(contact_id, (0, "nl"))[1]
            try:
                debtor = contact_to_debtor(contact, language)
            except Unmappable as error:
                yield RowProblem(f"moneybird:contact:{contact_id}", f"cannot be used: {error}")
                continue
            yield debtor
            new.contacts[contact_id] = (int(contact.get("version") or 0), language)
