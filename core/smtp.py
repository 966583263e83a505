"""SMTP for the channels that send mail: the ``smtp:`` settings and the session they share.

Connecting (security ``none``, ``starttls`` or ``ssl``), EHLO, STARTTLS and login live here once,
and so does the judgement of every failure: a server that cannot be reached, a session broken
off and a 4xx reply are a retryable :class:`SendError`; a TLS failure, a refused login and a 5xx
reply are not. Each message names the ``smtp.*`` key to check. The channels drive the mail
transaction itself, because what a refusal means (a debtor's bad address, a wrong intake
address) is theirs to say.
"""

from __future__ import annotations

import smtplib
import ssl
from typing import Any, ClassVar, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from dunning.core.errors import SendError

DEFAULT_SMTP_PORT = 587
DEFAULT_SSL_PORT = 465


class SmtpSettings(BaseModel):
    """How to reach the outgoing mail server (``smtp:`` under a channel).

    ``host`` may be left out here, for a channel that does not always send by SMTP; a channel
    that always does requires it in a subclass. ``password_variable`` is the ``.env`` variable
    the error message suggests for the password.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    password_variable: ClassVar[str] = "SMTP_PASSWORD"

    host: str | None = None
    port: int = Field(default=DEFAULT_SMTP_PORT, ge=1, le=65535)
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username: str | None = None
    password: SecretStr | None = None
    timeout: float = Field(default=30, gt=0)

    @model_validator(mode="before")
    @classmethod
    def _ssl_port_default(cls, data: Any) -> Any:
        """``security: ssl`` without a port means the implicit-TLS port 465, not 587."""
        if isinstance(data, dict) and data.get("security") == "ssl" and "port" not in data:
            return {**data, "port": DEFAULT_SSL_PORT}
        return data

    @model_validator(mode="after")
    def _password_with_username(self) -> Self:
        if self.username and self.password is None:
            raise ValueError(
                "smtp.username is set but smtp.password is not; add the password "
                f"(for example password: ${{{self.password_variable}}} with the value in .env)"
            )
        return self

    @property
    def address(self) -> str:
        """``host:port``, as messages name the server."""
        return f"{self.host}:{self.port}"


def reply_text(reply: bytes | str) -> str:
    """A server reply on one line, for a message."""
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    return " ".join(text.split())


def reply_error(address: str, code: int, reply: bytes | str, what: str, fix: str) -> SendError:
    """A :class:`SendError` for an SMTP reply: 4xx is retryable; 5xx is not, and says ``fix``."""
    retryable = not 500 <= code < 600
    advice = "it will be retried" if retryable else (fix or "it will not be retried")
    return SendError(
        f"mail server {address} {what}: {code} {reply_text(reply)}; {advice}",
        retryable=retryable,
    )


def connect(settings: SmtpSettings) -> smtplib.SMTP:
    """An SMTP client, connected, secured and logged in as ``settings`` say.

    Raises :class:`SendError`, retryable when the server may come back.
    """
    address = settings.address
    try:
        client: smtplib.SMTP
        if settings.security == "ssl":
            context = ssl.create_default_context()
            client = smtplib.SMTP_SSL(
                settings.host or "", settings.port, timeout=settings.timeout, context=context
            )
        else:
            client = smtplib.SMTP(settings.host or "", settings.port, timeout=settings.timeout)
    except ssl.SSLError as exc:
        raise _tls_error(address, exc) from None
    except TimeoutError:
        raise SendError(
            f"mail server {address} did not answer within {settings.timeout:g} s; "
            "check smtp.host and smtp.port (it will be retried)",
            retryable=True,
        ) from None
    except ConnectionRefusedError:
        raise SendError(
            f"cannot connect to mail server {address}: it refused the connection; is it "
            "running and is smtp.port right? (it will be retried)",
            retryable=True,
        ) from None
    except (smtplib.SMTPException, OSError) as exc:
        raise SendError(
            f"cannot connect to mail server {address}: {exc}; check smtp.host and "
            "smtp.port (it will be retried)",
            retryable=True,
        ) from None
    try:
        _start_session(client, settings)
    except BaseException:
        client.close()
        raise
    return client


def _start_session(client: smtplib.SMTP, settings: SmtpSettings) -> None:
    address = settings.address
    try:
        client.ehlo()
        if settings.security == "starttls":
            if not client.has_extn("starttls"):
                raise SendError(
                    f"mail server {address} does not offer STARTTLS; set "
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
            f"mail server {address} refused the login of user {settings.username!r} "
            f"({exc.smtp_code}); check smtp.username and smtp.password",
            retryable=False,
        ) from None
    except smtplib.SMTPNotSupportedError:
        raise SendError(
            f"mail server {address} does not support login (AUTH); remove "
            "smtp.username, or use smtp.security 'starttls' or 'ssl' so it is offered",
            retryable=False,
        ) from None
    except ssl.SSLError as exc:
        raise _tls_error(address, exc) from None
    except smtplib.SMTPResponseException as exc:
        raise reply_error(
            address, exc.smtp_code, exc.smtp_error, "refused the session", ""
        ) from None
    except (smtplib.SMTPException, OSError) as exc:
        raise SendError(
            f"mail server {address} broke off the session: {exc}; it will be retried",
            retryable=True,
        ) from None


def _tls_error(address: str, exc: ssl.SSLError) -> SendError:
    return SendError(
        f"TLS with mail server {address} failed ({exc.reason or exc}); check "
        "smtp.security and smtp.port (465 is usually 'ssl', 587 'starttls')",
        retryable=False,
    )


class SmtpSession:
    """One SMTP session for a batch, opened on demand; subclasses send through ``_client``.

    :meth:`open` connects (see :func:`connect`); :meth:`close` says QUIT. :meth:`_failure` turns
    a refusal into a :class:`SendError` and resets the transaction so the next message starts
    clean; :meth:`_discard` drops a connection that is no longer usable (the next
    :meth:`open` makes a new one).
    """

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self.address = settings.address
        self._client: smtplib.SMTP | None = None

    def open(self) -> None:
        """Connect now, unless connected; raises :class:`SendError` (retryable when the server
        may come back)."""
        if self._client is None:
            self._client = connect(self.settings)

    def close(self) -> None:
        """End the session politely; a server that already went away is not an error."""
        client, self._client = self._client, None
        if client is None:
            return
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            client.close()

    def _failure(self, code: int, reply: bytes | str, what: str, fix: str) -> SendError:
        """A :class:`SendError` for an SMTP reply (see :func:`reply_error`); resets first."""
        self._reset()
        return reply_error(self.address, code, reply, what, fix)

    def _reset(self) -> None:
        """RSET after a failed transaction so the next message starts clean."""
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
