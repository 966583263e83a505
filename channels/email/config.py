"""The email channel's section of ``pipelines.yaml``, validated by pydantic.

Every key is documented in ``docs/channel-email.md``. Unknown keys are errors (inherited from
:class:`~dunning.core.channel.ChannelConfig`). The SMTP password is a :class:`SecretStr`: its
value is never part of a message, a log line or a ``repr``. ``smtp`` is the core's
:class:`~dunning.core.smtp.SmtpSettings`; its ``host`` is required here only with
``delivery: smtp``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from dunning.channels.email.addresses import normalise_address
from dunning.core.channel import ChannelConfig
from dunning.core.smtp import SmtpSettings as SmtpSettings


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
