"""The ``email`` channel: renders reminders from templates and delivers them by SMTP or to files."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import ClassVar

from dunning.channels.email.addresses import debtor_recipients
from dunning.channels.email.config import EmailConfig
from dunning.channels.email.errors import TemplateFailure
from dunning.channels.email.filedrop import FileConnection, prepare_folder
from dunning.channels.email.message import BuiltMessage, build_message
from dunning.channels.email.render import SHIPPED_TEMPLATES, Renderer
from dunning.channels.email.samples import sample_messages
from dunning.channels.email.smtp import SmtpConnection
from dunning.core.channel import Channel, ChannelConfig, ChannelContext, Connection, OutgoingMessage
from dunning.core.errors import ConfigError, PluginError
from dunning.core.models import Debtor


class EmailChannel(Channel):
    """Email to the debtor's address(es): multipart text + HTML, rendered per language.

    ``delivery: smtp`` sends a batch over one SMTP connection; ``delivery: file`` writes one
    ``.eml`` per message into a folder. Settings: :class:`EmailConfig`.
    """

    kind: ClassVar[str] = "email"
    attaches_documents: ClassVar[bool] = True
    Config: ClassVar[type[ChannelConfig]] = EmailConfig

    def __init__(self, config: ChannelConfig, context: ChannelContext) -> None:
        if not isinstance(config, EmailConfig):
            raise PluginError(
                f"channel {context.name!r}: the email channel needs an EmailConfig, "
                f"got {type(config).__name__}"
            )
        super().__init__(config, context)
        self.settings = config
        self.renderer = Renderer(
            config.templates_in(context.config_dir), fallback_language=config.language_fallback
        )

    def recipient(self, debtor: Debtor) -> str:
        """The debtor's address(es), validated and normalised, joined by ``", "``."""
        return debtor_recipients(debtor)

    def connect(self) -> AbstractContextManager[Connection]:
        """One SMTP connection (or the output folder) for a batch; see :class:`Channel`."""
        return self._session()

    @contextmanager
    def _session(self) -> Iterator[Connection]:
        if self.settings.delivery == "file":
            files = FileConnection(self.settings.folder_in(self.context.config_dir), self.build)
            files.open()
            yield files
            return
        smtp = SmtpConnection(self.settings.smtp, self.build)
        smtp.open()
        try:
            yield smtp
        finally:
            smtp.close()

    def build(self, message: OutgoingMessage) -> BuiltMessage:
        """Render ``message`` and wrap it as MIME with its envelope.

        A template problem raises :class:`TemplateFailure` (a :class:`ConfigError` that is also a
        permanent :class:`~dunning.core.errors.SendError`).
        """
        try:
            rendered = self.renderer.render(message)
        except ConfigError as exc:
            raise TemplateFailure(f"channel {self.context.name!r}: {exc}") from None
        return build_message(message, rendered, self.settings)

    def check(self, templates: Collection[str] = ()) -> None:
        """Render every template set with sample data; in file mode, prove the folder is writable.

        The samples (see :func:`sample_messages`) reach the branches templates have: one invoice
        and three, earlier contacts, broken agreements, an early-payment discount and, for
        ``confirm-*`` templates, every confirmation event.

        ``templates`` are the names the pipeline's steps use: each must exist (at least in the
        fallback language).

        Raises :class:`ConfigError` naming the channel and what to fix.
        """
        where = f"channel {self.context.name!r} of pipeline {self.context.pipeline!r}"
        override = self.renderer.override
        if override is not None and not override.is_dir():
            raise ConfigError(
                f"{where}: templates folder {override} does not exist; create it or remove "
                "the 'templates' key"
            )
        languages = self.renderer.languages()
        if self.settings.language_fallback not in languages:
            raise ConfigError(
                f"{where}: language_fallback {self.settings.language_fallback!r} has no "
                f"templates; use one of: {', '.join(languages)}"
            )
        sets = set(self.renderer.template_sets())
        sets.update((self.settings.language_fallback, name) for name in SHIPPED_TEMPLATES)
        sets.update((self.settings.language_fallback, name) for name in templates)
        for language, template in sorted(sets):
            for sample in sample_messages(template, self.context.creditor):
                try:
                    build_message(sample, self.renderer.render(sample, language), self.settings)
                except ConfigError as exc:
                    raise ConfigError(f"{where}: {exc}") from None
        if self.settings.delivery == "file":
            folder = self.settings.folder_in(self.context.config_dir)
            try:
                prepare_folder(folder)
            except OSError as exc:
                raise ConfigError(
                    f"{where}: cannot write email files to {folder}: {exc.strerror or exc}; "
                    "check 'folder' and its permissions"
                ) from None
