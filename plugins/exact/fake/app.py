"""The WSGI app. OAuth requests go straight to ``oauth.py`` (no rate limit, no faults). Every API
call passes, in order: the rate limit of its division (``current/Me`` counts against the current
one), an injected fault, the bearer token, the division check, and then its handler under the
store's lock. Every API answer carries the rate-limit headers; every request lands in the log.

Choices where the contract is silent:

- A 401 has an empty body and ``WWW-Authenticate: Bearer error="invalid_token"``, with
  ``error_description="access token expired"`` when the token is known but too old.
- Injected ``500`` answers the JSON error envelope, ``503`` an HTML page (a proxy does not speak
  OData), ``429`` a minutely refusal whose reset is 1 s ahead, ``malformed`` a 200 whose JSON is
  cut short; none of these runs the handler. ``timeout`` runs it (a write takes effect) and then
  sleeps before answering.
- Paths after the division are matched case-insensitively, as Exact does; the log names the
  endpoint in its documented spelling.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from dunning.plugins.exact.fake import handlers, oauth, odata, writes
from dunning.plugins.exact.fake.entities import ENTITY_SETS, EntitySet
from dunning.plugins.exact.fake.store import Division, ExactStore
from dunning.plugins.exact.fake.tokens import TokenState
from dunning.plugins.exact.fake.traffic import Budget, Fault, FaultQueue, RateLimiter

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

Writer = Callable[[ExactStore, Request, Division], Response]
READS: dict[str, EntitySet] = {entity.path.lower(): entity for entity in ENTITY_SETS}
WRITES: dict[str, tuple[str, Writer]] = {
    "activities/communicationnotes": ("activities/CommunicationNotes", writes.communication_note),
    "activities/tasks": ("activities/Tasks", writes.task),
    "financialtransaction/bankentries": ("financialtransaction/BankEntries", writes.bank_entry),
}
API_PREFIX = "/api/v1/"
RATE_LIMITED = "API rate limit exceeded"


@dataclass(frozen=True)
class LoggedRequest:
    """One request as the fake saw it; ``endpoint`` is ``"GET sync/Cashflow/PaymentTerms"``,
    ``"POST activities/Tasks"``, ``"POST oauth2/token"`` style, ``None`` when nothing matched."""

    method: str
    path: str
    query: dict[str, str]
    json: Any
    endpoint: str | None
    status: int
    token: str | None
    accept: str | None


class ExactApp:
    def __init__(
        self,
        store: ExactStore,
        client: oauth.Client,
        limiter: RateLimiter,
        clock: Callable[[], float],
    ) -> None:
        self.store = store
        self.client = client
        self.limiter = limiter
        self.tokens = TokenState()
        self.faults = FaultQueue()
        self.token_delay = 0.0
        """Seconds the token endpoint takes to answer (after it acted), for timing tests."""
        self.token_requests: list[dict[str, Any]] = []
        self.log: list[LoggedRequest] = []
        self.counts: Counter[str] = Counter()
        self._clock = clock

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
            accept=request.headers.get("Accept"),
        )
        with self.store.lock:
            self.log.append(entry)
            if endpoint:
                self.counts[endpoint] += 1
        if sleep_seconds:
            time.sleep(sleep_seconds)
        return response(environ, start_response)

    @staticmethod
    def _bearer(request: Request) -> str | None:
        scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
        return credentials.strip() or None if scheme.lower() == "bearer" else None

    def _answer(self, request: Request) -> tuple[Response, str | None, float]:
        path = request.path
        if path == "/api/oauth2/auth" and request.method == "GET":
            with self.store.lock:
                answer = oauth.authorize(self.client, self.tokens, self._clock(), request)
            return answer, "GET oauth2/auth", 0.0
        if path == "/api/oauth2/token" and request.method == "POST":
            with self.store.lock:
                answer = oauth.token(
                    self.client, self.tokens, self._clock(), request, self.token_requests.append
                )
            return answer, "POST oauth2/token", self.token_delay
        if path.startswith(API_PREFIX):
            return self._api(request, path[len(API_PREFIX) :])
        return Response("Not Found", status=404, content_type="text/plain"), None, 0.0

    def _api(self, request: Request, rest: str) -> tuple[Response, str | None, float]:
        division_text, _, resource = rest.partition("/")
        is_me = rest.lower() == "current/me"
        division = int(division_text) if division_text.isdigit() else None
        endpoint = self._endpoint_name(request.method, "current/Me" if is_me else resource)
        key = self.store.current if division is None else division
        with self.store.lock:
            budget = self.limiter.spend(key)
            fault = self.faults.take() if budget.refused is None else None
            if fault is not None and fault.kind == "daily":  # another client spent the day
                self.limiter.set_daily_remaining(key, 0)
                budget = self.limiter.spend(key)
        if budget.refused is not None:
            return self._too_many(request, budget), endpoint, 0.0
        if fault is not None and fault.kind != "timeout":
            return self._fault_response(request, fault, budget), endpoint, 0.0
        response = self._dispatch(request, endpoint, division, is_me)
        response.headers.update(budget.headers())
        return response, endpoint, fault.sleep_seconds if fault else 0.0

    @staticmethod
    def _endpoint_name(method: str, resource: str) -> str | None:
        key = resource.lower()
        if key == "current/me":
            return f"{method} current/Me"
        if method == "GET" and key in READS:
            return f"GET {READS[key].path}"
        if method == "POST" and key in WRITES:
            return f"POST {WRITES[key][0]}"
        return None

    def _dispatch(
        self, request: Request, endpoint: str | None, division: int | None, is_me: bool
    ) -> Response:
        with self.store.lock:
            problem = self.tokens.access_problem(self._bearer(request), self._clock())
            if problem is not None:
                return Response(b"", status=401, headers={"WWW-Authenticate": problem})
            if endpoint is None:
                return odata.error(request, 404, "The requested resource does not exist.")
            if is_me:
                return handlers.me(self.store, request)
            place = self.store.divisions.get(division) if division is not None else None
            if place is None:
                return odata.error(request, 403, f"You have no access to division {division}")
            resource = endpoint.split(" ", 1)[1].lower()
            if request.method == "GET":
                return handlers.list_entities(self.store, request, place, READS[resource])
            return WRITES[resource][1](self.store, request, place)

    @staticmethod
    def _too_many(request: Request, budget: Budget) -> Response:
        response = odata.error(request, 429, RATE_LIMITED)
        response.headers.update(budget.headers())
        return response

    def _fault_response(self, request: Request, fault: Fault, budget: Budget) -> Response:
        if fault.kind == 429:
            ahead = Budget("minutely", 0, 0, 0.0, budget.minutely_limit, 0, time.time() + 1.0)
            return self._too_many(request, ahead)
        if fault.kind == "revoked":  # the user withdrew the app's access
            return Response(
                b"", status=401, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}
            )
        if fault.kind == 503:
            response = Response(
                "<html><body><h1>503 Service Unavailable</h1></body></html>",
                status=503,
                content_type="text/html; charset=utf-8",
            )
        elif fault.kind == 500:
            body = {"error": {"code": "", "message": {"lang": "", "value": "Internal error"}}}
            response = odata.json_response(body, 500)
        else:
            broken = json.dumps({"d": {"results": [{"ID": "0a1b", "AmountDC": 1.0}]}})[:-9]
            response = Response(broken, status=200, content_type=odata.JSON_TYPE)
        response.headers.update(budget.headers())
        return response
