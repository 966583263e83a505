"""The writing endpoints (API-CONTRACTS.md 1.10): ``activities/CommunicationNotes``,
``activities/Tasks`` and ``financialtransaction/BankEntries``. Each validates the whole body
first (a 400 envelope changes nothing), then stores the entity and answers 201 with it.

Bank entry lines with an ``OurRef`` (an invoice number) and an ``Account`` are matched at once to
that invoice's open terms of that account by :func:`match_payment`. A positive ``AmountFC`` is
money received; that sign convention is our choice, not confirmed against Exact.
"""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Request, Response

from dunning.plugins.exact.fake import odata
from dunning.plugins.exact.fake.entities import bank_line_row
from dunning.plugins.exact.fake.handlers import record_uri
from dunning.plugins.exact.fake.models import BankLine
from dunning.plugins.exact.fake.payments import match_payment
from dunning.plugins.exact.fake.store import Division, ExactStore
from dunning.plugins.exact.fake.values import (
    InvalidValue,
    money,
    new_guid,
    odata_date,
    odata_moment,
    parse_guid,
    parse_write_date,
)


def _body(request: Request) -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InvalidValue("The request body is not a JSON object.")
    return body


def _text(body: dict[str, Any], name: str, *, required: bool = False) -> str | None:
    value = body.get(name)
    if value is None or value == "":
        if required:
            raise InvalidValue(f"{name}: Mandatory")
        return None
    if not isinstance(value, str):
        raise InvalidValue(f"{name}: '{value}' is not a string")
    return value


def _account(division: Division, body: dict[str, Any], *, required: bool) -> str | None:
    value = body.get("Account")
    if value is None:
        if required:
            raise InvalidValue("Account: Mandatory")
        return None
    account_id = parse_guid(value, "Account")
    if account_id not in division.accounts:
        raise InvalidValue(f"Account: '{value}' does not exist")
    return account_id


def _contact(division: Division, body: dict[str, Any]) -> str | None:
    value = body.get("Contact")
    if value is None:
        return None
    contact_id = parse_guid(value, "Contact")
    if contact_id not in division.contacts:
        raise InvalidValue(f"Contact: '{value}' does not exist")
    return contact_id


def _date(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    return None if value is None else odata_date(parse_write_date(value, name))


def _created(
    request: Request,
    division: Division,
    path: str,
    type_name: str,
    entity: dict[str, Any],
    kept: list[dict[str, Any]],
) -> Response:
    """Keep ``entity`` (with its division) in ``kept`` and answer 201 with it."""
    kept.append({**entity, "Division": division.number})
    uri = record_uri(request, division.number, path, f"guid'{entity['ID']}'")
    metadata = {"uri": uri, "type": f"Exact.Web.Api.Models.{type_name}"}
    return odata.created(request, {"__metadata": metadata, **entity})


def communication_note(store: ExactStore, request: Request, division: Division) -> Response:
    try:
        body = _body(request)
        entity = {
            "ID": new_guid(),
            "Account": _account(division, body, required=True),
            "Subject": _text(body, "Subject", required=True),
            "Notes": _text(body, "Notes"),
            "Date": _date(body, "Date"),
            "Contact": _contact(division, body),
            "Created": odata_moment(store.now()),
        }
    except InvalidValue as refused:
        return odata.error(request, 400, str(refused))
    return _created(
        request,
        division,
        "activities/CommunicationNotes",
        "CommunicationNote",
        entity,
        store.notes,
    )


def task(store: ExactStore, request: Request, division: Division) -> Response:
    try:
        body = _body(request)
        task_type = body.get("TaskType")
        if task_type is not None and (
            not isinstance(task_type, int) or isinstance(task_type, bool)
        ):
            raise InvalidValue(f"TaskType: '{task_type}' is not a number")
        user = body.get("User")
        entity = {
            "ID": new_guid(),
            "Account": _account(division, body, required=False),
            "Description": _text(body, "Description", required=True),
            "Notes": _text(body, "Notes"),
            "ActionDate": _date(body, "ActionDate"),
            "User": None if user is None else parse_guid(user, "User"),
            "TaskType": task_type,
            "Contact": _contact(division, body),
            "Status": 20,
            "Created": odata_moment(store.now()),
        }
    except InvalidValue as refused:
        return odata.error(request, 400, str(refused))
    return _created(request, division, "activities/Tasks", "Task", entity, store.tasks)


def _bank_line(division: Division, line: Any, entry_id: str) -> BankLine:
    if not isinstance(line, dict):
        raise InvalidValue("BankEntryLines: each line must be an object")
    amount = line.get("AmountFC")
    if not isinstance(amount, int | float) or isinstance(amount, bool):
        raise InvalidValue("AmountFC: Mandatory number")
    if line.get("Date") is None:
        raise InvalidValue("Date: Mandatory")
    our_ref = line.get("OurRef")
    if our_ref is not None and (not isinstance(our_ref, int) or isinstance(our_ref, bool)):
        raise InvalidValue(f"OurRef: '{our_ref}' is not a valid Int32")
    gl_account = line.get("GLAccount")
    return BankLine(
        id=new_guid(),
        entry_id=entry_id,
        amount_fc=money(amount),
        date=parse_write_date(line["Date"], "Date"),
        timestamp=0,
        account_id=_account(division, line, required=False),
        description=_text(line, "Description"),
        our_ref=our_ref,
        gl_account=None if gl_account is None else parse_guid(gl_account, "GLAccount"),
    )


def bank_entry(store: ExactStore, request: Request, division: Division) -> Response:
    entry_id = new_guid()
    try:
        body = _body(request)
        journal = _text(body, "JournalCode", required=True)
        lines_in = body.get("BankEntryLines")
        if not isinstance(lines_in, list) or not lines_in:
            raise InvalidValue("BankEntryLines: at least one line is required")
        lines = [_bank_line(division, line, entry_id) for line in lines_in]
    except InvalidValue as refused:
        return odata.error(request, 400, str(refused))
    now = store.now()
    for line in lines:
        line.timestamp = division.stamp()
        if line.our_ref is not None and line.account_id is not None:
            line.matched = match_payment(
                division, line.our_ref, line.amount_fc, line.date, entry_id, now, line.account_id
            )
        division.bank_lines.put(line)
    line_rows = []
    for line in lines:
        uri = record_uri(
            request, division.number, "financialtransaction/BankEntryLines", f"guid'{line.id}'"
        )
        meta = {"uri": uri, "type": "Exact.Web.Api.Models.BankEntryLine"}
        line_rows.append({"__metadata": meta, **bank_line_row(division, line)})
    entity = {
        "EntryID": entry_id,
        "EntryNumber": store.next_entry_number(),
        "JournalCode": journal,
        "BankEntryLines": {"results": line_rows},
        "Created": odata_moment(now),
    }
    store.bank_entries.append({**entity, "Division": division.number})
    uri = record_uri(
        request, division.number, "financialtransaction/BankEntries", f"guid'{entry_id}'"
    )
    metadata = {"uri": uri, "type": "Exact.Web.Api.Models.BankEntry"}
    return odata.created(request, {"__metadata": metadata, **entity})
