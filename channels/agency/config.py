"""The agency channel's section of ``pipelines.yaml``, validated by pydantic.

``delivery`` chooses how dossiers reach the agency: ``folder`` (a folder the agency picks files up
from, or a shared drive), ``email`` (the agency's intake address) or ``http`` (the agency's API).
Each delivery has its own keys; a key of another delivery is an error, so a typo in ``delivery``
cannot go unnoticed. Secrets (``token``, ``smtp.password``) are :class:`SecretStr`: never part of
a message, a log line or a ``repr``.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal

from email_validator import EmailNotValidError, validate_email
from pydantic import Field, SecretStr, field_validator, model_validator

from dunning.core.channel import ChannelConfig
from dunning.core.smtp import SmtpSettings as SharedSmtpSettings

KEYS_BY_DELIVERY: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "folder": (frozenset({"folder"}), frozenset()),
    "email": (frozenset({"to", "from_address", "smtp"}), frozenset({"from_name"})),
    "http": (
        frozenset({"url"}),
        frozenset(
            {
                "updates_url",
                "token",
                "timeout",
                "max_attempts",
                "retry_wait_seconds",
                "max_retry_after_seconds",
            }
        ),
    ),
}
"""Per delivery: the keys it needs, and the keys it may have (besides the common ones)."""


def _address(value: str) -> str:
    try:
        return str(validate_email(value, check_deliverability=False).normalized)
    except EmailNotValidError as exc:
        raise ValueError(f"{value!r} is not a valid email address ({exc})") from None


class SmtpSettings(SharedSmtpSettings):
    """How to reach the outgoing mail server (``smtp:`` under the channel); ``host`` is required."""

    password_variable: ClassVar[str] = "AGENCY_SMTP_PASSWORD"

    host: str = Field(min_length=1)


class AgencyConfig(ChannelConfig):
    """Settings of one ``type: agency`` channel (see the module docstring for ``delivery``)."""

    delivery: Literal["folder", "email", "http"]
    agency_name: str | None = None
    """Shown in the dossier and its summary ("overgedragen aan ...")."""
    language: Literal["nl", "en"] = "nl"
    """Language of the PDF summary and of the emails to the agency (headings, dates, amounts)."""

    folder: Path | None = None
    """``folder``: where dossiers go; relative to the folder of ``pipelines.yaml``."""

    to: str | None = None
    """``email``: the agency's intake address."""
    from_address: str | None = None
    from_name: str | None = None
    smtp: SmtpSettings | None = None

    url: str | None = None
    """``http``: the endpoint dossiers are POSTed to."""
    updates_url: str | None = None
    """``http``: where payment notices are POSTed (default: ``url``)."""
    token: SecretStr | None = None
    """``http``: sent as ``Authorization: Bearer <token>``."""
    timeout: float = Field(default=30, gt=0)
    """``http``: seconds to wait for the connection and for the answer."""
    max_attempts: int = Field(default=4, ge=1, le=20)
    retry_wait_seconds: float = Field(default=1, ge=0)
    """``http``: the first wait between attempts; it doubles after each one."""
    max_retry_after_seconds: float = Field(default=60, ge=0)
    """``http``: a 429 or 503 asking to wait longer than this ends the attempts for this run."""

    @field_validator("to", "from_address")
    @classmethod
    def _valid_address(cls, value: str | None) -> str | None:
        return None if value is None else _address(value)

    @field_validator("url", "updates_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError(f"{value!r} is not an http:// or https:// address")
        return value

    @model_validator(mode="after")
    def _keys_fit_delivery(self) -> AgencyConfig:
        required, optional = KEYS_BY_DELIVERY[self.delivery]
        missing = sorted(key for key in required if getattr(self, key) is None)
        if missing:
            raise ValueError(f"delivery: {self.delivery} needs {' and '.join(missing)}")
        others = set().union(*(r | o for r, o in KEYS_BY_DELIVERY.values())) - required - optional
        stray = sorted(others & self.model_fields_set)
        if stray:
            raise ValueError(
                f"{', '.join(stray)} {'is' if len(stray) == 1 else 'are'} not used with "
                f"delivery: {self.delivery}; remove {'it' if len(stray) == 1 else 'them'} or "
                "change delivery"
            )
        return self

    def folder_in(self, config_dir: Path) -> Path:
        """The delivery folder; a relative ``folder`` is relative to ``config_dir``."""
        assert self.folder is not None, "only for delivery: folder"
        return config_dir / self.folder.expanduser()

    def endpoint_for_updates(self) -> str:
        """Where payment notices are POSTed: ``updates_url``, else ``url``."""
        endpoint = self.updates_url or self.url
        assert endpoint is not None, "only for delivery: http"
        return endpoint
