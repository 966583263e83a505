"""The endpoints, one function each; :data:`ROUTES` maps Moneybird's ``.json`` paths onto them.

Each handler runs under the store's lock and gets the store, the request and the path values.
Authentication, the rate limit, faults and the request log are the app's business, not theirs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any
from urllib.parse import urlencode

from werkzeug.wrappers import Request, Response

from dunning.plugins.moneybird.fake.filters import FilterError, parse_filter
from dunning.plugins.moneybird.fake.models import (
    JSON,
    contact_json,
    invoice_json,
    note_json,
    payment_json,
)
from dunning.plugins.moneybird.fake.payments import payment_fields
from dunning.plugins.moneybird.fake.responses import (
    field_errors,
    json_response,
    no_content,
    not_found,
    symbolic_error,
)
from dunning.plugins.moneybird.fake.store import MoneybirdStore, UnknownRecord
from dunning.plugins.moneybird.fake.values import parse_identifier

Handler = Callable[..., Response]
DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 100
MAX_SYNC_IDS = 100
PDF_BYTES = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def _public_base(request: Request) -> str:
    return request.host_url.rstrip("/")


def _invoice_body(store: MoneybirdStore, request: Request, invoice_id: Any) -> JSON:
    invoice = store.invoice(invoice_id)
    contact = store.contacts[invoice.contact_id]
    return invoice_json(invoice, contact, store.administration_id, _public_base(request))


def _paged(
    request: Request, items: Sequence[Any]
) -> tuple[Sequence[Any], dict[str, str]] | Response:
    """One page of ``items`` and its ``Link`` header, or a 400 for a bad ``page``/``per_page``."""
    try:
        page = int(request.args.get("page", "1"))
        per_page = int(request.args.get("per_page", str(DEFAULT_PER_PAGE)))
    except ValueError:
        return symbolic_error(400, "Page and per page must be integers", page="invalid")
    if page < 1:
        return symbolic_error(400, "Page must be greater than 0", page="invalid")
    if not 1 <= per_page <= MAX_PER_PAGE:
        return symbolic_error(
            400, f"Per page must be between 1 and {MAX_PER_PAGE}", per_page="invalid"
        )
    start = (page - 1) * per_page
    links = []

    def link(to_page: int, rel: str) -> str:
        query = {**request.args.to_dict(), "page": str(to_page), "per_page": str(per_page)}
        return f'<{request.base_url}?{urlencode(query)}>; rel="{rel}"'

    if page > 1:
        links.append(link(page - 1, "prev"))
    if start + per_page < len(items):
        links.append(link(page + 1, "next"))
    return items[start : start + per_page], ({"Link": ", ".join(links)} if links else {})


def _sync_ids(request: Request) -> list[str] | Response:
    body = request.get_json(silent=True)
    ids = body.get("ids") if isinstance(body, dict) else None
    if not isinstance(ids, list):
        return symbolic_error(400, "Ids is required", ids="required")
    if len(ids) > MAX_SYNC_IDS:
        return symbolic_error(400, f"Ids can contain at most {MAX_SYNC_IDS} items", ids="too_long")
    return [key for key in (parse_identifier(value) for value in ids) if key is not None]


def administrations(store: MoneybirdStore, request: Request) -> Response:
    return json_response(
        [
            {
                "id": store.administration_id,
                "name": "Voorbeeld B.V.",
                "language": "nl",
                "currency": "EUR",
                "country": "NL",
                "time_zone": "Europe/Amsterdam",
                "access": "user",
                "suspended": False,
                "period_locked_until": None,
                "period_start_date": date(store.today.year, 1, 1).isoformat(),
            }
        ]
    )


def list_contacts(store: MoneybirdStore, request: Request) -> Response:
    query = request.args.get("query", "").lower()
    contacts = [
        c
        for c in store.contacts.values()
        if query in f"{c.company_name} {c.firstname} {c.lastname} {c.email}".lower()
    ]
    paged = _paged(request, contacts)
    if isinstance(paged, Response):
        return paged
    page, headers = paged
    return json_response([contact_json(c, store.administration_id) for c in page], headers=headers)


def get_contact(store: MoneybirdStore, request: Request, contact_id: str) -> Response:
    return json_response(contact_json(store.contact(contact_id), store.administration_id))


def contact_versions(store: MoneybirdStore, request: Request) -> Response:
    return json_response([{"id": c.id, "version": c.version} for c in store.contacts.values()])


def contacts_by_ids(store: MoneybirdStore, request: Request) -> Response:
    ids = _sync_ids(request)
    if isinstance(ids, Response):
        return ids
    found = [store.contacts[key] for key in ids if key in store.contacts]
    return json_response([contact_json(c, store.administration_id) for c in found])


def _filtered_invoices(store: MoneybirdStore, request: Request) -> list[Any] | Response:
    try:
        wanted = parse_filter(request.args.get("filter"), store.today)
    except FilterError as error:
        return symbolic_error(400, str(error), filter="invalid")
    return [invoice for invoice in store.invoices.values() if wanted.matches(invoice)]


def list_invoices(store: MoneybirdStore, request: Request) -> Response:
    invoices = _filtered_invoices(store, request)
    if isinstance(invoices, Response):
        return invoices
    paged = _paged(request, invoices)
    if isinstance(paged, Response):
        return paged
    page, headers = paged
    return json_response([_invoice_body(store, request, i.id) for i in page], headers=headers)


def get_invoice(store: MoneybirdStore, request: Request, invoice_id: str) -> Response:
    return json_response(_invoice_body(store, request, invoice_id))


def invoice_versions(store: MoneybirdStore, request: Request) -> Response:
    invoices = _filtered_invoices(store, request)
    if isinstance(invoices, Response):
        return invoices
    return json_response([{"id": i.id, "version": i.version} for i in invoices])


def invoices_by_ids(store: MoneybirdStore, request: Request) -> Response:
    ids = _sync_ids(request)
    if isinstance(ids, Response):
        return ids
    return json_response(
        [_invoice_body(store, request, key) for key in ids if key in store.invoices]
    )


def find_by_invoice_id(store: MoneybirdStore, request: Request, number: str) -> Response:
    found = next((i for i in store.invoices.values() if i.invoice_id == number), None)
    return json_response(_invoice_body(store, request, found.id)) if found else not_found()


def find_by_reference(store: MoneybirdStore, request: Request, reference: str) -> Response:
    found = next((i for i in store.invoices.values() if i.reference == reference), None)
    return json_response(_invoice_body(store, request, found.id)) if found else not_found()


def create_payment(store: MoneybirdStore, request: Request, invoice_id: str) -> Response:
    invoice = store.invoice(invoice_id)
    values = payment_fields(request.get_json(silent=True))
    if isinstance(values, Response):
        return values
    if invoice.state == "draft":
        return field_errors({"sales_invoice": ["is invalid"]})
    payment = store.register_payment(invoice, **values)
    return json_response(payment_json(payment, store.administration_id), 201)


def delete_payment(
    store: MoneybirdStore, request: Request, invoice_id: str, payment_id: str
) -> Response:
    store.delete_payment(store.invoice(invoice_id), payment_id)
    return no_content()


def register_payment_deprecated(
    store: MoneybirdStore, request: Request, invoice_id: str
) -> Response:
    """The deprecated ``PATCH register_payment.json``: it still works, the app logs a misuse."""
    invoice = store.invoice(invoice_id)
    values = payment_fields(request.get_json(silent=True))
    if isinstance(values, Response):
        return values
    store.register_payment(invoice, **values)
    return json_response(_invoice_body(store, request, invoice.id))


def create_note(store: MoneybirdStore, request: Request, invoice_id: str) -> Response:
    invoice = store.invoice(invoice_id)
    body = request.get_json(silent=True)
    note = body.get("note") if isinstance(body, dict) else None
    if not isinstance(note, dict):
        return symbolic_error(400, "Note is required", note="required")
    if not str(note.get("note") or "").strip():
        return field_errors({"note": ["can't be blank"]})
    created = store.add_note(
        invoice,
        str(note["note"]),
        note.get("todo") in (True, "true", "1", 1),
        parse_identifier(note.get("assignee_id")),
    )
    return json_response(note_json(created, store.administration_id), 201)


def pause(store: MoneybirdStore, request: Request, invoice_id: str) -> Response:
    store.set_paused(store.invoice(invoice_id), True)
    return no_content()


def resume(store: MoneybirdStore, request: Request, invoice_id: str) -> Response:
    store.set_paused(store.invoice(invoice_id), False)
    return no_content()


def download_pdf(store: MoneybirdStore, request: Request, invoice_id: str) -> Response:
    invoice = store.invoice(invoice_id)
    return Response(
        PDF_BYTES,
        content_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{invoice.invoice_id}.pdf"'},
    )


ADMIN = "/api/v2/<administration_id>"
INVOICE = f"{ADMIN}/sales_invoices/<invoice_id>"
ROUTES: list[tuple[str, str, str, Handler]] = [
    ("/api/v2/administrations.json", "GET", "administrations", administrations),
    (f"{ADMIN}/contacts.json", "GET", "contacts", list_contacts),
    (f"{ADMIN}/contacts/synchronization.json", "GET", "contacts/synchronization", contact_versions),
    (f"{ADMIN}/contacts/synchronization.json", "POST", "contacts/synchronization", contacts_by_ids),
    (f"{ADMIN}/contacts/<contact_id>.json", "GET", "contacts/{id}", get_contact),
    (f"{ADMIN}/sales_invoices.json", "GET", "sales_invoices", list_invoices),
    (
        f"{ADMIN}/sales_invoices/synchronization.json",
        "GET",
        "sales_invoices/synchronization",
        invoice_versions,
    ),
    (
        f"{ADMIN}/sales_invoices/synchronization.json",
        "POST",
        "sales_invoices/synchronization",
        invoices_by_ids,
    ),
    (
        f"{ADMIN}/sales_invoices/find_by_invoice_id/<number>.json",
        "GET",
        "sales_invoices/find_by_invoice_id",
        find_by_invoice_id,
    ),
    (
        f"{ADMIN}/sales_invoices/find_by_reference/<reference>.json",
        "GET",
        "sales_invoices/find_by_reference",
        find_by_reference,
    ),
    (f"{INVOICE}.json", "GET", "sales_invoices/{id}", get_invoice),
    (f"{INVOICE}/payments.json", "POST", "sales_invoices/{id}/payments", create_payment),
    (
        f"{INVOICE}/payments/<payment_id>.json",
        "DELETE",
        "sales_invoices/{id}/payments/{id}",
        delete_payment,
    ),
    (
        f"{INVOICE}/register_payment.json",
        "PATCH",
        "sales_invoices/{id}/register_payment",
        register_payment_deprecated,
    ),
    (f"{INVOICE}/notes.json", "POST", "sales_invoices/{id}/notes", create_note),
    (f"{INVOICE}/pause.json", "POST", "sales_invoices/{id}/pause", pause),
    (f"{INVOICE}/resume.json", "POST", "sales_invoices/{id}/resume", resume),
    (f"{INVOICE}/download_pdf.json", "GET", "sales_invoices/{id}/download_pdf", download_pdf),
]
DEPRECATED = frozenset({"PATCH sales_invoices/{id}/register_payment"})
__all__ = ["DEPRECATED", "ROUTES", "UnknownRecord"]
