"""The Exact Online API client: division, bearer token, JSON envelope, paging and rate limits.

Attempts and waits are the core's (:func:`~dunning.core.http.source_request`); this module says
what an Exact request is (API-CONTRACTS.md 1.3 to 1.8):

- ``Accept: application/json`` on every request (Exact answers XML without it);
- the division from ``source.division`` or ``current/Me``, asked once per client;
- collections read from ``{"d": {"results": [...], "__next": url}}``, ``__next`` followed as
  given (an absolute URL with its query), one page after the other;
- the minutely limit: a :class:`~dunning.core.ratelimit.RequestBudget` per app and division,
  shared in the process and tightened by ``X-RateLimit-Minutely-Remaining``/``-Reset`` (epoch
  ms), so requests are paced and the limit is not hit; a ``429`` of the minute waits for its
  reset (60 s when Exact names none);
- the daily limit: ``X-RateLimit-Remaining``/``-Reset`` are read on every answer; once nothing
  is left, or on a daily ``429``, every request raises
  :class:`~dunning.core.errors.SourceLimitReached` until the reset, without calling;
- a ``401`` "access token expired" refreshes the token once (:mod:`.oauth`) and repeats;
- errors read from ``error.message.value``.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import requests

from dunning.core.errors import ConfigError, SourceError, SourceLimitReached
from dunning.core.http import (
    NUMBER,
    RequestStats,
    RetryPolicy,
    Transient,
    excerpt,
    json_or_none,
    source_request,
)
from dunning.core.ratelimit import RequestBudget
from dunning.plugins.exact.config import ExactConfig
from dunning.plugins.exact.oauth import WHAT, ExactAuth, authorize_again

MINUTELY = ("X-RateLimit-Minutely-Remaining", "X-RateLimit-Minutely-Reset")
DAILY = ("X-RateLimit-Remaining", "X-RateLimit-Reset")
WAIT_WITHOUT_RESET = 60.0
_budgets: dict[tuple[str, str, int], tuple[RequestBudget, DailyAllowance]] = {}
_budgets_lock = threading.Lock()


class DailyAllowance:
    """What Exact says is left of the day's calls for one app and division."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.remaining: int | None = None
        self.resets_at: float | None = None
        """UTC epoch seconds."""

    def observe(self, response: requests.Response) -> None:
        remaining = response.headers.get(DAILY[0], "").strip()
        reset = response.headers.get(DAILY[1], "").strip()
        if not remaining.isdigit():
            return
        with self._lock:
            self.remaining = int(remaining)
            if NUMBER.fullmatch(reset):
                value = float(reset)
                self.resets_at = value / 1000 if value > 10**12 else value

    def used_up(self) -> bool:
        with self._lock:
            if self.remaining is None or self.remaining > 0:
                return False
            if self.resets_at is not None and time.time() >= self.resets_at:
                self.remaining = None  # a new day
                return False
            return True

    def spend(self) -> None:
        with self._lock:
            if self.remaining is not None:
                self.remaining -= 1

    def reached(self, division: int | None) -> SourceLimitReached:
        when = None
        if self.resets_at is not None:
            when = datetime.fromtimestamp(self.resets_at, tz=UTC)
        until = f"until {when:%Y-%m-%d %H:%M} UTC" if when else "for today"
        which = f"division {division}" if division else "the current division"
        return SourceLimitReached(
            f"{WHAT}'s daily limit of calls for {which} is used up {until}", when
        )


def shared_limits(
    base: str, client_id: str, division: int, per_minute: int, window: float
) -> tuple[RequestBudget, DailyAllowance]:
    """The process-wide minutely budget and daily allowance of one app in one division (Exact
    counts per app per division, whichever pipeline or thread makes the call)."""
    key = (base, hashlib.sha256(client_id.encode()).hexdigest(), division)
    with _budgets_lock:
        if key not in _budgets:
            _budgets[key] = (RequestBudget(per_minute, window), DailyAllowance())
        return _budgets[key]


def forget_shared_limits() -> None:
    """Forget every budget and allowance learnt in this process, as a new process starts."""
    with _budgets_lock:
        _budgets.clear()


class _AccessTokenExpired(Exception):
    """Exact answered 401 and said the access token expired (``WWW-Authenticate``)."""


def error_text(response: requests.Response) -> str:
    """Exact's ``error.message.value``, else a piece of the body."""
    body = json_or_none(response)
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            message = error.get("message")
            if isinstance(message, dict) and message.get("value"):
                return str(message["value"])
    return excerpt(response.text)


