"""Moneybird's answer shapes: JSON bodies, ``symbolic`` errors, field errors with ``details``."""

from __future__ import annotations

import json
from typing import Any

from werkzeug.wrappers import Response

JSON_TYPE = "application/json; charset=utf-8"


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status=status, headers=headers, content_type=JSON_TYPE)


def symbolic_error(status: int, message: str, **symbolic: str) -> Response:
    """``{"error": "...", "symbolic": {...}}``: 400, 401, 403, 404 and some 422s."""
    return json_response({"error": message, "symbolic": symbolic}, status)


def not_found() -> Response:
    return symbolic_error(404, "record not found", id="not_found")


DETAIL_CODES = {
    "can't be blank": "blank",
    "is not a number": "not_a_number",
    "is invalid": "invalid",
    "is not included in the list": "inclusion",
}


def field_errors(errors: dict[str, list[str]]) -> Response:
    """422 ``{"error": {"field": ["msg"]}, "details": {"field": [{"error": "blank"}]}}``."""
    details = {
        name: [{"error": DETAIL_CODES.get(message, "invalid")} for message in messages]
        for name, messages in errors.items()
    }
    return json_response({"error": errors, "details": details}, 422)


def no_content() -> Response:
    return Response(status=204)
