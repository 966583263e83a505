"""HTTP calls to providers (SMS, WhatsApp, Mollie, agencies): attempts, waits and ``Retry-After``.

:func:`call_with_retries` makes one logical request with several attempts. Connection errors,
time-outs and answers the ``judge`` calls transient (by default ``429`` and ``5xx``) are tried
again after a wait that doubles, or after the server's ``Retry-After`` (seconds or an HTTP date).
A ``Retry-After`` beyond ``max_retry_after_seconds`` ends the attempts at once. When the attempts
are used up, a :class:`~dunning.core.errors.SendError` marked retryable says so: the dispatcher
tries again on a later run. Every other answer the judge rejects raises its own error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import requests
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from dunning.core.errors import SendError

BODY_EXCERPT = 200


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


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait for a ``Retry-After`` header (delay-seconds or HTTP-date, RFC 9110
    10.2.3); ``None`` when absent or unreadable. A date in the past means zero."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - (now or datetime.now(UTC))).total_seconds(), 0.0)


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
    """Make the request, trying again as the module docstring says; return the response the
    judge accepted. ``what`` names the provider in messages ("MessageBird")."""

    def wait(state: RetryCallState) -> float:
        failure = state.outcome.exception() if state.outcome else None
        if isinstance(failure, Transient) and failure.retry_after is not None:
            return failure.retry_after
        backoff = policy.wait_seconds * 2 ** (state.attempt_number - 1)
        return float(min(backoff, policy.max_wait_seconds))

    def attempt() -> requests.Response:
        try:
            response = session.request(
                method, url, timeout=policy.timeout, allow_redirects=False, **kwargs
            )
        except requests.ReadTimeout:
            if not policy.replay_after_send:
                raise AnswerLost(
                    f"{what} got the request but did not answer within {policy.timeout:g} s, so "
                    "the message may have gone out; it is not sent again automatically: check "
                    "the provider's log, then resolve it"
                ) from None
            raise Transient(f"{what} did not answer within {policy.timeout:g} s") from None
        except requests.Timeout:
            raise Transient(f"{what} did not answer within {policy.timeout:g} s") from None
        except requests.ConnectionError as exc:
            raise Transient(f"cannot connect to {what} at {url} ({exc})") from None
        except requests.RequestException as exc:
            raise SendError(f"cannot call {what} at {url}: {exc}", retryable=False) from None
        judge(response)
        return response

    retrying = Retrying(
        stop=stop_after_attempt(policy.max_attempts),
        wait=wait,
        retry=retry_if_exception_type(Transient),
        reraise=True,
    )
    try:
        return retrying(attempt)
    except Transient as exc:
        attempts = policy.max_attempts
        raise SendError(
            f"{exc.description} ({attempts} attempt{'s' if attempts != 1 else ''}); it will be "
            "retried later",
            retryable=True,
        ) from None
