"""The entity sets the fake serves, declared: path, OData type, kind (which decides the page size
and whether ``$select`` is required), fields, row order and which fields ``$filter`` may name.

Row order: sync sets ascend by ``Timestamp`` (skiptoken ``123L``); bulk and standard sets by
``ID`` as a lower-case string (skiptoken ``guid'...'``), ``ReceivablesList`` by ``HID`` (skiptoken
the integer; it has no ``ID``). Amounts go out as JSON doubles, date-only fields as midnight-UTC
``/Date(ms)/``, ``Modified`` as Amsterdam wall-clock ``/Date(ms)/``, absent values as ``null``.
``EntityType`` codes in ``sync/Deleted`` (10 payment term, 2 account, 5 contact) are our choice,
not confirmed against Exact.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from dunning.plugins.exact.fake.models import RECEIVABLE, Account, BankLine, Contact, Deleted, Term
from dunning.plugins.exact.fake.query import Filterable, format_skiptoken
from dunning.plugins.exact.fake.store import Division
from dunning.plugins.exact.fake.table import Table
from dunning.plugins.exact.fake.values import odata_date, odata_moment

Kind = Literal["standard", "bulk", "sync"]
Row = dict[str, Any]
PAGE_SIZES: dict[Kind, int] = {"standard": 60, "bulk": 1000, "sync": 1000}

ACCOUNT_FIELDS = (
    "ID", "Code", "Name", "Email", "Phone", "Language", "MainContact", "Blocked", "Status",
    "ChamberOfCommerce", "VATNumber", "AddressLine1", "Postcode", "City", "Country", "Modified",
)  # fmt: skip
CONTACT_FIELDS = (
    "ID", "Account", "FirstName", "LastName", "FullName", "Email", "BusinessEmail", "Phone",
    "Mobile", "BusinessMobile", "IsMainContact", "Modified",
)  # fmt: skip
TERM_FIELDS = (
    "ID", "Account", "AccountCode", "AccountName", "AccountContact", "AmountDC", "AmountFC",
    "TransactionAmountDC", "TransactionAmountFC", "Currency", "Description", "DueDate",
    "InvoiceDate", "InvoiceNumber", "EntryNumber", "EntryID", "TransactionEntryID", "IsFullyPaid",
    "LastPaymentDate", "PaymentReference", "Status", "YourRef", "LineType", "Modified",
)  # fmt: skip
RECEIVABLES_LIST_FIELDS = (
    "HID", "AccountId", "AccountCode", "AccountName", "Amount", "AmountInTransit", "CurrencyCode",
    "Description", "DueDate", "EntryNumber", "InvoiceDate", "InvoiceNumber", "JournalCode",
    "JournalDescription", "Notes", "YourRef",
)  # fmt: skip
DELETED_FIELDS = ("EntityKey", "EntityType", "Timestamp", "DeletedDate")
BANK_LINE_FIELDS = (
    "ID", "EntryID", "Account", "AmountFC", "Date", "Description", "OurRef", "GLAccount",
)  # fmt: skip


def account_row(division: Division, account: Account) -> Row:
    return {
        "ID": account.id,
        "Code": account.code,
        "Name": account.name,
        "Email": account.email,
        "Phone": account.phone,
        "Language": account.language,
        "MainContact": account.main_contact,
        "Blocked": account.blocked,
        "Status": account.status,
        "ChamberOfCommerce": account.chamber_of_commerce,
        "VATNumber": account.vat_number,
        "AddressLine1": account.address_line1,
        "Postcode": account.postcode,
        "City": account.city,
        "Country": account.country,
        "Modified": odata_moment(account.modified),
        "Timestamp": account.timestamp,
    }


def contact_row(division: Division, contact: Contact) -> Row:
    return {
        "ID": contact.id,
        "Account": contact.account_id,
        "FirstName": contact.first_name,
        "LastName": contact.last_name,
        "FullName": contact.full_name,
        "Email": contact.email,
        "BusinessEmail": contact.business_email,
        "Phone": contact.phone,
        "Mobile": contact.mobile,
        "BusinessMobile": contact.business_mobile,
        "IsMainContact": contact.is_main,
        "Modified": odata_moment(contact.modified),
        "Timestamp": contact.timestamp,
    }


def term_row(division: Division, term: Term) -> Row:
    account = division.accounts.get(term.account_id)
    amount, total = float(term.amount_dc), float(term.transaction_amount_dc)
    return {
        "ID": term.id,
        "Account": term.account_id,
        "AccountCode": account.code if account else None,
        "AccountName": account.name if account else None,
        "AccountContact": account.main_contact if account else None,
        "AmountDC": amount,
        "AmountFC": amount,
        "TransactionAmountDC": total,
        "TransactionAmountFC": total,
        "Currency": term.currency,
        "Description": term.description,
        "DueDate": odata_date(term.due_date),
        "InvoiceDate": odata_date(term.invoice_date),
        "InvoiceNumber": term.invoice_number or None,  # 0: not an invoice (a receipt)
        "EntryNumber": term.invoice_number,
        "EntryID": term.entry_id,
        "TransactionEntryID": term.transaction_entry_id,
        "IsFullyPaid": term.is_fully_paid,
        "LastPaymentDate": odata_date(term.last_payment_date),
        "PaymentReference": term.payment_reference,
        "Status": term.status,
        "YourRef": term.your_ref,
        "LineType": term.line_type,
        "Modified": odata_moment(term.modified),
        "Timestamp": term.timestamp,
    }


def receivables_list_row(division: Division, term: Term) -> Row:
    account = division.accounts.get(term.account_id)
    return {
        "HID": term.hid,
        "AccountId": term.account_id,
        "AccountCode": account.code if account else None,
        "AccountName": account.name if account else None,
        "Amount": float(term.amount_dc),
        "AmountInTransit": 0.0,
        "CurrencyCode": term.currency,
        "Description": term.description,
        "DueDate": odata_date(term.due_date),
        "EntryNumber": term.invoice_number,
        "InvoiceDate": odata_date(term.invoice_date),
        "InvoiceNumber": term.invoice_number,
        "JournalCode": term.journal_code,
        "JournalDescription": "Verkoopboek",
        "Notes": None,
        "YourRef": term.your_ref,
    }


def deleted_row(division: Division, deleted: Deleted) -> Row:
    return {
        "EntityKey": deleted.id,
        "EntityType": deleted.entity_type,
        "Timestamp": deleted.timestamp,
        "DeletedDate": odata_moment(deleted.deleted),
    }


def bank_line_row(division: Division, line: BankLine) -> Row:
    return {
        "ID": line.id,
        "EntryID": line.entry_id,
        "Account": line.account_id,
        "AmountFC": float(line.amount_fc),
        "Date": odata_date(line.date),
        "Description": line.description,
        "OurRef": line.our_ref,
        "GLAccount": line.gl_account,
    }


@dataclass(frozen=True)
class EntitySet:
    path: str
    type_name: str
    kind: Kind
    fields: tuple[str, ...]
    table: Callable[[Division], Table[Any]]
    render: Callable[[Division, Any], Row]
    order: Literal["timestamp", "id", "hid"]
    include: Callable[[Any], bool] | None = None
    filterable: Mapping[str, Filterable] = field(default_factory=dict)

    @property
    def page_size(self) -> int:
        return PAGE_SIZES[self.kind]

    @property
    def full_type(self) -> str:
        return f"Exact.Web.Api.Models.{self.type_name}"

    def record_key(self, record: Any) -> str:
        return format_skiptoken(getattr(record, self.order), self.order)


def _is_receivable(term: Term) -> bool:
    return term.line_type == RECEIVABLE


def _is_open_receivable(term: Term) -> bool:
    return term.line_type == RECEIVABLE and term.is_open


def _by_id(record: Any) -> Any:
    return record.id


ID = Filterable("guid", _by_id)
ACCOUNT_FILTERS = {
    "ID": ID,
    "Code": Filterable("str", lambda a: a.code),
    "Blocked": Filterable("bool", lambda a: a.blocked),
}
CONTACT_FILTERS = {"ID": ID, "Account": Filterable("guid", lambda c: c.account_id)}
TERM_FILTERS = {
    "ID": ID,
    "Account": Filterable("guid", lambda t: t.account_id),
    "IsFullyPaid": Filterable("bool", lambda t: t.is_fully_paid),
    "InvoiceNumber": Filterable("int", lambda t: t.invoice_number),
}
LIST_FILTERS = {
    "AccountId": Filterable("guid", lambda t: t.account_id),
    "InvoiceNumber": Filterable("int", lambda t: t.invoice_number),
}
BANK_LINE_FILTERS = {
    "ID": ID,
    "Account": Filterable("guid", lambda b: b.account_id),
    "OurRef": Filterable("int", lambda b: b.our_ref),
    "Description": Filterable("str", lambda b: b.description),
}


def _accounts(division: Division) -> Table[Any]:
    return division.accounts


def _contacts(division: Division) -> Table[Any]:
    return division.contacts


def _terms(division: Division) -> Table[Any]:
    return division.terms


def _deleted(division: Division) -> Table[Any]:
    return division.deleted


def _bank_lines(division: Division) -> Table[Any]:
    return division.bank_lines


SYNC_ACCOUNT = (*ACCOUNT_FIELDS, "Timestamp")
SYNC_CONTACT = (*CONTACT_FIELDS, "Timestamp")
SYNC_TERM = (*TERM_FIELDS, "Timestamp")

ENTITY_SETS: tuple[EntitySet, ...] = (
    EntitySet("crm/Accounts", "Account", "standard", ACCOUNT_FIELDS, _accounts, account_row,
              "id", filterable=ACCOUNT_FILTERS),
    EntitySet("bulk/CRM/Accounts", "Account", "bulk", ACCOUNT_FIELDS, _accounts, account_row,
              "id", filterable=ACCOUNT_FILTERS),
    EntitySet("sync/CRM/Accounts", "Account", "sync", SYNC_ACCOUNT, _accounts, account_row,
              "timestamp"),
    EntitySet("crm/Contacts", "Contact", "standard", CONTACT_FIELDS, _contacts, contact_row,
              "id", filterable=CONTACT_FILTERS),
    EntitySet("bulk/CRM/Contacts", "Contact", "bulk", CONTACT_FIELDS, _contacts, contact_row,
              "id", filterable=CONTACT_FILTERS),
    EntitySet("sync/CRM/Contacts", "Contact", "sync", SYNC_CONTACT, _contacts, contact_row,
              "timestamp"),
    EntitySet("cashflow/Receivables", "Receivable", "standard", TERM_FIELDS, _terms, term_row,
              "id", _is_receivable, TERM_FILTERS),
    EntitySet("bulk/Cashflow/Receivables", "Receivable", "bulk", TERM_FIELDS, _terms, term_row,
              "id", _is_receivable, TERM_FILTERS),
    EntitySet("sync/Cashflow/PaymentTerms", "PaymentTerm", "sync", SYNC_TERM, _terms, term_row,
              "timestamp"),
    EntitySet("read/financial/ReceivablesList", "ReceivablesList", "standard",
              RECEIVABLES_LIST_FIELDS, _terms, receivables_list_row, "hid", _is_open_receivable,
              LIST_FILTERS),
    EntitySet("sync/Deleted", "Deleted", "sync", DELETED_FIELDS, _deleted, deleted_row,
              "timestamp"),
    EntitySet("financialtransaction/BankEntryLines", "BankEntryLine", "standard",
              BANK_LINE_FIELDS, _bank_lines, bank_line_row, "id", filterable=BANK_LINE_FILTERS),
)  # fmt: skip
