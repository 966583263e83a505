"""One HTTP session with the Cloud API's messages endpoint, and the request body of a template.

The Cloud API has no idempotency key: a request it received is a message sent, whatever
happens to the answer. So a request is tried again only when it certainly did not arrive
(no connection) or was refused with a temporary error; when the answer does not come in time
after the request went out, :class:`AnswerLost` is raised, which is not a ``SendError``: the
engine marks the message ``uncertain`` instead of sending it twice. The engine's outbox makes
sure a message that was accepted is never handed to the channel again.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from dunning.channels.whatsapp.answers import PROVIDER, Attempt, judge, receipt_of
from dunning.channels.whatsapp.config import WhatsAppConfig
from dunning.core.http import AnswerLost, call_with_retries
from dunning.core.models import Receipt


class _NoReplayAdapter(HTTPAdapter):
    """Turns a read time-out, and a body that breaks off after the answer began, into
    :class:`AnswerLost`, which the retry helper does not retry: the request was sent. A failed
    connection or a connect time-out (nothing was sent) stays retryable."""

    def send(
        self, request: requests.PreparedRequest, *args: Any, **kwargs: Any
    ) -> requests.Response:
        try:
            response = super().send(request, *args, **kwargs)
        except requests.ReadTimeout as exc:
            raise AnswerLost(_lost(f"no answer came in time ({exc})")) from None
        try:
            response.content  # noqa: B018 - read the body here, where a failure is ours to name
        except requests.RequestException as exc:
            raise AnswerLost(_lost(f"the answer broke off ({exc})")) from None
        return response


def _lost(what: str) -> str:
    return (
        f"{PROVIDER}: the message was sent but {what}, so it may have been delivered. The Cloud "
        "API has no idempotency key, so it is not sent again automatically: check in WhatsApp "
        "Manager, then resolve the message"
    )


def template_body(
    to: str,
    template: str,
    language: str,
    parameters: list[str],
    button: str | None = None,
) -> dict[str, Any]:
    """The request body of a template message (API-CONTRACTS 3.3)."""
    components: list[dict[str, Any]] = []
    if parameters:
        components.append(
            {"type": "body", "parameters": [{"type": "text", "text": p} for p in parameters]}
        )
    if button is not None:
        components.append(
            {
                "type": "button",
                "sub_type": "url",
                "index": "0",
                "parameters": [{"type": "text", "text": button}],
            }
        )
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "template",
        "template": {"name": template, "language": {"code": language}, "components": components},
    }


class CloudApiSession:
    """Posts template messages for one channel over one kept-alive HTTP session."""

    def __init__(self, config: WhatsAppConfig) -> None:
        self.config = config
        self.policy = config.retry_policy
        self.session = requests.Session()
        self.session.mount("https://", _NoReplayAdapter())
        self.session.mount("http://", _NoReplayAdapter())
        self.session.headers.update(
            {
                "Authorization": f"Bearer {config.token.get_secret_value()}",
                "Accept": "application/json",
            }
        )

    def post(self, body: Mapping[str, Any], attempt: Attempt) -> Receipt:
        """Send ``body``; the receipt, or the error :func:`judge` chose (see ``answers``)."""
        response = call_with_retries(
            self.session,
            "POST",
            self.config.messages_url,
            what=PROVIDER,
            policy=self.policy,
            judge=lambda answer: judge(answer, attempt, self.policy),
            json=body,
        )
        return receipt_of(response, attempt)

    def close(self) -> None:
        self.session.close()
