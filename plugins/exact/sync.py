"""Incremental sync through Exact's sync endpoints, by ``Timestamp`` (API-CONTRACTS.md 1.6).

Each sync reads what changed since the cursor's row versions, one stream after the other, each
1000 rows a page with ``$select``, in ascending ``Timestamp`` order:

1. ``sync/CRM/Accounts`` and ``sync/CRM/Contacts`` (debtors and their main contacts);
2. ``sync/Cashflow/PaymentTerms`` (receivable terms; payables, ``LineType`` 22, are skipped);
3. ``sync/Deleted`` (terms that were deleted: their invoice is no longer in the receivables);
4. every ``full_check_days`` also ``bulk/Cashflow/Receivables`` with ``IsFullyPaid eq false``:
   every open term, so that a case Exact closed without a change we saw is closed here too.

The first sync reads the streams from ``Timestamp gt 1``: everything, once. Nothing changed
since the last sync: four requests (five without a fixed division).

An invoice is the terms of one sales entry; its state is rebuilt from the terms the cursor
keeps and the ones that changed. The cursor is compact JSON the plugin owns::

    {"v": 1, "ts": {"accounts": T, "contacts": T, "terms": T, "deleted": T},
     "checked": "2026-11-23",
     "inv": {"<entry>": ["<number>", "<account>", total_cents, "EUR", issue_day, "<ref>",
                         {"<term>": [open_cents, due_day]}, due_day, "<your ref>"]},
     "acc": {"<account>": {...}}, "con": {"<contact>": {...}}}

``inv`` holds the open invoices only (days are ordinals); ``acc`` and ``con`` the accounts with
an open invoice and their main contacts, so a debtor is rebuilt when either changes. An invoice
whose terms are all paid or gone is yielded with nothing open (closed) and leaves the cursor;
an account new to the cursor is fetched with one ``crm/Accounts`` request (and its main contact
with one ``crm/Contacts`` request).

When Exact's daily limit runs out part-way, the rows read so far are applied (each stream is
read in ``Timestamp`` order, so its highest ``Timestamp`` read is a sound place to go on from),
and the sync yields :class:`~dunning.core.models.SyncIncomplete` before its cursor.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from dunning.core.errors import SourceLimitReached
from dunning.core.models import (
    Invoice,
    RowProblem,
    SyncCursor,
    SyncIncomplete,
    from_cents,
    to_cents,
)
from dunning.core.source import SyncRecord
from dunning.plugins.exact.client import ExactClient
from dunning.plugins.exact.config import ExactConfig
from dunning.plugins.exact.mapping import (
    Unmappable,
    account_to_debtor,
    debtor_id_of,
    exact_date,
    is_open,
    money,
    text,
)

ACCOUNT_FIELDS = (
    "ID,Code,Name,Email,Phone,Language,MainContact,Blocked,ChamberOfCommerce,VATNumber,"
    "AddressLine1,Postcode,City,Country"
)
CONTACT_FIELDS = (
    "ID,Account,FirstName,LastName,FullName,Email,BusinessEmail,Phone,Mobile,BusinessMobile,"
    "IsMainContact"
)
TERM_FIELDS = (
    "ID,Account,AmountFC,TransactionAmountFC,Currency,DueDate,InvoiceDate,InvoiceNumber,"
    "EntryNumber,TransactionEntryID,IsFullyPaid,LastPaymentDate,PaymentReference,Status,YourRef"
)
DELETED_FIELDS = "EntityKey,EntityType"
RECEIVABLE = 20
PAYABLE = 22
DELETED_TERM = 10
"""``sync/Deleted`` ``EntityType`` of a payment term (our reading; unconfirmed)."""
STREAMS = ("accounts", "contacts", "terms", "deleted")


@dataclass
class Tracked:
    """One open invoice as the cursor keeps it."""

    number: str
    account: str
    total_cents: int
    currency: str
    issue_day: int
    reference: str
    terms: dict[str, tuple[int, int]]
    """term id -> (open cents, due day ordinal)."""
    due_day: int = 0
    """The invoice's own due date (the earliest term's), kept for when nothing is open."""
    your_ref: str = ""
    """The debtor's own reference (``YourRef``)."""

    def dump(self) -> list[Any]:
        terms = {k: [v[0], v[1]] for k, v in self.terms.items()}
        return [
            self.number, self.account, self.total_cents, self.currency, self.issue_day,
            self.reference, terms, self.due_day, self.your_ref,
        ]  # fmt: skip

    @classmethod
    def load(cls, value: list[Any]) -> Tracked:
        number, account, total, currency, issue, reference, terms, due, your_ref = value
        return cls(
            str(number), str(account), int(total), str(currency), int(issue), str(reference),
            {str(k): (int(v[0]), int(v[1])) for k, v in terms.items()}, int(due), str(your_ref),
        )  # fmt: skip

    @property
    def open_cents(self) -> int:
        return sum(cents for cents, _ in self.terms.values())


