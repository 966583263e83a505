"""Email to a print-and-post service: one letter per email, its PDF attached.

The ``Message-ID`` is derived from the message's idempotency key only, so every attempt to send
the same letter carries the same id and the service can drop a duplicate. SMTP failures are
classified as in :mod:`dunning.core.smtp`: a server that cannot be reached, a dropped connection
and 4xx replies are retryable; 5xx replies and a refused login are not.
"""

from __future__ import annotations

import hashlib
import smtplib
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate

from dunning.channels.letter.config import PrintService
from dunning.channels.letter.labels import label
from dunning.core.errors import SendError
from dunning.core.smtp import SmtpSession

KEY_HEADER = "X-Dunning-Key"


def message_id_for(key: str, from_address: str) -> str:
    """``<sha256(key)[:32]@sender-domain>``: the same key always gives the same id."""
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
    domain = from_address.rpartition("@")[2] or "dunning.invalid"
    return f"<{digest}@{domain}>"


def _address(address: str, name: str | None) -> Address:
    username, _, domain = address.rpartition("@")
    return Address(display_name=name or "", username=username, domain=domain)


class PrintMailer(SmtpSession):
    """Sends letters to ``service.to`` over one SMTP session per batch (opened on demand)."""

    def __init__(self, service: PrintService, language: str) -> None:
        super().__init__(service.smtp)
        self.service = service
        self.language = language

    def build(
        self, key: str, pdf: bytes, filename: str, recipient_lines: list[str]
    ) -> EmailMessage:
        """The email for one letter: who it goes to (to check against the print) and the PDF."""
        service = self.service
        message = EmailMessage(policy=policy.SMTP)
        message["Subject"] = f"{label('print_subject', self.language)}: {recipient_lines[0]}"
        message["From"] = _address(service.from_address, service.from_name)
        message["To"] = _address(service.to, None)
        message["Date"] = formatdate(localtime=True)
        message["Message-ID"] = message_id_for(key, service.from_address)
        message[KEY_HEADER] = key
        body = [label("print_body", self.language), "", *recipient_lines, "", filename]
        message.set_content("\n".join(body) + "\n")
        message.add_attachment(pdf, maintype="application", subtype="pdf", filename=filename)
        return message

    def send(self, message: EmailMessage) -> str:
        """Hand ``message`` to the mail server; returns its ``Message-ID``.

        Raises :class:`SendError`, retryable when the server may accept it later.
        """
        message_id = str(message["Message-ID"])
        to, sender = self.service.to, self.service.from_address
        self.open()
        client = self._client
        assert client is not None
        try:
            client.sendmail(sender, [to], message.as_bytes())
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = next(iter(exc.recipients.values()))
            raise self._failure(
                code, reply, f"refused the print service address {to}", _fix("print_service.to")
            ) from None
        except smtplib.SMTPSenderRefused as exc:
            raise self._failure(
                exc.smtp_code,
                exc.smtp_error,
                f"refused the sender {sender}",
                _fix("print_service.from_address"),
            ) from None
        except smtplib.SMTPResponseException as exc:
            raise self._failure(exc.smtp_code, exc.smtp_error, "refused the letter", "") from None
        except (smtplib.SMTPException, OSError) as exc:
            self._discard()
            raise SendError(
                f"lost the connection to mail server {self.address} while sending {message_id} "
                f"({exc}); it will be retried with the same Message-ID",
                retryable=True,
            ) from None
        return message_id


def _fix(key: str) -> str:
    return f"check '{key}'; it will not be retried"
