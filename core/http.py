"""HTTP calls to providers and source platforms: attempts, waits, ``Retry-After`` and budgets.

:func:`call_with_retries` (channels: SMS, WhatsApp, Mollie, agencies) and :func:`source_request`
(source plugins: Moneybird, Exact) make one logical request with several attempts, sharing one
attempt loop. Connection errors, time-outs and answers judged transient (``429`` and ``5xx``) are
tried again after a wait that doubles, or after the server's ``Retry-After``. A ``Retry-After``
beyond ``max_retry_after_seconds`` ends the attempts at once. When the attempts are used up, a
channel gets a :class:`~dunning.core.errors.SendError` marked retryable (the dispatcher tries
again on a later run) and a source a :class:`~dunning.core.errors.SourceError` (the next run
syncs again). Every other answer the judge rejects raises its own error.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import requests
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt
from urllib3.exceptions import NameResolutionError, NewConnectionError

from dunning.core.errors import ConfigError, SendError, SourceError
from dunning.core.ratelimit import RequestBudget

BODY_EXCERPT = 200
EPOCH_SECONDS_ABOVE = 10**9
"""A header number above this is a moment in UTC epoch seconds (2001 on), not a delay."""
EPOCH_MILLISECONDS_ABOVE = 10**12
"""... and above this, in UTC epoch milliseconds (Exact's ``X-RateLimit-*-Reset``)."""
NUMBER = re.compile(r"\d+(\.\d+)?")
RATE_LIMIT_HEADERS = ("RateLimit-Remaining", "RateLimit-Reset")


class Transient(Exception):
    """A failure worth another attempt; ``retry_after`` is the server's wish, in seconds."""

    def __init__(self, description: str, retry_after: float | None = None) -> None:
        super().__init__(description)
        self.description = description
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 4
    wait_seconds: float = 1.0
    """The first wait between attempts; it doubles after each one (up to ``max_wait_seconds``)."""
    max_retry_after_seconds: float = 60.0
    max_wait_seconds: float = 30.0
    timeout: float = 30.0
    replay_after_send: bool = True
    """False for providers without an idempotency key: a request that went out but got no answer
    in time raises :class:`AnswerLost` instead of being sent again."""


class AnswerLost(Exception):
    """The request went out but no answer came: it may have taken effect. Deliberately not a
    ``SendError``: the engine marks the message ``uncertain`` and never re-sends it by itself."""


@dataclass(slots=True)
class RequestStats:
    """What a client's requests met, for benchmarks and run reports. Safe to share between
    threads."""

    requests_sent: int = 0
    """Attempts sent (each retry counts)."""
    throttled: int = 0
    """``429`` answers received."""
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def count_request(self) -> None:
        with self._lock:
            self.requests_sent += 1

    def count_answer(self, response: requests.Response) -> None:
        if response.status_code == 429:
            with self._lock:
                self.throttled += 1


def _seconds_until(number: float, now_epoch: float) -> float:
    """Seconds from now to the moment a header number names: epoch ms, epoch s or a delay."""
    if number > EPOCH_MILLISECONDS_ABOVE:
        return number / 1000 - now_epoch
    if number > EPOCH_SECONDS_ABOVE:
        return number - now_epoch
    return number


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait for a ``Retry-After`` header; ``None`` when absent or unreadable.

    Accepts delay-seconds and an HTTP-date (RFC 9110 10.2.3), and the UTC epoch timestamps some
    platforms send instead: a number above 10^9 is epoch seconds (Moneybird's spec), above 10^12
    epoch milliseconds. A moment in the past means zero."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    now_epoch = (now or datetime.now(UTC)).timestamp()
    if NUMBER.fullmatch(text):
        return max(_seconds_until(float(text), now_epoch), 0.0)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(when.timestamp() - now_epoch, 0.0)


def excerpt(text: str) -> str:
    """A short, one-line piece of a response body for an error message."""
    flat = " ".join(text.split())
    return flat if len(flat) <= BODY_EXCERPT else flat[:BODY_EXCERPT] + "..."


def json_or_none(response: requests.Response) -> Any:
    """The response's JSON, or ``None`` when the body is not JSON (a proxy's HTML page)."""
    try:
        return response.json()
    except ValueError:
        return None


def transient_status(response: requests.Response, what: str, policy: RetryPolicy) -> None:
    """Raise :class:`Transient` for ``429`` and ``5xx`` (honouring ``Retry-After``), or a
    retryable :class:`SendError` when the server asks to wait longer than the policy allows."""
    status = response.status_code
    if status != 429 and status < 500:
        return
    wait = retry_after_seconds(response.headers.get("Retry-After"))
    answer = f"{status} {response.reason}".strip()
    if wait is not None and wait > policy.max_retry_after_seconds:
        raise SendError(
            f"{what} answered {answer} and asks to wait {wait:g} s, more than "
            f"{policy.max_retry_after_seconds:g} s; it will be retried later",
            retryable=True,
        )
    raise Transient(f"{what} answered {answer}", retry_after=wait)


class _NoAnswer(Exception):
    """The request went out, no answer came in time, and the policy forbids sending it again."""


def _never_sent(error: requests.ConnectionError) -> bool:
    """True when the connection could not be made at all (refused, no route, DNS): nothing
    reached the server, so sending again is safe. A connection that broke after the request
    went out (the server hung up without answering) is not."""
    reason = error.args[0] if error.args else None
    reason = getattr(reason, "reason", reason)  # urllib3's MaxRetryError wraps the cause
    return isinstance(reason, NewConnectionError | NameResolutionError)


class _CannotCall(Exception):
    """The request cannot be made at all (a malformed URL); not worth another attempt."""


def _attempts(
    session: requests.Session,
    method: str,
    url: str,
    *,
    what: str,
    policy: RetryPolicy,
    judge: Callable[[requests.Response], None],
    before_attempt: Callable[[], None] | None = None,
    on_answer: Callable[[requests.Response], None] | None = None,
    **kwargs: Any,
) -> requests.Response:
    """The attempt loop both callers share. Returns the response the judge accepted; raises the
    last :class:`Transient` when the attempts are used up, :class:`_NoAnswer`, :class:`_CannotCall`
    or whatever the judge raises. ``before_attempt`` runs before each attempt (a budget) and
    ``on_answer`` on each answer before the judge sees it (headers to note, counters)."""

    def wait(state: RetryCallState) -> float:
        failure = state.outcome.exception() if state.outcome else None
        if isinstance(failure, Transient) and failure.retry_after is not None:
            return failure.retry_after
        backoff = policy.wait_seconds * 2 ** (state.attempt_number - 1)
        return float(min(backoff, policy.max_wait_seconds))

    def attempt() -> requests.Response:
        if before_attempt is not None:
            before_attempt()
        try:
            response = session.request(
                method, url, timeout=policy.timeout, allow_redirects=False, **kwargs
            )
        except requests.ReadTimeout:
            if not policy.replay_after_send:
                raise _NoAnswer() from None
            raise Transient(f"{what} did not answer within {policy.timeout:g} s") from None
        except requests.Timeout:
            raise Transient(f"{what} did not answer within {policy.timeout:g} s") from None
        except requests.ConnectionError as exc:
            if not policy.replay_after_send and not _never_sent(exc):
                raise _NoAnswer() from None  # the connection broke after the request went out
            raise Transient(f"cannot connect to {what} at {url} ({exc})") from None
        except requests.RequestException as exc:
            raise _CannotCall(f"cannot call {what} at {url}: {exc}") from None
        if on_answer is not None:
            on_answer(response)
        judge(response)
        return response

    retrying = Retrying(
        stop=stop_after_attempt(policy.max_attempts),
        wait=wait,
        retry=retry_if_exception_type(Transient),
        reraise=True,
    )
    return retrying(attempt)


def _attempts_used(policy: RetryPolicy) -> str:
    attempts = policy.max_attempts
    return f"{attempts} attempt{'s' if attempts != 1 else ''}"


def call_with_retries(
    session: requests.Session,
    method: str,
    url: str,
    *,
    what: str,
    policy: RetryPolicy,
    judge: Callable[[requests.Response], None],
    **kwargs: Any,
) -> requests.Response:
    """Make a channel's request, trying again as the module docstring says; return the response
    the judge accepted. ``what`` names the provider in messages ("MessageBird")."""
    try:
        return _attempts(session, method, url, what=what, policy=policy, judge=judge, **kwargs)
    except _NoAnswer:
        raise AnswerLost(
            f"{what} got the request but no answer came (none within {policy.timeout:g} s, "
            "or the connection broke), so the message may have gone out; it is not sent "
            "again automatically: check the provider's log, then resolve it"
        ) from None
    except _CannotCall as exc:
        raise SendError(str(exc), retryable=False) from None
    except Transient as exc:
        raise SendError(
            f"{exc.description} ({_attempts_used(policy)}); it will be retried later",
            retryable=True,
        ) from None


def rate_limit_state(
    response: requests.Response, headers: tuple[str, str] = RATE_LIMIT_HEADERS
) -> tuple[int | None, float | None]:
    """What the server says is left of its rate limit: ``(remaining, reset)``, ``reset`` in UTC
    epoch seconds. ``headers`` names the remaining and reset headers; the reset may be epoch
    seconds (Moneybird), epoch milliseconds (Exact) or delay-seconds. ``None`` where absent."""
    remaining_text = response.headers.get(headers[0], "").strip()
    reset_text = response.headers.get(headers[1], "").strip()
    remaining = int(remaining_text) if remaining_text.isdigit() else None
    reset = None
    if NUMBER.fullmatch(reset_text):
        now_epoch = time.time()
        reset = now_epoch + max(_seconds_until(float(reset_text), now_epoch), 0.0)
    return remaining, reset


def _judge_for_source(
    response: requests.Response,
    *,
    method: str,
    url: str,
    what: str,
    policy: RetryPolicy,
    auth_hint: str,
    rate_limit_headers: tuple[str, str],
) -> None:
    status = response.status_code
    if 200 <= status < 300:
        return
    answer = f"{status} {response.reason}".strip()
    said = excerpt(response.text)
    said = f": {said}" if said else ""
    if status == 429 or status >= 500:
        wait = retry_after_seconds(response.headers.get("Retry-After"))
        if wait is None and status == 429:
            _, reset = rate_limit_state(response, rate_limit_headers)
            wait = None if reset is None else max(reset - time.time(), 0.0)
        if wait is not None and wait > policy.max_retry_after_seconds:
            raise SourceError(
                f"{what} answered {answer} and asks to wait {wait:.0f} s, more than "
                f"{policy.max_retry_after_seconds:g} s; it will be tried again on the next run"
            )
        raise Transient(f"{what} answered {answer}", retry_after=wait)
    if status == 401:
        raise ConfigError(f"{what} refused the credentials ({answer}){said}; {auth_hint}")
    if status == 403:
        raise ConfigError(f"{what} denied access to {url} ({answer}){said}; {auth_hint}")
    if status == 404:
        raise SourceError(f"{what} has nothing at {url} ({answer}){said}")
    raise SourceError(f"{what} refused {method} {url} ({answer}){said}")


def source_request(
    session: requests.Session,
    method: str,
    url: str,
    *,
    what: str,
    policy: RetryPolicy,
    budget: RequestBudget | None = None,
    stats: RequestStats | None = None,
    auth_hint: str = "check the credentials in the source settings",
    rate_limit_headers: tuple[str, str] = RATE_LIMIT_HEADERS,
    inspect: Callable[[requests.Response], None] | None = None,
    **kwargs: Any,
) -> requests.Response:
    """Make a source plugin's request to its platform and return the ``2xx`` response (its body,
    even malformed JSON, is the caller's to read). ``kwargs`` go to ``session.request``.

    Each attempt first takes a request from ``budget``; the rate-limit headers of each answer
    (``rate_limit_headers``: remaining, reset) are fed back to it. ``what`` names the platform
    in messages ("Moneybird"); ``auth_hint`` says what to do about a ``401``/``403``
    ("check source.token (a new personal API token in Moneybird, or new OAuth tokens)").
    ``inspect`` sees each answer before it is judged; what it raises ends the request (a
    :class:`Transient` is tried again), so a plugin can tell its platform's answers apart
    (Exact: an expired access token, the daily limit).

    Raises :class:`~dunning.core.errors.ConfigError` for ``401`` and ``403`` (the run cannot
    work until the settings change), :class:`~dunning.core.errors.SourceError` for every other
    failure: ``404`` naming the URL, other ``3xx``/``4xx`` with the status and a piece of the
    body, attempts used up or a too long ``Retry-After`` (the next run tries again). With
    ``policy.replay_after_send`` false, a request that got no answer raises
    :class:`AnswerLost`: it may have taken effect, so the caller checks before sending it again.
    """

    def before_attempt() -> None:
        if budget is not None:
            budget.acquire()
        if stats is not None:
            stats.count_request()

    def on_answer(response: requests.Response) -> None:
        if stats is not None:
            stats.count_answer(response)
        if budget is not None:
            remaining, reset = rate_limit_state(response, rate_limit_headers)
            if remaining is not None:
                budget.observe(remaining, reset)
        if inspect is not None:
            inspect(response)

    def judge(response: requests.Response) -> None:
        _judge_for_source(
            response,
            method=method,
            url=url,
            what=what,
            policy=policy,
            auth_hint=auth_hint,
            rate_limit_headers=rate_limit_headers,
        )

    try:
        return _attempts(
            session,
            method,
            url,
            what=what,
            policy=policy,
            judge=judge,
            before_attempt=before_attempt,
            on_answer=on_answer,
            **kwargs,
        )
    except _NoAnswer:
        raise AnswerLost(
            f"{what} got the {method} request to {url} but did not answer within "
            f"{policy.timeout:g} s, so it may have taken effect; it is not sent again "
            f"automatically: check in {what} first"
        ) from None
    except _CannotCall as exc:
        raise SourceError(str(exc)) from None
    except Transient as exc:
        raise SourceError(
            f"{exc.description} ({_attempts_used(policy)}); it will be tried again on the next run"
        ) from None