@dataclass
class Cursor:
    ts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STREAMS, 1))
    checked: str = ""
    invoices: dict[str, Tracked] = field(default_factory=dict)
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    contacts: dict[str, dict[str, Any]] = field(default_factory=dict)
    todo: list[str] = field(default_factory=list)
    """Open invoices kept but not yet yielded (their debtor could not be read)."""
    todo_before: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, text_: str | None) -> Cursor | None:
        if not text_:
            return None
        try:
            data = json.loads(text_)
            if data.get("v") != 1:
                return None
            return cls(
                ts={s: int(data["ts"][s]) for s in STREAMS},
                checked=str(data.get("checked", "")),
                invoices={str(k): Tracked.load(v) for k, v in data["inv"].items()},
                accounts=dict(data["acc"]),
                contacts=dict(data["con"]),
                todo=[str(e) for e in data.get("todo", [])],
                todo_before=frozenset(str(e) for e in data.get("todo", [])),
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            return None

    def dump(self) -> str:
        return json.dumps(
            {
                "v": 1,
                "ts": self.ts,
                "checked": self.checked,
                "inv": {k: v.dump() for k, v in self.invoices.items()},
                "acc": self.accounts,
                "con": self.contacts,
                "todo": self.todo,
            },
            separators=(",", ":"),
        )


def _timestamp(row: dict[str, Any]) -> int:
    try:
        return int(row.get("Timestamp") or 0)
    except (TypeError, ValueError):
        return 0


def _strip(row: dict[str, Any]) -> dict[str, Any]:
    """The row without its metadata, version and empty fields (it may be kept in the cursor)."""
    return {
        k: v
        for k, v in row.items()
        if k not in ("__metadata", "Timestamp") and v is not None and v != "" and v is not False
    }


class ExactSync:
    """One sync of one division (see the module docstring)."""

    def __init__(
        self, client: ExactClient, config: ExactConfig, cursor_text: str | None, today: date
    ) -> None:
        self.client = client
        self.config = config
        self.today = today
        old = Cursor.parse(cursor_text)
        self.first = old is None
        self.cursor = old or Cursor()
        self.changed_accounts: dict[str, dict[str, Any]] = {}
        self.changed_contacts: dict[str, dict[str, Any]] = {}
        self.changed_terms: dict[str, dict[str, Any]] = {}
        self.deleted_terms: set[str] = set()
        self.open_now: dict[str, dict[str, Any]] | None = None
        """Every open term (the full check), or ``None`` when it was not made."""
        self.stopped: SourceLimitReached | None = None
        self.problems: list[RowProblem] = []
        self._mains: dict[str, dict[str, Any]] | None = None
        self.given: set[str] = set()
        """Accounts whose debtor was yielded in this sync."""

    @property
    def division(self) -> str:
        """The division for messages; never a request (the daily limit may have stopped
        ``current/Me``)."""
        known = self.client.known_division
        return str(known) if known is not None else "current"

    # -- reading -------------------------------------------------------------------------------

    def _stream(self, name: str, path: str, fields: str) -> Iterator[dict[str, Any]]:
        params = {
            "$select": f"Timestamp,{fields}",
            "$filter": f"Timestamp gt {self.cursor.ts[name]}L",
        }
        for page in self.client.pages(path, params):
            yield from page
            if page:
                self.cursor.ts[name] = max(self.cursor.ts[name], *map(_timestamp, page))

    def read(self) -> None:
        """Read every stream (and the full check when due); stop early at the daily limit."""
        try:
            for row in self._stream("accounts", "sync/CRM/Accounts", ACCOUNT_FIELDS):
                self.changed_accounts[str(row.get("ID"))] = _strip(row)
            for row in self._stream("contacts", "sync/CRM/Contacts", CONTACT_FIELDS):
                self.changed_contacts[str(row.get("ID"))] = _strip(row)
            for row in self._stream(
                "terms", "sync/Cashflow/PaymentTerms", f"LineType,{TERM_FIELDS}"
            ):
                if row.get("LineType", RECEIVABLE) == RECEIVABLE:
                    self.changed_terms[str(row.get("ID"))] = _strip(row)
            for row in self._stream("deleted", "sync/Deleted", DELETED_FIELDS):
                if row.get("EntityType") == DELETED_TERM:
                    self.deleted_terms.add(str(row.get("EntityKey")))
            if self._check_due():
                self.open_now = {}
                params = {"$select": TERM_FIELDS, "$filter": "IsFullyPaid eq false"}
                for page in self.client.pages("bulk/Cashflow/Receivables", params):
                    for row in page:
                        self.open_now[str(row.get("ID"))] = _strip(row)
                self.cursor.checked = self.today.isoformat()
        except SourceLimitReached as limit:
            self.stopped = limit
            self.open_now = None

    def _check_due(self) -> bool:
        if self.first:
            self.cursor.checked = self.today.isoformat()
            return False  # the first sync read everything already
        try:
            last = date.fromisoformat(self.cursor.checked)
        except ValueError:
            return True
        return (self.today - last).days >= self.config.full_check_days

    # -- applying ------------------------------------------------------------------------------

    def records(self) -> Iterator[SyncRecord]:
        self.read()
        yield from self._debtor_updates()
        yield from self._invoice_updates()
        yield from self.problems
        if not self.stopped:
            self._prune()
        else:
            for account_id, account in self.changed_accounts.items():  # spare a fetch later
                self.cursor.accounts.setdefault(account_id, account)
            for contact_id, contact in self.changed_contacts.items():
                self.cursor.contacts.setdefault(contact_id, contact)
            yield SyncIncomplete(
                f"{self.stopped}; {len(self.changed_terms)} changed receivable(s) were read "
                "before it"
            )
        yield SyncCursor(self.cursor.dump())

    def _main_contact(self, account: dict[str, Any]) -> dict[str, Any] | None:
        """The account's ``MainContact``, else a contact of it marked ``IsMainContact``."""
        account_id = text(account, "ID")
        main = text(account, "MainContact")
        for pool in (self.changed_contacts, self.cursor.contacts):
            if main and main in pool:
                return pool[main]
        if self._mains is None:
            self._mains = {}
            for pool in (self.cursor.contacts, self.changed_contacts):
                for contact in pool.values():
                    if contact.get("IsMainContact"):
                        self._mains[text(contact, "Account")] = contact
        if account_id in self._mains:
            return self._mains[account_id]
        if main and not self.first:
            return self._fetch("crm/Contacts", main, CONTACT_FIELDS)
        return None

    def _fetch(self, path: str, guid: str, fields: str) -> dict[str, Any] | None:
        """One record by id (a standard endpoint); ``None`` when Exact has none, or when the
        daily limit stops the sync (:attr:`stopped`)."""
        if self.stopped is not None:
            return None
        params = {"$select": fields, "$filter": f"ID eq guid'{guid}'"}
        try:
            for page in self.client.pages(path, params):
                for row in page:
                    return _strip(row)
        except SourceLimitReached as limit:
            self.stopped = limit
        return None

    def _debtor(self, account_id: str) -> Iterator[SyncRecord]:
        """Yield the debtor of ``account_id`` (once per sync) and keep it in the cursor."""
        if account_id in self.given:
            return
        account = self.changed_accounts.get(account_id) or self.cursor.accounts.get(account_id)
        if account is None and not self.first:
            account = self._fetch("crm/Accounts", account_id, ACCOUNT_FIELDS)
        if account is None:
            if self.stopped is None:
                self.problems.append(
                    RowProblem(f"exact:{self.division}:account {account_id}", "is not in Exact")
                )
            return
        contact = self._main_contact(account)
        try:
            debtor = account_to_debtor(account, contact, self.config.consumers)
        except Unmappable as error:
            self.problems.append(
                RowProblem(
                    f"exact:{self.division}:account {account_id}", f"cannot be used: {error}"
                )
            )
            return
        self.given.add(account_id)
        self.cursor.accounts[account_id] = account
        if contact is not None:
            self.cursor.contacts[text(contact, "ID")] = contact
        yield debtor

    def _debtor_updates(self) -> Iterator[SyncRecord]:
        """Debtors whose account or main contact changed, of accounts the cursor follows."""
        touched = {a for a in self.changed_accounts if a in self.cursor.accounts}
        for contact in self.changed_contacts.values():
            account_id = text(contact, "Account")
            if account_id in self.cursor.accounts:
                touched.add(account_id)
        for account_id in sorted(touched):
            yield from self._debtor(account_id)

    def _invoice_updates(self) -> Iterator[SyncRecord]:
        term_entry = {
            term: entry for entry, tracked in self.cursor.invoices.items() for term in tracked.terms
        }
        rows = list(self.changed_terms.values())
        if self.open_now is not None:
            rows += [
                row
                for term, row in self.open_now.items()
                if term not in self.changed_terms and not self._as_tracked(term, row, term_entry)
            ]
        by_entry: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            entry = text(row, "TransactionEntryID") or text(row, "ID")
            by_entry.setdefault(entry, []).append(row)
        touched = set(by_entry) | set(self.cursor.todo)
        for term in self.deleted_terms:
            if term in term_entry:
                touched.add(term_entry[term])
        if self.open_now is not None:  # tracked invoices with a term Exact no longer has open
            for term, entry in term_entry.items():
                if term not in self.open_now and term not in self.changed_terms:
                    touched.add(entry)
        self.cursor.todo = []
        for entry in sorted(touched):
            yield from self._invoice(entry, by_entry.get(entry, []))

    def _as_tracked(self, term: str, row: dict[str, Any], term_entry: dict[str, str]) -> bool:
        """True when the full check's ``row`` says what the cursor already has of ``term``."""
        entry = term_entry.get(term)
        if entry is None:
            return False
        try:
            return self.cursor.invoices[entry].terms[term][0] == to_cents(money(row, "AmountFC"))
        except Unmappable:
            return False

    def _invoice(self, entry: str, rows: list[dict[str, Any]]) -> Iterator[SyncRecord]:
        tracked = self.cursor.invoices.get(entry)
        new = tracked is None or entry in self.cursor.todo_before
        place = f"exact:{self.division}:entry {entry}"
        try:
            if tracked is None:
                if not any(is_open(r) for r in rows):
                    return  # paid before we ever followed it: history
                tracked = self._track(rows[0])
            for row in rows:
                if is_open(row):
                    due = exact_date(row.get("DueDate")) or date.fromordinal(tracked.issue_day)
                    cents = to_cents(money(row, "AmountFC"))
                    tracked.terms[text(row, "ID")] = (cents, due.toordinal())
                    tracked.due_day = min(tracked.due_day or due.toordinal(), due.toordinal())
                else:
                    tracked.terms.pop(text(row, "ID"), None)
            for term in list(tracked.terms):
                if term in self.deleted_terms or (
                    self.open_now is not None
                    and term not in self.open_now
                    and term not in self.changed_terms
                ):
                    del tracked.terms[term]
        except Unmappable as error:
            number = text(rows[0], "InvoiceNumber") if rows else ""
            yield RowProblem(place, f"cannot be used: {error}", invoice_number=number or None)
            return
        if not tracked.number:
            yield from self._no_number(tracked, place)
            return
        if new or tracked.account in self.changed_accounts:
            yield from self._debtor(tracked.account)
            if tracked.account not in self.given:
                if tracked.terms:  # kept, and yielded once its debtor can be read
                    self.cursor.invoices[entry] = tracked
                    self.cursor.todo.append(entry)
                return
        paid_on = None
        if not tracked.terms:
            paid = [d for r in rows if (d := exact_date(r.get("LastPaymentDate")))]
            paid_on = max(paid, default=None)
        yield self._record(tracked, place, paid_on)
        if tracked.terms:
            self.cursor.invoices[entry] = tracked
        else:
            self.cursor.invoices.pop(entry, None)

    def _no_number(self, tracked: Tracked, place: str) -> Iterator[RowProblem]:
        """A receivable that is not an invoice: an unmatched receipt is worth a person's look."""
        if tracked.open_cents < 0:
            yield RowProblem(
                place,
                f"an unmatched receipt or credit of {from_cents(-tracked.open_cents)} "
                f"{tracked.currency} on account {tracked.account}: match it in Exact (the "
                "debtor may have paid an invoice that is still being chased)",
            )
        elif tracked.open_cents > 0:
            yield RowProblem(place, "is a receivable without an invoice number: not chased")

    def _track(self, row: dict[str, Any]) -> Tracked:
        account = text(row, "Account")
        if not account:
            raise Unmappable("the receivable has no Account")
        issue = exact_date(row.get("InvoiceDate")) or exact_date(row.get("DueDate"))
        if issue is None:
            raise Unmappable("the receivable has neither InvoiceDate nor DueDate")
        total = row.get("TransactionAmountFC")
        total_cents = to_cents(
            money(row, "TransactionAmountFC" if total is not None else "AmountFC")
        )
        return Tracked(
            number=text(row, "InvoiceNumber"),
            account=account,
            total_cents=total_cents,
            currency=text(row, "Currency") or "EUR",
            issue_day=issue.toordinal(),
            reference=text(row, "PaymentReference"),
            terms={},
            your_ref=text(row, "YourRef"),
        )

    def _record(self, tracked: Tracked, place: str, paid_on: date | None) -> Invoice:
        due_days = [due for _, due in tracked.terms.values()]
        due = date.fromordinal(min(due_days or [tracked.due_day or tracked.issue_day]))
        total = from_cents(tracked.total_cents)
        account = self.cursor.accounts.get(tracked.account) or self.changed_accounts.get(
            tracked.account, {}
        )
        return Invoice(
            number=tracked.number,
            debtor_id=debtor_id_of(account),
            issue_date=date.fromordinal(tracked.issue_day),
            due_date=due,
            amount_total=total,
            amount_open=from_cents(tracked.open_cents) if tracked.terms else Decimal(0),
            currency=tracked.currency,
            is_credit_note=total < 0,
            place=f"{place} (invoice {tracked.number})",
            paid_on=paid_on,
            payment_reference=tracked.reference or None,
            your_ref=tracked.your_ref or None,
        )

    def _prune(self) -> None:
        """Keep only the accounts with an open invoice, and their main contacts."""
        wanted = {t.account for t in self.cursor.invoices.values()}
        self.cursor.accounts = {k: v for k, v in self.cursor.accounts.items() if k in wanted}
        mains = {text(a, "MainContact") for a in self.cursor.accounts.values()}
        self.cursor.contacts = {
            k: v
            for k, v in self.cursor.contacts.items()
            if k in mains or text(v, "Account") in wanted
        }


def sync_exact(
    client: ExactClient, config: ExactConfig, cursor_text: str | None, today: date
) -> Iterator[SyncRecord]:
    """Yield what changed since ``cursor_text``, then the new cursor (see the module docstring)."""
    return ExactSync(client, config, cursor_text, today).records()
