"""Email delivery: dossiers and notices to the agency's intake address over SMTP.

One SMTP session per batch, opened on the first message and re-opened after the server dropped
it. Failures are classified: a server that cannot be reached, a dropped connection and 4xx
replies are retryable; 5xx replies and a refused login are not. A dossier that is sent again
after a dropped connection carries the same ``Message-ID`` and reference, so the agency can
recognise the duplicate.
"""

from __future__ import annotations

import smtplib
import ssl
from datetime import UTC, datetime
from email.message import EmailMessage

from dunning.channels.agency.bundle import Renderer
from dunning.channels.agency.config import SmtpSettings
from dunning.channels.agency.mail_message import dossier_email, update_email
from dunning.core.errors import SendError
from dunning.core.handoff.dossier import AgencyUpdate, Dossier
from dunning.core.models import Receipt


def _text(reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    return " ".join(text.split())


class EmailDelivery:
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
        self.smtp = smtp
        self.renderer = renderer
        self.to = to
        self.from_address = from_address
        self.from_name = from_name
        self.address = f"{smtp.host}:{smtp.port}"
        self._client: smtplib.SMTP | None = None

    def open(self) -> None:
        """Connect and log in now, unless connected; raises :class:`SendError`."""
        if self._client is None:
            self._client = self._connect()

    def close(self) -> None:
        """End the session politely; a server that already went away is not an error."""
        client, self._client = self._client, None
        if client is None:
            return
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            client.close()

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
            raise self._failure(code, reply, what, "to") from None
        except smtplib.SMTPSenderRefused as exc:
            what = f"refused the sender {self.from_address}"
            raise self._failure(exc.smtp_code, exc.smtp_error, what, "from_address") from None
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

    def _failure(self, code: int, reply: bytes | str, what: str, key: str) -> SendError:
        """A :class:`SendError` for an SMTP reply: 4xx retryable, 5xx permanent."""
        self._reset()
        retryable = not 500 <= code < 600
        if retryable:
            advice = "it will be retried"
        elif key:
            advice = f"check '{key}'; it will not be retried"
        else:
            advice = "it will not be retried"
        return SendError(
            f"mail server {self.address} {what}: {code} {_text(reply)}; {advice}",
            retryable=retryable,
        )

    def _reset(self) -> None:
        if self._client is None:
            return
        try:
            self._client.rset()
        except (smtplib.SMTPException, OSError):
            self._discard()

    def _discard(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()

    def _connect(self) -> smtplib.SMTP:
        settings = self.smtp
        try:
            client: smtplib.SMTP
            if settings.security == "ssl":
                client = smtplib.SMTP_SSL(
                    settings.host,
                    settings.port,
                    timeout=settings.timeout,
                    context=ssl.create_default_context(),
                )
            else:
                client = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
        except ssl.SSLError as exc:
            raise self._tls_error(exc) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise SendError(
                f"cannot connect to mail server {self.address} ({exc}); check smtp.host and "
                "smtp.port (it will be retried)",
                retryable=True,
            ) from None
        try:
            self._start_session(client)
        except BaseException:
            client.close()
            raise
        return client

    def _start_session(self, client: smtplib.SMTP) -> None:
        settings = self.smtp
        try:
            client.ehlo()
            if settings.security == "starttls":
                if not client.has_extn("starttls"):
                    raise SendError(
                        f"mail server {self.address} does not offer STARTTLS; set "
                        "smtp.security to 'ssl' (usually port 465) or 'none'",
                        retryable=False,
                    )
                client.starttls(context=ssl.create_default_context())
                client.ehlo()
            if settings.username:
                password = settings.password.get_secret_value() if settings.password else ""
                client.login(settings.username, password)
        except smtplib.SMTPAuthenticationError as exc:
            raise SendError(
                f"mail server {self.address} refused the login of user {settings.username!r} "
                f"({exc.smtp_code}); check smtp.username and smtp.password",
                retryable=False,
            ) from None
        except smtplib.SMTPNotSupportedError:
            raise SendError(
                f"mail server {self.address} does not support login (AUTH); remove "
                "smtp.username, or use smtp.security 'starttls' or 'ssl' so it is offered",
                retryable=False,
            ) from None
        except ssl.SSLError as exc:
            raise self._tls_error(exc) from None
        except smtplib.SMTPResponseException as exc:
            raise self._failure(exc.smtp_code, exc.smtp_error, "refused the session", "") from None
        except (smtplib.SMTPException, OSError) as exc:
            raise SendError(
                f"mail server {self.address} broke off the session ({exc}); it will be retried",
                retryable=True,
            ) from None

    def _tls_error(self, exc: ssl.SSLError) -> SendError:
        return SendError(
            f"TLS with mail server {self.address} failed ({exc.reason or exc}); check "
            "smtp.security and smtp.port (465 is usually 'ssl', 587 'starttls')",
            retryable=False,
        )
