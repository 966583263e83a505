"""The email channel's section of ``pipelines.yaml``, validated by pydantic.

Every key is documented in ``docs/channel-email.md``. Unknown keys are errors (inherited from
:class:`~dunning.core.channel.ChannelConfig`). The SMTP password is a :class:`SecretStr`: its
value is never part of a message, a log line or a ``repr``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from dunning.channels.email.addresses import normalise_address
from dunning.core.channel import ChannelConfig

DEFAULT_SMTP_PORT = 587
DEFAULT_SSL_PORT = 465


class SmtpSettings(BaseModel):
    """How to reach the outgoing mail server (``smtp:`` under the channel)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

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
    def _password_with_username(self) -> SmtpSettings:
        if self.username and self.password is None:
            raise ValueError(
                "smtp.username is set but smtp.password is not; add the password "
                "(for example password: ${SMTP_PASSWORD} with the value in .env)"
            )
        return self


class EmailConfig(ChannelConfig):
    """Settings of one ``type: email`` channel."""

    delivery: Literal["smtp", "file"] = "smtp"
    folder: Path = Path("out/mail")
    from_address: str
    from_name: str | None = None
    reply_to: str | None = None
    bcc: str | None = None
    smtp: SmtpSettings = SmtpSettings()
    templates: Path | None = None
    language_fallback: str = Field(default="en", pattern=r"^[a-z]{2,3}$")

    @field_validator("from_address", "reply_to", "bcc")
    @classmethod
    def _valid_address(cls, value: str | None) -> str | None:
        return None if value is None else normalise_address(value)

    @model_validator(mode="after")
    def _smtp_needs_host(self) -> EmailConfig:
        if self.delivery == "smtp" and not (self.smtp.host or "").strip():
            raise ValueError(
                "delivery 'smtp' needs smtp.host (the outgoing mail server); add it, "
                "or use delivery: file to write messages to a folder"
            )
        return self

    def folder_in(self, config_dir: Path) -> Path:
        """The file-delivery folder; a relative ``folder`` is relative to ``config_dir``."""
        return config_dir / self.folder.expanduser()

    def templates_in(self, config_dir: Path) -> Path | None:
        """The template override folder, if any, resolved like :meth:`folder_in`."""
        return None if self.templates is None else config_dir / self.templates.expanduser()
