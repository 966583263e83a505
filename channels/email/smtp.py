"""SMTP delivery: one connection for a whole batch, with every failure classified.

The transaction is driven command by command (MAIL, RCPT, DATA) so that each reply can be judged
on its own: a refused debtor address is that debtor's problem (:class:`BadRecipient`), a 4xx is
worth retrying later, a 5xx is not. A connection the server dropped between two messages (idle
time-out, ``421``) is re-opened once, transparently, before any part of the message was sent.
"""

from __future__ import annotations

import re
import smtplib
from datetime import UTC, datetime

from dunning.channels.email.addresses import debtor_label
from dunning.channels.email.errors import DeliveryUncertain
from dunning.channels.email.message import Builder, BuiltMessage
from dunning.core.channel import OutgoingMessage
from dunning.core.errors import BadRecipient, SendError
from dunning.core.models import Receipt
from dunning.core.smtp import SmtpSession, SmtpSettings, reply_text

LEADING_DOT = re.compile(rb"^\.", re.MULTILINE)


class _Dropped(Exception):
    """The server closed the connection before the message content was sent (safe to redo)."""


def _dot_stuffed(payload: bytes) -> bytes:
    """The DATA content (RFC 5321 4.5.2): lines starting with a dot get a second one, and the
    end-of-data line follows. ``payload`` already has CRLF line ends."""
    stuffed = LEADING_DOT.sub(b"..", payload)
    if not stuffed.endswith(b"\r\n"):
        stuffed += b"\r\n"
    return stuffed + b".\r\n"


def _is_config_refusal(code: int, reply: str) -> bool:
    """A RCPT refusal that is about us (no login, no relaying), not about the debtor's address."""
    lowered = reply.lower()
    return code == 530 or "relay" in lowered or "authentication" in lowered


class SmtpConnection(SmtpSession):
    """An open SMTP session that sends messages one by one (see :class:`Connection`).

    :meth:`open` connects (TLS, login) or raises :class:`SendError`; :meth:`close` says QUIT.
    ``build`` turns an :class:`OutgoingMessage` into MIME content and envelope.
    """

    def __init__(self, settings: SmtpSettings, build: Builder) -> None:
        super().__init__(settings)
        self.build = build

    def send(self, message: OutgoingMessage) -> Receipt:
        """Deliver one message; see :meth:`dunning.core.channel.Connection.send`."""
        built = self.build(message)
        payload = built.as_bytes()
        for attempt in (1, 2):
            self.open()
            try:
                return self._transact(message, built, payload)
            except _Dropped:
                self._discard()
                if attempt == 2:
                    raise SendError(
                        f"mail server {self.address} closed the connection twice before "
                        f"accepting {built.message_id}; it will be retried",
                        retryable=True,
                    ) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _transact(self, message: OutgoingMessage, built: BuiltMessage, payload: bytes) -> Receipt:
        client = self._client
        assert client is not None
        envelope = built.envelope
        data_started = False
        try:
            options: list[str] = []
            if envelope.needs_smtputf8:
                if not client.has_extn("smtputf8"):
                    raise BadRecipient(
                        f"{debtor_label(message.debtor)}: address {message.recipient!r} has "
                        f"non-ASCII characters and mail server {self.address} does not support "
                        "them (SMTPUTF8); add an ASCII address in the source"
                    )
                options += ["SMTPUTF8", "BODY=8BITMIME"]
            code, reply = client.mail(envelope.sender, options)
            if code == 421:
                raise _Dropped
            if code != 250:
                raise self._failure(
                    code,
                    reply,
                    f"refused the sender {envelope.sender}",
                    "check from_address: the SMTP account must be allowed to send as it",
                )
            self._recipients(client, message, envelope.recipients)
            if envelope.bcc:
                code, reply = client.rcpt(envelope.bcc)
                if code not in (250, 251):
                    raise self._failure(
                        code, reply, f"refused the archive address {envelope.bcc}", "check bcc"
                    )
            code, reply = client.docmd("DATA")
            if code != 354:
                raise self._failure(code, reply, "refused the message", "")
            data_started = True
            client.send(_dot_stuffed(payload))
            code, reply = client.getreply()
        except OSError as exc:  # includes smtplib's SMTPServerDisconnected
            self._discard()
            if not data_started:
                raise _Dropped from None
            raise DeliveryUncertain(
                f"lost the connection to mail server {self.address} after sending "
                f"{built.message_id} ({exc}); it may or may not have arrived: check the "
                "mailbox or the server's log before sending it again"
            ) from None
        if code != 250:
            raise self._failure(code, reply, "refused the message", "")
        return Receipt(
            provider_message_id=built.message_id,
            accepted_at=datetime.now(UTC),
            detail=f"accepted by {self.address}: {code} {reply_text(reply)}",
        )

    def _recipients(
        self, client: smtplib.SMTP, message: OutgoingMessage, recipients: tuple[str, ...]
    ) -> None:
        """RCPT every debtor address; all must be accepted, or the message is not sent at all."""
        refused: list[tuple[str, int, str]] = []
        for address in recipients:
            code, reply = client.rcpt(address)
            if code not in (250, 251):
                refused.append((address, code, reply_text(reply)))
        if not refused:
            return
        permanent = [item for item in refused if item[1] >= 500]
        address, code, text = (permanent or refused)[0]
        if permanent and not _is_config_refusal(code, text):
            self._reset()
            raise BadRecipient(
                f"{debtor_label(message.debtor)}: mail server {self.address} refused "
                f"{address!r} ({code} {text}); correct the address in the source"
            )
        raise self._failure(code, text, f"refused the recipient {address}", "")
