"""The letter channel's section of ``pipelines.yaml``, validated by pydantic.

Unknown keys are errors (inherited from :class:`~dunning.core.channel.ChannelConfig`). Relative
paths (``folder``, ``templates``) are relative to the folder of ``pipelines.yaml``. The optional
``print_service`` also emails every letter, as a PDF attachment, to a print-and-post service;
its SMTP password is a :class:`SecretStr`, never part of a message, a log line or a ``repr``.

Example::

    letter:
      type: letter
      folder: out/letters
      sender_address: [Kerkstraat 12, 3511 AB Utrecht]
      place: Utrecht            # optional; default: the city of the last sender_address line
      language: nl              # for debtors whose language has no templates
      templates: letters        # optional override folder: <language>/<template>.txt
      print_service:            # optional
        to: print@post.example.nl
        from_address: debiteuren@voorbeeld.nl
        smtp:                   # block style: ${...} inside {...} is a YAML error
          host: smtp.voorbeeld.nl
          username: debiteuren
          password: ${PRINT_SMTP_PASSWORD}
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import ClassVar

from email_validator import EmailNotValidError, validate_email
from pydantic import BaseModel, ConfigDict, Field, field_validator

from dunning.core.channel import ChannelConfig
from dunning.core.smtp import SmtpSettings as SharedSmtpSettings

DUTCH_POSTCODE = re.compile(r"^\s*\d{4}\s?[A-Za-z]{2}\s+")
"""``3511 AB `` in front of a Dutch city name."""


def _address(value: str) -> str:
    try:
        return str(validate_email(value, check_deliverability=False).normalized)
    except EmailNotValidError as exc:
        raise ValueError(f"{value!r} is not a valid email address ({exc})") from None


class PrintSmtpSettings(SharedSmtpSettings):
    """The mail server for the print service (``print_service.smtp``); ``host`` is required."""

    password_variable: ClassVar[str] = "PRINT_SMTP_PASSWORD"

    host: str = Field(min_length=1)


class PrintService(BaseModel):
    """A print-and-post service that takes letters by email: each PDF is sent to ``to``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    to: str
    from_address: str
    from_name: str | None = None
    smtp: PrintSmtpSettings

    @field_validator("to", "from_address")
    @classmethod
    def _valid_address(cls, value: str) -> str:
        return _address(value)


class LetterConfig(ChannelConfig):
    """Settings of one ``type: letter`` channel (see the module docstring)."""

    folder: Path = Path("out/letters")
    """Outbox for printing: each letter is ``<folder>/<date>/<key>.pdf``."""
    sender_address: list[str] = Field(min_length=1)
    """The creditor's postal address lines (street, postcode and city): letterhead and the
    return address above the window."""
    place: str | None = None
    """The place in "Utrecht, 4 maart 2026"; default: the last ``sender_address`` line without
    its Dutch postcode."""
    templates: Path | None = None
    """Folder whose ``<language>/<template>.txt`` files replace or add to the built-in ones."""
    language: str = Field(default="nl", pattern=r"^[a-z]{2,3}$")
    """The language of letters to debtors whose own language has no templates."""
    print_service: PrintService | None = None

    @field_validator("sender_address")
    @classmethod
    def _no_blank_lines(cls, lines: list[str]) -> list[str]:
        cleaned = [line.strip() for line in lines if line.strip()]
        if not cleaned:
            raise ValueError("sender_address needs at least one line (street, postcode and city)")
        return cleaned

    def folder_in(self, config_dir: Path) -> Path:
        """The outbox folder; a relative ``folder`` is relative to ``config_dir``."""
        return config_dir / self.folder.expanduser()

    def templates_in(self, config_dir: Path) -> Path | None:
        """The template override folder, if any, resolved like :meth:`folder_in`."""
        return None if self.templates is None else config_dir / self.templates.expanduser()

    def place_name(self) -> str:
        """``place``, else the city of the last ``sender_address`` line."""
        if self.place and self.place.strip():
            return self.place.strip()
        return DUTCH_POSTCODE.sub("", self.sender_address[-1]).strip()
