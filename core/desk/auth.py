"""Who may use the desk, and which requests it trusts.

- With an access token, every request must carry it: ``Authorization: Bearer TOKEN``, or a
  cookie the desk set when the token came once as ``?token=TOKEN`` on a GET (it then redirects to
  the same address without it, so the token leaves the address bar and the history). Without
  it the answer is 401.
- Without a token the desk listens on the loopback only, and answers only to a loopback
  ``Host`` (so a web page that points its own name at 127.0.0.1 cannot read the desk).
- Every form carries a random token of this app in a hidden field; a POST without it is 403,
  so another site cannot make the browser record an outcome.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from collections.abc import Mapping
from urllib.parse import urlencode

from flask import Flask, Response, abort, redirect, request
from werkzeug.wrappers import Response as BaseResponse

from dunning.core.config import LoadedConfig
from dunning.core.config.interpolate import environment_for

TOKEN_ENV = "DUNNING_DESK_TOKEN"
TOKEN_PARAMETER = "token"
COOKIE = "dunning_desk"
CSRF_FIELD = "csrf_token"
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
"""Sent with every answer: no framing (the form cannot be clicked through another page), no
token or debtor data in referrers or caches."""


def desk_token(config: LoadedConfig) -> str | None:
    """The access token: ``$DUNNING_DESK_TOKEN`` (process environment, then ``.env`` next to
    the config) wins over ``desk.token``; blank counts as none."""
    token = environment_for(config.path).get(TOKEN_ENV) or config.root.desk.token or ""
    return token.strip() or None


def is_loopback(host: str) -> bool:
    """``localhost``, ``127.x.x.x`` or ``::1`` (brackets allowed): only this machine can reach
    it."""
    name = host.strip().lower().removeprefix("[").removesuffix("]")
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def host_name(host_header: str) -> str:
    """``Host`` header without its port: ``[::1]:8470`` -> ``[::1]``, ``localhost:80`` ->
    ``localhost``."""
    if host_header.startswith("["):
        return host_header[: host_header.find("]") + 1]
    return host_header.partition(":")[0]


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def _without_token(path: str, args: Mapping[str, list[str]]) -> str:
    kept = [(key, value) for key, values in args.items() for value in values]
    kept = [(key, value) for key, value in kept if key != TOKEN_PARAMETER]
    return f"{path}?{urlencode(kept)}" if kept else path


def protect(app: Flask, token: str | None) -> None:
    """Install the checks above on ``app``: the access token (when ``token`` is given, else
    the loopback ``Host`` rule), the CSRF token (``csrf_token`` in templates, checked on every
    POST) and the security headers."""
    csrf = secrets.token_urlsafe(32)
    cookie = (
        hmac.new(token.encode(), b"dunning desk cookie", hashlib.sha256).hexdigest()
        if token
        else None
    )

    @app.context_processor
    def _csrf() -> dict[str, str]:
        return {"csrf_field": CSRF_FIELD, "csrf_token": csrf}

    @app.before_request
    def _check() -> BaseResponse | None:
        if token is None or cookie is None:
            if not is_loopback(host_name(request.host)):
                abort(400, description="without a token the desk answers only to localhost")
        else:
            given = request.args.get(TOKEN_PARAMETER)
            if given is not None:
                if not _same(given, token) or request.method not in ("GET", "HEAD"):
                    abort(401)
                target = _without_token(request.path, request.args.to_dict(flat=False))
                answer = redirect(target, 303)
                answer.set_cookie(COOKIE, cookie, httponly=True, samesite="Strict")
                return answer
            scheme, _, bearer = request.headers.get("Authorization", "").partition(" ")
            if scheme.lower() == "bearer" and _same(bearer.strip(), token):
                pass
            elif not _same(request.cookies.get(COOKIE, ""), cookie):
                abort(401)
        if request.method == "POST" and not _same(request.form.get(CSRF_FIELD, ""), csrf):
            abort(403, description="the form is stale or came from another site; reload the page")
        return None

    @app.after_request
    def _headers(answer: Response) -> Response:
        for header, value in SECURITY_HEADERS.items():
            answer.headers.setdefault(header, value)
        if answer.status_code == 401:
            answer.headers["WWW-Authenticate"] = 'Bearer realm="dunning desk"'
        return answer
