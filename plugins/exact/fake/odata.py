"""OData v2 answer shapes (API-CONTRACTS.md 1.3, 1.8): the verbose JSON envelope when the request's
``Accept`` names ``application/json``, otherwise Atom XML, which is what trips a client that
forgets the header.

JSON: a collection is ``{"d":{"results":[...],"__next":url}}`` (``__next`` only when more rows
follow), a created entity ``{"d":{...}}``, an error ``{"error":{"code":"","message":{"lang":"",
"value":text}}}``. Atom: a ``<feed>`` of ``<entry>`` elements whose ``<m:properties>`` hold one
``<d:Field>`` per field, typed with ``m:type``; ``/Date(ms)/`` strings become ``Edm.DateTime``.
Errors without JSON in ``Accept`` are the OData XML ``<m:error>``.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from typing import Any

from werkzeug.wrappers import Request, Response

JSON_TYPE = "application/json; charset=utf-8"
ATOM = "http://www.w3.org/2005/Atom"
DATA = "http://schemas.microsoft.com/ado/2007/08/dataservices"
META = "http://schemas.microsoft.com/ado/2007/08/dataservices/metadata"
SCHEME = "http://schemas.microsoft.com/ado/2007/08/dataservices/scheme"
DATE = re.compile(r"^/Date\((-?\d+)\)/$")
INT32 = 2**31

ET.register_namespace("", ATOM)
ET.register_namespace("d", DATA)
ET.register_namespace("m", META)

Row = dict[str, Any]


def wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status=status, headers=headers, content_type=JSON_TYPE)


def collection(request: Request, title: str, rows: list[Row], next_url: str | None) -> Response:
    if wants_json(request):
        envelope: dict[str, Any] = {"results": rows}
        if next_url is not None:
            envelope["__next"] = next_url
        return json_response({"d": envelope})
    return _xml(_feed(request.base_url, title, rows, next_url), 200)


def created(request: Request, row: Row) -> Response:
    if wants_json(request):
        return json_response({"d": row}, 201)
    return _xml(_entry(row), 201)


def error(request: Request, status: int, message: str) -> Response:
    if wants_json(request):
        body = {"error": {"code": "", "message": {"lang": "", "value": message}}}
        return json_response(body, status)
    root = ET.Element(f"{{{META}}}error")
    ET.SubElement(root, f"{{{META}}}code")
    ET.SubElement(root, f"{{{META}}}message", {"xml:lang": ""}).text = message
    return _xml(root, status, "application/xml")


def _xml(root: ET.Element, status: int, kind: str = "application/atom+xml") -> Response:
    body = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return Response(body, status=status, content_type=f"{kind};charset=utf-8")


def _updated() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _feed(url: str, title: str, rows: list[Row], next_url: str | None) -> ET.Element:
    feed = ET.Element(f"{{{ATOM}}}feed", {"xml:base": url})
    ET.SubElement(feed, f"{{{ATOM}}}title", {"type": "text"}).text = title
    ET.SubElement(feed, f"{{{ATOM}}}id").text = url
    ET.SubElement(feed, f"{{{ATOM}}}updated").text = _updated()
    ET.SubElement(feed, f"{{{ATOM}}}link", {"rel": "self", "title": title, "href": title})
    for row in rows:
        feed.append(_entry(row))
    if next_url is not None:
        ET.SubElement(feed, f"{{{ATOM}}}link", {"rel": "next", "href": next_url})
    return feed


def _entry(row: Row) -> ET.Element:
    metadata = row.get("__metadata", {})
    entry = ET.Element(f"{{{ATOM}}}entry")
    ET.SubElement(entry, f"{{{ATOM}}}id").text = metadata.get("uri", "")
    ET.SubElement(entry, f"{{{ATOM}}}title", {"type": "text"})
    ET.SubElement(entry, f"{{{ATOM}}}updated").text = _updated()
    ET.SubElement(ET.SubElement(entry, f"{{{ATOM}}}author"), f"{{{ATOM}}}name")
    ET.SubElement(
        entry, f"{{{ATOM}}}category", {"term": metadata.get("type", ""), "scheme": SCHEME}
    )
    content = ET.SubElement(entry, f"{{{ATOM}}}content", {"type": "application/xml"})
    properties = ET.SubElement(content, f"{{{META}}}properties")
    for name, value in row.items():
        if name == "__metadata":
            continue
        if isinstance(value, dict) and isinstance(value.get("results"), list):
            link = ET.SubElement(
                entry,
                f"{{{ATOM}}}link",
                {"rel": f"{DATA}/related/{name}", "type": "application/atom+xml;type=feed"},
            )
            inline = ET.SubElement(link, f"{{{META}}}inline")
            inline.append(_feed(metadata.get("uri", ""), name, value["results"], None))
            continue
        _property(properties, name, value)
    return entry


def _property(parent: ET.Element, name: str, value: Any) -> None:
    element = ET.SubElement(parent, f"{{{DATA}}}{name}")
    if value is None:
        element.set(f"{{{META}}}null", "true")
    elif isinstance(value, bool):
        element.set(f"{{{META}}}type", "Edm.Boolean")
        element.text = "true" if value else "false"
    elif isinstance(value, int):
        element.set(f"{{{META}}}type", "Edm.Int32" if -INT32 <= value < INT32 else "Edm.Int64")
        element.text = str(value)
    elif isinstance(value, float):
        element.set(f"{{{META}}}type", "Edm.Double")
        element.text = repr(value)
    elif isinstance(value, str) and (moment := DATE.match(value)):
        element.set(f"{{{META}}}type", "Edm.DateTime")
        stamp = datetime.fromtimestamp(int(moment.group(1)) / 1000, UTC)
        element.text = stamp.strftime("%Y-%m-%dT%H:%M:%S")
    else:
        element.text = str(value)
