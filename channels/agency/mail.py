"""Email delivery: dossiers and notices to the agency's intake address over SMTP.

One SMTP session per batch, opened on the first message and re-opened after the server dropped
it. Failures are classified: a server that cannot be reached, a dropped connection and 4xx
replies are retryable; 5xx replies and a refused login are not. A dossier that is sent again
after a dropped connection carries the same ``Message-ID`` and reference, so the agency can
recognise the duplicate.
"""

from __future__ import annotations

import smtplib
from datetime import UTC, datetime
from email.message import EmailMessage

from dunning.channels.agency.bundle import Renderer
from dunning.channels.agency.config import SmtpSettings
from dunning.channels.agency.mail_message import dossier_email, update_email
from dunning.core.errors import SendError
from dunning.core.handoff.dossier import AgencyUpdate, Dossier
from dunning.core.models import Receipt
from dunning.core.smtp import SmtpSession


def _check(key: str) -> str:
    return f"check '{key}'; it will not be retried"


class EmailDelivery(SmtpSession):
    """Sends to ``to`` from ``from_address`` through ``smtp`` (see the module docstring)."""

    def __init__(
        self,
        smtp: SmtpSettings,
        renderer: Renderer,
        *,
        to: str,
        from_address: str,
        from_name: str | None = None,
    ) -> None:
        super().__init__(smtp)
        self.renderer = renderer
        self.to = to
        self.from_address = from_address
        self.from_name = from_name

    def deliver_dossier(self, dossier: Dossier) -> Receipt:
        rendered = self.renderer.dossier(dossier)
        message = dossier_email(
            dossier,
            rendered,
            to=self.to,
            from_address=self.from_address,
            from_name=self.from_name,
            language=self.renderer.language,
        )
        return self._send(message)

    def deliver_update(self, update: AgencyUpdate) -> Receipt:
        message = update_email(
            update,
            self.renderer.update(update),
            to=self.to,
            from_address=self.from_address,
            from_name=self.from_name,
            language=self.renderer.language,
        )
        return self._send(message)

    def _send(self, message: EmailMessage) -> Receipt:
        message_id = str(message["Message-ID"])
        self.open()
        client = self._client
        assert client is not None
        try:
            client.sendmail(self.from_address, [self.to], message.as_bytes())
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = next(iter(exc.recipients.values()))
            what = f"refused the intake address {self.to}"
            raise self._failure(code, reply, what, _check("to")) from None
        except smtplib.SMTPSenderRefused as exc:
            what = f"refused the sender {self.from_address}"
            raise self._failure(
                exc.smtp_code, exc.smtp_error, what, _check("from_address")
            ) from None
        except smtplib.SMTPResponseException as exc:
            raise self._failure(exc.smtp_code, exc.smtp_error, "refused the message", "") from None
        except (smtplib.SMTPException, OSError) as exc:
            self._discard()
            raise SendError(
                f"lost the connection to mail server {self.address} while sending {message_id} "
                f"({exc}); it will be retried with the same Message-ID",
                retryable=True,
            ) from None
        return Receipt(message_id, datetime.now(UTC), f"accepted by {self.address} for {self.to}")