class ExactClient:
    """Requests to one division of Exact Online on behalf of one connection."""

    def __init__(self, config: ExactConfig, auth: ExactAuth) -> None:
        self.config = config
        self.auth = auth
        self.base = config.api_base
        self.policy = config.retry_policy()
        self.stats = RequestStats()
        self.session = requests.Session()
        self.session.headers.update({"Accept": "application/json"})
        self._division = config.division
        self._me_limits: tuple[RequestBudget, DailyAllowance] | None = None

    # -- division ------------------------------------------------------------------------------

    def me(self, fields: str = "CurrentDivision") -> dict[str, Any]:
        """The user the tokens belong to (``current/Me``, no division in the path)."""
        body = self._json("GET", f"{self.base}/api/v1/current/Me", None, {"$select": fields})
        results = _results(body, "current/Me")
        if not results:
            raise SourceError(f"{WHAT} answered current/Me without a user; set source.division")
        return results[0]

    @property
    def division(self) -> int:
        """``source.division``, else the user's current division (one ``current/Me`` call)."""
        if self._division is None:
            try:
                self._division = int(self.me()["CurrentDivision"])
            except (KeyError, TypeError, ValueError):
                raise SourceError(
                    f"{WHAT} answered current/Me without a CurrentDivision; set source.division"
                ) from None
        return self._division

    @property
    def known_division(self) -> int | None:
        """The division if it is known without a request."""
        return self._division

    def url(self, path: str) -> str:
        return f"{self.base}/api/v1/{self.division}/{path}"

    # -- requests ------------------------------------------------------------------------------

    def get(self, path: str, params: dict[str, str] | None = None) -> Any:
        return self._json("GET", self.url(path), self.division, params)

    def post(self, path: str, body: dict[str, Any], *, replay_after_send: bool = False) -> Any:
        """POST ``body``; not repeated after a lost answer unless ``replay_after_send``."""
        return self._json(
            "POST", self.url(path), self.division, None, json=body,
            replay_after_send=replay_after_send,
        )  # fmt: skip

    def pages(self, path: str, params: dict[str, str]) -> Iterator[list[dict[str, Any]]]:
        """Each page of a collection, following ``__next`` as given until it is absent."""
        url: str | None = self.url(path)
        query: dict[str, str] | None = params
        division = self.division
        while url is not None:
            body = self._json("GET", url, division, query)
            yield _results(body, path)
            following = body.get("d", {}).get("__next") if isinstance(body, dict) else None
            url = str(following) if following else None
            query = None  # __next holds the whole query already

    def _limits(self, division: int | None) -> tuple[RequestBudget, DailyAllowance]:
        config = self.config
        client_id = config.client_id.get_secret_value()
        # current/Me counts against the current division, which is not known before it.
        return shared_limits(
            self.base, client_id, division or 0, config.calls_per_minute,
            config.rate_window_seconds,
        )  # fmt: skip

    def _json(
        self,
        method: str,
        url: str,
        division: int | None,
        params: dict[str, str] | None,
        *,
        replay_after_send: bool = True,
        **kwargs: Any,
    ) -> Any:
        response = self.request(
            method, url, division, params=params, replay_after_send=replay_after_send, **kwargs
        )
        if response.status_code == 204 or not response.content:
            return {}
        body = json_or_none(response)
        if body is None:
            kind = response.headers.get("Content-Type", "unknown type")
            raise SourceError(
                f"{WHAT} answered {method} {url} with a body that is not JSON ({kind}: "
                f"{excerpt(response.text) or 'empty'}); nothing was taken from it, the next "
                "run tries again"
            )
        return body

    def request(
        self,
        method: str,
        url: str,
        division: int | None,
        *,
        replay_after_send: bool = True,
        **kwargs: Any,
    ) -> requests.Response:
        """One logical request with a fresh token; a 401 "expired" refreshes once."""
        budget, daily = self._limits(division)
        where = division if division is not None else "of the current user"
        if daily.used_up():
            raise daily.reached(division)
        policy = self.policy
        if not replay_after_send:
            policy = replace(policy, replay_after_send=False)
        token = self.auth.access_token()
        try:
            return self._send(method, url, token, policy, budget, daily, division, **kwargs)
        except _AccessTokenExpired:
            token = self.auth.refresh(token, expired=True)
        try:
            return self._send(method, url, token, policy, budget, daily, division, **kwargs)
        except _AccessTokenExpired:
            raise ConfigError(
                f"{WHAT} refused a just refreshed access token for division {where}; "
                + authorize_again(self.auth.connection)
            ) from None

    def _send(
        self,
        method: str,
        url: str,
        token: str,
        policy: RetryPolicy,
        budget: RequestBudget,
        daily: DailyAllowance,
        division: int | None,
        **kwargs: Any,
    ) -> requests.Response:
        def inspect(response: requests.Response) -> None:
            daily.observe(response)
            status = response.status_code
            if status == 401 and "expired" in response.headers.get("WWW-Authenticate", "").lower():
                raise _AccessTokenExpired()
            if status == 429:
                if response.headers.get(DAILY[0], "").strip() == "0":
                    raise daily.reached(division)
                if not response.headers.get(MINUTELY[1], "").strip():
                    raise Transient(f"{WHAT} answered 429", retry_after=WAIT_WITHOUT_RESET)
            if 400 <= status < 500 and status not in (401, 403, 404, 429):
                raise SourceError(
                    f"{WHAT} refused {method} {url.split('?')[0]} ({status}): "
                    f"{error_text(response)}"
                )

        headers = {"Authorization": f"Bearer {token}"}
        if "json" in kwargs:
            headers["Content-Type"] = "application/json"
        return source_request(
            self.session,
            method,
            url,
            what=WHAT,
            policy=policy,
            budget=budget,
            stats=self.stats,
            auth_hint=(
                f"check that the Exact user of connection {self.auth.connection!r} may use "
                "the division, or " + authorize_again(self.auth.connection)
            ),
            rate_limit_headers=MINUTELY,
            inspect=inspect,
            headers=headers,
            **kwargs,
        )


def _results(body: Any, what: str) -> list[dict[str, Any]]:
    data = body.get("d") if isinstance(body, dict) else None
    results = data.get("results") if isinstance(data, dict) else None
    if not isinstance(results, list) or not all(isinstance(r, dict) for r in results):
        raise SourceError(
            f"{WHAT} answered {what} without a list of results (d.results); nothing was "
            "taken from it, the next run tries again"
        )
    return results
