"""HTTP delivery: each dossier is one JSON POST to the agency's API, its files embedded.

The body is the manifest plus ``files: [{name, content_type, content_base64}]``. Every request
carries ``Idempotency-Key: <reference>``: a retry (here, or on a later run) of a request whose
answer was lost cannot create a second dossier at an agency that honours the key.

Within one send, connection errors, time-outs, ``429`` and ``5xx`` answers are retried
(``max_attempts``, waits from ``retry_wait_seconds`` doubling, or the server's ``Retry-After``).
A ``Retry-After`` longer than ``max_retry_after_seconds`` ends the attempts at once. When the
attempts run out the error is retryable: the dispatcher tries again later. ``401``/``403`` and
other ``4xx`` answers are permanent.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import requests
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from dunning.channels.agency.bundle import Renderer
from dunning.channels.agency.config import AgencyConfig
from dunning.core.errors import SendError
from dunning.core.handoff.dossier import AgencyUpdate, Dossier
from dunning.core.models import Receipt

USER_AGENT = "dunning-agency-channel/1"
MAX_BACKOFF_SECONDS = 30.0
BODY_EXCERPT = 200


class _Transient(Exception):
    """A failure worth another attempt; ``retry_after`` is the server's wish, in seconds."""

    def __init__(self, description: str, retry_after: float | None = None) -> None:
        super().__init__(description)
        self.description = description
        self.retry_after = retry_after


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


def _excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= BODY_EXCERPT else flat[:BODY_EXCERPT] + "..."


def _provider_id(response: requests.Response, fallback: str) -> str:
    """The agency's id for what it received: ``id`` or ``reference`` of a JSON answer, if any."""
    try:
        data: Any = response.json()
    except ValueError:
        return fallback
    if isinstance(data, dict):
        for key in ("id", "reference"):
            value = data.get(key)
            if isinstance(value, str | int) and not isinstance(value, bool) and str(value):
                return str(value)
    return fallback


class HttpDelivery:
    """POSTs dossiers to ``url`` and notices to ``updates_url`` (see the module docstring)."""

    def __init__(self, settings: AgencyConfig, renderer: Renderer) -> None:
        assert settings.url is not None, "only for delivery: http"
        self.settings = settings
        self.url = settings.url
        self.renderer = renderer
        self._session: requests.Session | None = None

    def open(self) -> None:
        if self._session is None:
            session = requests.Session()
            session.headers["User-Agent"] = USER_AGENT
            session.headers["Accept"] = "application/json"
            if self.settings.token is not None:
                token = self.settings.token.get_secret_value()
                session.headers["Authorization"] = f"Bearer {token}"
            self._session = session

    def close(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            session.close()

    def deliver_dossier(self, dossier: Dossier) -> Receipt:
        rendered = self.renderer.dossier(dossier)
        payload = {
            **rendered.manifest_data,
            "files": [
                {
                    "name": file.name,
                    "content_type": file.content_type,
                    "content_base64": base64.b64encode(file.content).decode("ascii"),
                }
                for file in rendered.attachments
            ],
        }
        return self._post(self.url, payload, dossier.reference, f"dossier {dossier.reference}")

    def deliver_update(self, update: AgencyUpdate) -> Receipt:
        notice = self.renderer.update(update).notice
        url = self.settings.endpoint_for_updates()
        return self._post(url, notice, update.reference, f"notice {update.reference}")

    def _post(self, url: str, payload: dict[str, Any], key: str, what: str) -> Receipt:
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        retrying = Retrying(
            stop=stop_after_attempt(self.settings.max_attempts),
            wait=self._wait,
            retry=retry_if_exception_type(_Transient),
            reraise=True,
        )
        try:
            response = retrying(self._attempt, url, body, key, what)
        except _Transient as exc:
            attempts = self.settings.max_attempts
            raise SendError(
                f"{exc.description} ({attempts} attempt{'s' if attempts != 1 else ''}); "
                "it will be retried later",
                retryable=True,
            ) from None
        return Receipt(
            _provider_id(response, key),
            datetime.now(UTC),
            f"accepted by {url}: {response.status_code} {response.reason}",
        )

    def _wait(self, state: RetryCallState) -> float:
        failure = state.outcome.exception() if state.outcome else None
        if isinstance(failure, _Transient) and failure.retry_after is not None:
            return failure.retry_after
        backoff = self.settings.retry_wait_seconds * 2 ** (state.attempt_number - 1)
        return float(min(backoff, MAX_BACKOFF_SECONDS))

    def _attempt(self, url: str, body: bytes, key: str, what: str) -> requests.Response:
        self.open()
        assert self._session is not None
        headers = {"Content-Type": "application/json", "Idempotency-Key": key}
        timeout = self.settings.timeout
        try:
            response = self._session.post(
                url, data=body, headers=headers, timeout=timeout, allow_redirects=False
            )
        except requests.Timeout:
            raise _Transient(
                f"the agency's API at {url} did not answer within {timeout:g} s"
            ) from None
        except requests.ConnectionError as exc:
            raise _Transient(f"cannot connect to the agency's API at {url} ({exc})") from None
        except requests.RequestException as exc:
            raise SendError(f"cannot POST to {url}: {exc}; check 'url'", retryable=False) from None
        self._judge(response, url, what)
        return response

    def _judge(self, response: requests.Response, url: str, what: str) -> None:
        """Raise for an answer that is not a success; return for a 2xx."""
        status = response.status_code
        if 200 <= status < 300:
            return
        answer = f"{status} {response.reason}".strip()
        if status == 429 or status >= 500:
            wait = retry_after_seconds(response.headers.get("Retry-After"))
            limit = self.settings.max_retry_after_seconds
            if wait is not None and wait > limit:
                raise SendError(
                    f"the agency's API at {url} answered {answer} and asks to wait {wait:g} s, "
                    f"more than max_retry_after_seconds ({limit:g}); it will be retried later",
                    retryable=True,
                )
            raise _Transient(f"the agency's API at {url} answered {answer}", retry_after=wait)
        if status in (401, 403):
            raise SendError(
                f"the agency's API at {url} refused the {what} ({answer}): check 'token' "
                "(sent as a Bearer token); it will not be retried",
                retryable=False,
            )
        if 300 <= status < 400:
            location = response.headers.get("Location", "elsewhere")
            raise SendError(
                f"the agency's API at {url} redirects ({answer}) to {location}; set 'url' to "
                "the final address",
                retryable=False,
            )
        raise SendError(
            f"the agency's API at {url} refused the {what} ({answer}): "
            f"{_excerpt(response.text) or 'no details'}; it will not be retried",
            retryable=False,
        )
