"""The WSGI app: every request passes the rate budget, the injected faults, the token check and the
administration check, in that order, before its handler runs; every answer carries the
``RateLimit-*`` headers and lands in the request log.

Choices where the contract is silent (API-CONTRACTS.md 2.7, marked [?] there):

- Every request counts against its token's budget, refused ones included; a request without a
  token counts against a shared ``anonymous`` budget.
- ``Retry-After`` is an epoch timestamp like ``RateLimit-Reset`` (what the spec describes);
  ``retry_after="delta"`` sends delta-seconds instead.
- Injected ``500`` answers a JSON error, ``503`` an HTML page (a proxy in front of the API does
  not speak JSON), ``malformed`` a 200 whose JSON is cut short. None of them runs the handler.
  A ``timeout`` runs the handler, so a write takes effect, and then sleeps before answering.
"""

from __future__ import annotations

import json
import math
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from dunning.plugins.moneybird.fake.handlers import DEPRECATED, ROUTES, Handler
from dunning.plugins.moneybird.fake.responses import json_response, not_found, symbolic_error
from dunning.plugins.moneybird.fake.store import MoneybirdStore, UnknownRecord
from dunning.plugins.moneybird.fake.traffic import Budget, Fault, FaultQueue, RateLimiter

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment


@dataclass(frozen=True)
class LoggedRequest:
    """One request as the fake saw it; ``endpoint`` is ``"POST sales_invoices/{id}/payments"``
    style, ``None`` when no route matched."""

    method: str
    path: str
    query: dict[str, str]
    json: Any
    endpoint: str | None
    status: int
    token: str | None


class MoneybirdApp:
    def __init__(
        self,
        store: MoneybirdStore,
        token: str,
        *,
        limit: int = 150,
        window_seconds: float = 300.0,
        time_scale: float = 1.0,
        retry_after: Literal["epoch", "delta"] = "epoch",
    ) -> None:
        self.store = store
        self.token = token
        self.tokens = {token}
        self.limiter = RateLimiter(limit, window_seconds, time_scale)
        self.retry_after = retry_after
        self.faults = FaultQueue()
        self.log: list[LoggedRequest] = []
        self.counts: Counter[str] = Counter()
        self.misuses: list[LoggedRequest] = []
        self._handlers: dict[str, Handler] = {}
        rules = []
        for path, method, name, handler in ROUTES:
            endpoint = f"{method} {name}"
            self._handlers[endpoint] = handler
            rules.append(Rule(path, methods=[method], endpoint=endpoint))
        self._routes = Map(rules)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        response, endpoint, sleep_seconds = self._answer(request)
        body = request.get_json(silent=True) if request.content_length else None
        entry = LoggedRequest(
            method=request.method,
            path=request.path,
            query=request.args.to_dict(),
            json=body,
            endpoint=endpoint,
            status=response.status_code,
            token=self._bearer(request),
        )
        with self.store.lock:
            self.log.append(entry)
            if endpoint:
                self.counts[endpoint] += 1
            if endpoint in DEPRECATED:
                self.misuses.append(entry)
        if sleep_seconds:
            time.sleep(sleep_seconds)
        return response(environ, start_response)

    @staticmethod
    def _bearer(request: Request) -> str | None:
        scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
        return credentials.strip() or None if scheme.lower() == "bearer" else None

    def _answer(self, request: Request) -> tuple[Response, str | None, float]:
        token = self._bearer(request)
        with self.store.lock:
            budget = self.limiter.spend(token or "anonymous")
            fault = self.faults.take() if budget.allowed else None
        if not budget.allowed:
            return self._too_many(budget), None, 0.0
        if fault is not None and fault.kind != "timeout":
            return self._fault_response(fault, budget), None, 0.0
        response, endpoint = self._dispatch(request, token)
        response.headers.update(budget.headers())
        return response, endpoint, fault.sleep_seconds if fault else 0.0

    def _dispatch(self, request: Request, token: str | None) -> tuple[Response, str | None]:
        adapter = self._routes.bind_to_environ(request.environ)
        try:
            endpoint, matched = adapter.match()
        except MethodNotAllowed:
            return symbolic_error(405, "Method not allowed", method="not_allowed"), None
        except NotFound:
            return not_found(), None
        except HTTPException as error:  # pragma: no cover - redirects werkzeug may raise
            return symbolic_error(error.code or 400, str(error), request="invalid"), None
        assert isinstance(endpoint, str)
        if token is None:
            return symbolic_error(401, "No access token provided", token="missing"), endpoint
        if token not in self.tokens:
            return symbolic_error(401, "Token is invalid or revoked", token="invalid"), endpoint
        args = dict(matched)
        administration = args.pop("administration_id", self.store.administration_id)
        if administration != self.store.administration_id:
            return not_found(), endpoint
        try:
            with self.store.lock:
                return self._handlers[endpoint](self.store, request, **args), endpoint
        except UnknownRecord:
            return not_found(), endpoint

    def _retry_after(self, reset_epoch: float) -> str:
        if self.retry_after == "delta":
            return str(max(1, math.ceil(reset_epoch - time.time())))
        return str(math.ceil(reset_epoch))

    def _too_many(self, budget: Budget) -> Response:
        response = json_response("Retry later", 429, budget.headers())
        response.headers["Retry-After"] = self._retry_after(budget.reset_epoch)
        return response

    def _fault_response(self, fault: Fault, budget: Budget) -> Response:
        if fault.kind == 429:
            reset = time.time() + fault.retry_after_seconds
            return self._too_many(Budget(False, budget.limit, 0, reset))
        if fault.kind == 503:
            response = Response(
                "<html><body><h1>503 Service Unavailable</h1></body></html>",
                status=503,
                content_type="text/html; charset=utf-8",
            )
        elif fault.kind == 500:
            response = json_response({"error": "Internal server error"}, 500)
        else:
            broken = json.dumps([{"id": "496081500075198125", "state": "open"}])[:-7]
            response = Response(broken, status=200, content_type="application/json")
        response.headers.update(budget.headers())
        return response
