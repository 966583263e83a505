"""``/api/oauth2/auth`` and ``/api/oauth2/token``: the authorization-code grant with refresh-token
rotation (API-CONTRACTS.md 1.1, 1.2). The auth page approves at once. The token endpoint reads a
form body only (a JSON body has no ``grant_type``), always answers JSON, and is not rate limited.
Unknown client on the auth page: 400 HTML; wrong client on the token endpoint: 401
``invalid_client``; a ``redirect_uri`` that differs from the registered one: 400 ``invalid_grant``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from html import escape
from typing import Any
from urllib.parse import quote

from werkzeug.wrappers import Request, Response

from dunning.plugins.exact.fake.tokens import ACCESS_SECONDS, TokenRefused, TokenState


@dataclass(frozen=True)
class Client:
    client_id: str
    client_secret: str
    redirect_uri: str


def _html(status: int, message: str) -> Response:
    page = f"<html><head><title>Exact Online</title></head><body><p>{escape(message)}</p></body>"
    page += "</html>"
    return Response(page, status=status, content_type="text/html; charset=utf-8")


def _oauth_json(
    status: int, body: dict[str, str], headers: dict[str, str] | None = None
) -> Response:
    response = Response(json.dumps(body), status=status, content_type="application/json")
    response.headers["Cache-Control"] = "no-store"
    response.headers.update(headers or {})
    return response


def authorize(client: Client, tokens: TokenState, now: float, request: Request) -> Response:
    args = request.args
    if args.get("client_id") != client.client_id:
        return _html(400, "The client_id is unknown.")
    if args.get("redirect_uri") != client.redirect_uri:
        return _html(400, "The redirect_uri does not match the registered one.")
    if args.get("response_type") != "code":
        return _html(400, "response_type must be 'code'.")
    location = f"{client.redirect_uri}{'&' if '?' in client.redirect_uri else '?'}"
    location += f"code={quote(tokens.new_code(now), safe='')}"
    if "state" in args:
        location += f"&state={quote(args['state'], safe='')}"
    return Response("", status=302, headers={"Location": location})


def token(
    client: Client,
    tokens: TokenState,
    now: float,
    request: Request,
    record: Callable[[dict[str, Any]], None],
) -> Response:
    """Answer one token request and ``record`` its form with the status answered."""
    form = request.form.to_dict()
    try:
        pair = _grant(client, tokens, now, form)
    except TokenRefused as refused:
        record({**form, "status": refused.status})
        body = {"error": refused.error, "error_description": refused.description}
        return _oauth_json(refused.status, body, refused.headers)
    record({**form, "status": 200})
    access, refresh = pair
    return _oauth_json(
        200,
        {
            "access_token": access,
            "token_type": "bearer",
            "expires_in": str(int(ACCESS_SECONDS)),
            "refresh_token": refresh,
        },
    )


def _grant(client: Client, tokens: TokenState, now: float, form: dict[str, str]) -> tuple[str, str]:
    grant_type = form.get("grant_type")
    if grant_type not in ("authorization_code", "refresh_token"):
        raise TokenRefused(
            400, "unsupported_grant_type", "The grant_type is missing or unsupported."
        )
    if (
        form.get("client_id") != client.client_id
        or form.get("client_secret") != client.client_secret
    ):
        raise TokenRefused(401, "invalid_client", "The client credentials are invalid.")
    if grant_type == "refresh_token":
        if not form.get("refresh_token"):
            raise TokenRefused(400, "invalid_request", "The refresh_token is missing.")
        return tokens.use_refresh_token(form["refresh_token"], now)
    if not form.get("code"):
        raise TokenRefused(400, "invalid_request", "The code is missing.")
    if form.get("redirect_uri") != client.redirect_uri:
        raise TokenRefused(400, "invalid_grant", "The redirect_uri does not match.")
    return tokens.exchange_code(form["code"], now)
