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
from typing import Any

import requests

from dunning.channels.agency.bundle import Renderer
from dunning.channels.agency.config import AgencyConfig
from dunning.core.errors import SendError
from dunning.core.handoff.dossier import AgencyUpdate, Dossier
from dunning.core.http import (
    RetryPolicy,
    Transient,
    call_with_retries,
    excerpt,
    json_or_none,
    retry_after_seconds,
)
from dunning.core.models import Receipt

USER_AGENT = "dunning-agency-channel/1"


def _provider_id(response: requests.Response, fallback: str) -> str:
    """The agency's id for what it received: ``id`` or ``reference`` of a JSON answer, if any."""
    data: Any = json_or_none(response)
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
        self.open()
        assert self._session is not None
        settings = self.settings
        policy = RetryPolicy(
            max_attempts=settings.max_attempts,
            wait_seconds=settings.retry_wait_seconds,
            max_retry_after_seconds=settings.max_retry_after_seconds,
            timeout=settings.timeout,
        )
        response = call_with_retries(
            self._session,
            "POST",
            url,
            what=f"the agency's API at {url}",
            policy=policy,
            judge=lambda answer: self._judge(answer, url, what),
            data=json.dumps(payload, ensure_ascii=False).encode("utf-8"),
            headers={"Content-Type": "application/json", "Idempotency-Key": key},
        )
        return Receipt(
            _provider_id(response, key),
            datetime.now(UTC),
            f"accepted by {url}: {response.status_code} {response.reason}",
        )

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
            raise Transient(f"the agency's API at {url} answered {answer}", retry_after=wait)
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
            f"{excerpt(response.text) or 'no details'}; it will not be retried",
            retryable=False,
        )
