"""The reading endpoints: every declared entity set (paged, ``$select``/``$filter``/``$top``) and
``current/Me``. Each handler runs under the store's lock; auth, rate limits, faults and the log
are the app's business.

Paging (API-CONTRACTS.md 1.3): 60 rows on standard sets, 1000 on bulk and sync sets. ``__next`` is
the absolute URL of this request with every original parameter and ``$skiptoken`` set to the key
of the last row sent; it is present only when a further matching row exists. With ``$top`` above
the page size, ``__next`` carries the ``$top`` still to go. A client that adds its parameters to
``__next`` again gets the first occurrence of each, which is what it sent the first time.
"""

from __future__ import annotations

from bisect import bisect_right
from typing import Any
from urllib.parse import quote

from werkzeug.wrappers import Request, Response

from dunning.plugins.exact.fake import odata
from dunning.plugins.exact.fake.entities import EntitySet, Row
from dunning.plugins.exact.fake.query import (
    QueryError,
    format_skiptoken,
    parse_filter,
    parse_select,
    parse_skiptoken,
    parse_top,
)
from dunning.plugins.exact.fake.store import Division, ExactStore
from dunning.plugins.exact.fake.values import odata_utc

SELECT_REQUIRED = "Please add a $select or a $top=1 statement to the query string."
ME_FIELDS = (
    "UserID", "UserName", "CurrentDivision", "FullName", "Email", "LanguageCode",
    "DivisionCustomer", "Legislation", "ServerTime",
)  # fmt: skip


def record_uri(request: Request, division: int, path: str, key: str) -> str:
    return f"{request.host_url}api/v1/{division}/{path}({key})"


def _next_url(request: Request, skiptoken: str, top_left: int | None) -> str:
    pairs = [
        (name, value)
        for name, value in request.args.items(multi=False)
        if name not in ("$skiptoken", "$top")
    ]
    if top_left is not None:
        pairs.append(("$top", str(top_left)))
    pairs.append(("$skiptoken", skiptoken))
    query = "&".join(f"{quote(k, safe='$')}={quote(v, safe=chr(39) + '$(),:')}" for k, v in pairs)
    return f"{request.base_url}?{query}"


def list_entities(
    store: ExactStore, request: Request, division: Division, entity: EntitySet
) -> Response:
    args = request.args
    try:
        top = parse_top(args.get("$top"))
        if entity.kind != "standard" and "$select" not in args and top != 1:
            raise QueryError(SELECT_REQUIRED)
        selected = parse_select(args.get("$select"), entity.fields, entity.full_type)
        wanted = parse_filter(args.get("$filter"), entity.kind == "sync", entity.filterable)
        after = parse_skiptoken(args.get("$skiptoken"), entity.order)
    except QueryError as refused:
        return odata.error(request, 400, str(refused))
    if wanted.timestamp_after is not None:
        after = wanted.timestamp_after if after is None else max(after, wanted.timestamp_after)
    records, keys = entity.table(division).ordered(entity.order)
    limit = entity.page_size if top is None else min(top, entity.page_size)
    page: list[Any] = []
    more = False
    include = entity.include
    for index in range(bisect_right(keys, after) if after is not None else 0, len(records)):
        record = records[index]
        if (include is None or include(record)) and wanted.matches(record):
            if len(page) == limit:
                more = True
                break
            page.append(record)
    if top is not None and top <= entity.page_size:
        more = False
    next_url = None
    if more and page:
        last = format_skiptoken(getattr(page[-1], entity.order), entity.order)
        next_url = _next_url(request, last, None if top is None else top - len(page))
    rows = [_row(request, division, entity, record, selected) for record in page]
    return odata.collection(request, entity.path.rsplit("/", 1)[-1], rows, next_url)


def _row(
    request: Request, division: Division, entity: EntitySet, record: Any, selected: tuple[str, ...]
) -> Row:
    full = entity.render(division, record)
    uri = record_uri(request, division.number, entity.path, entity.record_key(record))
    row: Row = {"__metadata": {"uri": uri, "type": entity.full_type}}
    for name in selected:
        row[name] = full[name]
    return row


def me(store: ExactStore, request: Request) -> Response:
    """``current/Me``: no division in the path; honours ``$select``."""
    try:
        selected = parse_select(request.args.get("$select"), ME_FIELDS, "Exact.Web.Api.Models.Me")
    except QueryError as refused:
        return odata.error(request, 400, str(refused))
    full: dict[str, Any] = {
        "UserID": store.user_id,
        "UserName": "boekhouding@voorbeeld.nl",
        "CurrentDivision": store.current,
        "FullName": "Fenna de Boekhouder",
        "Email": "boekhouding@voorbeeld.nl",
        "LanguageCode": "nl-NL",
        "DivisionCustomer": store.division_customer,
        "Legislation": 1,
        "ServerTime": odata_utc(store.now()),
    }
    uri = f"{request.host_url}api/v1/current/Me(guid'{store.user_id}')"
    row: Row = {"__metadata": {"uri": uri, "type": "Exact.Web.Api.Models.Me"}}
    row.update((name, full[name]) for name in selected)
    return odata.collection(request, "Me", [row], None)
