"""The Moneybird API client: paths, bearer token, JSON bodies and the OAuth refresh.

Attempts, waits, ``Retry-After`` and the rate budget are the core's
(:func:`~dunning.core.http.source_request`); this module only says what a Moneybird request is.
A request budget is shared by every client of the same token and address in the process,
because Moneybird counts 150 requests per 5 minutes per token, not per client.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import replace
from typing import Any
from urllib.parse import quote

import requests
from pydantic import SecretStr

from dunning.core.errors import ConfigError, SourceError
from dunning.core.http import RequestStats, RetryPolicy, excerpt, json_or_none, source_request
from dunning.core.ledger.tokens import TokenPair, TokenStore
from dunning.core.ratelimit import RequestBudget

WHAT = "Moneybird"
AUTH_HINT = (
    "check source.token (a Moneybird personal API token or OAuth access token, "
    "e.g. token: ${MONEYBIRD_TOKEN}) and source.administration_id"
)
_budgets: dict[tuple[str, str, int, float], RequestBudget] = {}
_budgets_lock = threading.Lock()


def shared_budget(base_url: str, token: str, limit: int, window_seconds: float) -> RequestBudget:
    """The process-wide budget of one token at one address."""
    digest = hashlib.sha256(token.encode()).hexdigest()
    key = (base_url, digest, limit, window_seconds)
    with _budgets_lock:
        if key not in _budgets:
            _budgets[key] = RequestBudget(limit, window_seconds)
        return _budgets[key]


def segment(value: str) -> str:
    """One path segment (an invoice number may hold ``/``)."""
    return quote(value, safe="")


PROVIDER = "moneybird"


class OAuthRefresh:
    """Gets a new access token with the refresh token (``grant_type=refresh_token``).

    With ``tokens`` (the ledger's token store) the pair survives the run: a refreshed pair is
    stored at once (a rotated refresh token would otherwise be lost), and a pair another process
    stored since is used instead of refreshing again."""

    def __init__(
        self,
        url: str,
        refresh_token: SecretStr,
        client_id: SecretStr,
        client_secret: SecretStr,
        tokens: TokenStore | None = None,
        pipeline: str = "",
    ) -> None:
        self.url = url
        self.refresh_token = refresh_token.get_secret_value()
        self.client_id = client_id.get_secret_value()
        self.client_secret = client_secret.get_secret_value()
        self.tokens = tokens
        self.pipeline = pipeline

    def stored(self) -> TokenPair | None:
        """The pair kept by an earlier run, if any (it replaces the configured one)."""
        return self.tokens.load(self.pipeline, PROVIDER) if self.tokens else None

    def new_access_token(self, session: requests.Session, policy: RetryPolicy) -> str:
        kept = self.stored()
        if kept is not None and kept.refresh_token != self.refresh_token:
            self.refresh_token = kept.refresh_token  # another process refreshed meanwhile
            return kept.access_token
        used = self.refresh_token
        response = source_request(
            session,
            "POST",
            self.url,
            what=f"{WHAT} OAuth",
            policy=policy,
            auth_hint="check source.refresh_token, client_id and client_secret, or authorize again",
            data={
                "grant_type": "refresh_token",
                "refresh_token": self.refresh_token,
                "client_id": self.client_id,
                "client_secret": self.client_secret,
            },
        )
        body = json_or_none(response)
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise ConfigError(
                f"{WHAT} OAuth answered the token refresh without an access_token; "
                "authorize again and update source.token"
            )
        rotated = body.get("refresh_token") if isinstance(body, dict) else None
        new_refresh = rotated if isinstance(rotated, str) and rotated else used
        if self.tokens is not None and not self.tokens.replace(
            self.pipeline, PROVIDER, used, TokenPair(token, new_refresh)
        ):
            kept = self.stored()  # another process stored a newer pair first: use theirs
            if kept is not None:
                self.refresh_token = kept.refresh_token
                return kept.access_token
        self.refresh_token = new_refresh
        return token


class MoneybirdClient:
    """Requests to one administration (or, without one, to ``administrations.json``)."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        administration_id: str | None = None,
        policy: RetryPolicy | None = None,
        requests_per_window: int = 150,
        window_seconds: float = 300.0,
        refresh: OAuthRefresh | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.administration_id = administration_id
        self.policy = policy or RetryPolicy()
        self.budget = shared_budget(self.base_url, token, requests_per_window, window_seconds)
        self.stats = RequestStats()
        self.refresh = refresh
        self.session = requests.Session()
        self.session.headers.update({"Accept": "application/json"})
        self._use_token(token)

    def _use_token(self, token: str) -> None:
        self.session.headers["Authorization"] = f"Bearer {token}"

    def url(self, path: str) -> str:
        """``<base>/<administration>/<path>.json`` (``<base>/<path>.json`` without one)."""
        prefix = self.base_url
        if self.administration_id is not None:
            prefix = f"{prefix}/{self.administration_id}"
        return f"{prefix}/{path}.json"

    def request(
        self, method: str, path: str, *, replay_after_send: bool = True, **kwargs: Any
    ) -> requests.Response:
        """One logical request; a ``401`` refreshes an OAuth token once (when configured)."""
        return self.request_url(
            method, self.url(path), replay_after_send=replay_after_send, **kwargs
        )

    def request_url(
        self, method: str, url: str, *, replay_after_send: bool = True, **kwargs: Any
    ) -> requests.Response:
        policy = self.policy
        if not replay_after_send:
            policy = replace(policy, replay_after_send=False)
        try:
            return self._send(method, url, policy, **kwargs)
        except ConfigError:
            if self.refresh is None:
                raise
            self._use_token(self.refresh.new_access_token(self.session, self.policy))
            self.refresh = None  # once per client: a second refusal is a real one
            return self._send(method, url, policy, **kwargs)

    def _send(self, method: str, url: str, policy: RetryPolicy, **kwargs: Any) -> requests.Response:
        return source_request(
            self.session,
            method,
            url,
            what=WHAT,
            policy=policy,
            budget=self.budget,
            stats=self.stats,
            auth_hint=AUTH_HINT,
            **kwargs,
        )

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        """The JSON body of a request; a body that is not JSON is a :class:`SourceError`."""
        return read_json(self.request(method, path, **kwargs), method)


def read_json(response: requests.Response, method: str = "GET") -> Any:
    body = json_or_none(response)
    if body is None:
        raise SourceError(
            f"{WHAT} answered {method} {response.url} with a body that is not valid JSON "
            f"({excerpt(response.text) or 'empty'}); nothing was taken from it, the next run "
            "tries again"
        )
    return body
