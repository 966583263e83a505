"""The ``letter`` channel: reminders and legal letters on paper, as PDFs to print and post."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from typing import ClassVar

from dunning.channels.letter.address import address_lines
from dunning.channels.letter.config import LetterConfig
from dunning.channels.letter.delivery import LetterOutbox
from dunning.channels.letter.layout import letter_pdf
from dunning.channels.letter.print_service import PrintMailer
from dunning.channels.letter.render import SHIPPED_TEMPLATES, LetterRenderer
from dunning.core.channel import Channel, ChannelConfig, ChannelContext, Connection, OutgoingMessage
from dunning.core.config.schema import LawConfig
from dunning.core.errors import BadRecipient, ConfigError, PluginError, SendError
from dunning.core.files import prepare_folder
from dunning.core.law.claim import build_claim
from dunning.core.models import Debtor, DebtorKind, Invoice, PaymentDetails, Receipt
from dunning.core.pdf import FontFiles, find_fonts

KIND = "letter"
SAMPLE_DAY = date(2026, 3, 17)


class LetterConnection:
    """Renders and delivers letters for one batch (see :class:`Connection`)."""

    def __init__(self, channel: LetterChannel, outbox: LetterOutbox, fonts: FontFiles) -> None:
        self.channel = channel
        self.outbox = outbox
        self.fonts = fonts

    def send(self, message: OutgoingMessage) -> Receipt:
        """Write (once per idempotency key) and, with a print service, email the letter.

        A template or font problem is a permanent :class:`SendError`; an unusable address a
        :class:`BadRecipient`. Every error names the channel.
        """
        where = self.channel.where
        try:
            lines = address_lines(message.debtor, self.channel.settings.language)
            return self.outbox.deliver(
                message.idempotency_key,
                message.today,
                lambda: self.channel.pdf(message, self.fonts),
                lines,
            )
        except BadRecipient as exc:
            raise BadRecipient(f"{where}: {exc}") from None
        except SendError as exc:
            raise SendError(f"{where}: {exc}", retryable=exc.retryable) from None
        except ConfigError as exc:  # a template or the font: certainly nothing was written
            raise SendError(f"{where}: {exc}", retryable=False) from None


class LetterChannel(Channel):
    """Letters on paper: one PDF per debtor and step in ``<folder>/<date>/`` for printing and
    posting in a left-window envelope, optionally also emailed to a print service.

    Settings: :class:`LetterConfig`. The 14-day term a letter states counts with the
    pipeline's ``law.receipt_days`` for ``letter`` (default 2 business days), as the ledger's
    proof of the letter does.
    """

    kind: ClassVar[str] = KIND
    Config: ClassVar[type[ChannelConfig]] = LetterConfig

    def __init__(self, config: ChannelConfig, context: ChannelContext) -> None:
        if not isinstance(config, LetterConfig):
            raise PluginError(
                f"channel {context.name!r}: the letter channel needs a LetterConfig, "
                f"got {type(config).__name__}"
            )
        super().__init__(config, context)
        self.settings = config
        self.where = f"letter channel {context.name!r} of pipeline {context.pipeline!r}"
        law = context.pipeline_config.law if context.pipeline_config else LawConfig()
        self.law = law
        self.renderer = LetterRenderer(
            config.templates_in(context.config_dir),
            config.language,
            receipt_days=law.receipt_days.get(KIND, 0),
        )

    def recipient(self, debtor: Debtor) -> str:
        """The postal address on one line (``Kerkstraat 1, 1234 AB Utrecht``).

        Raises :class:`BadRecipient` when it is missing, lacks postcode and city, or does not
        fit the envelope window.
        """
        address_lines(debtor, self.settings.language)
        return ", ".join(line.strip() for line in debtor.address if line.strip())

    def connect(self) -> AbstractContextManager[Connection]:
        """The outbox (and print-service session) for a batch; see :class:`Channel`.

        Raises :class:`SendError` when the folder cannot be written or no PDF font is found.
        """
        return self._session()

    @contextmanager
    def _session(self) -> Iterator[Connection]:
        try:
            fonts = find_fonts()
        except ConfigError as exc:
            raise SendError(f"{self.where}: {exc}", retryable=False) from None
        service = self.settings.print_service
        mailer = PrintMailer(service, self.settings.language) if service else None
        outbox = LetterOutbox(self.settings.folder_in(self.context.config_dir), mailer)
        try:
            outbox.open()
        except SendError as exc:
            raise SendError(f"{self.where}: {exc}", retryable=exc.retryable) from None
        try:
            yield LetterConnection(self, outbox, fonts)
        finally:
            outbox.close()

    def pdf(self, message: OutgoingMessage, fonts: FontFiles | None = None) -> bytes:
        """The letter for ``message`` as PDF bytes (nothing written).

        Raises :class:`ConfigError` (template, font) or :class:`BadRecipient` (address).
        """
        return letter_pdf(
            message,
            self.renderer.render(message),
            sender_address=self.settings.sender_address,
            place=self.settings.place_name(),
            fonts=fonts,
        )

    def check(self, templates: Collection[str] = ()) -> None:
        """The folder can be written, a PDF font is found, and every template the steps use
        exists in Dutch (and in the fallback language) and renders into a PDF with sample data.

        Raises :class:`ConfigError` naming the channel and what to fix.
        """
        override = self.renderer.override
        if override is not None and not override.is_dir():
            raise ConfigError(
                f"{self.where}: templates folder {override} does not exist; create it or remove "
                "the 'templates' key"
            )
        try:
            fonts = find_fonts()
        except ConfigError as exc:
            raise ConfigError(f"{self.where}: {exc}") from None
        languages = sorted({"nl", self.settings.language})
        for template in sorted(set(templates) or set(SHIPPED_TEMPLATES)):
            for language in languages:
                if not self.renderer.has(language, template):
                    raise ConfigError(
                        f"{self.where}: no letter template {language}/{template}.txt; add it "
                        f"to the templates folder or use a built-in one: "
                        f"{', '.join(SHIPPED_TEMPLATES)}"
                    )
                for sample in sample_messages(template, self):
                    try:
                        letter_pdf(
                            sample,
                            self.renderer.render(sample, language),
                            sender_address=self.settings.sender_address,
                            place=self.settings.place_name(),
                            fonts=fonts,
                        )
                    except ConfigError as exc:
                        raise ConfigError(f"{self.where}: {exc}") from None
        folder = self.settings.folder_in(self.context.config_dir)
        try:
            prepare_folder(folder)
        except OSError as exc:
            raise ConfigError(
                f"{self.where}: cannot write letters to {folder}: {exc.strerror or exc}; check "
                "'folder' and its permissions"
            ) from None


def sample_messages(template: str, channel: LetterChannel) -> Iterator[OutgoingMessage]:
    """What :meth:`LetterChannel.check` renders ``template`` with: one invoice with a payment
    link, and two (one partly paid) paid by transfer with a claim as on a legal step."""
    debtor = Debtor(
        debtor_id="D000",
        name="Voorbeeld B.V.",
        contact_name="Jan de Vries",
        first_name="Jan",
        address=("Kerkstraat 1", "1234 AB Utrecht"),
    )
    invoices = tuple(
        Invoice(
            number=f"2026-{12 + i:04d}",
            debtor_id=debtor.debtor_id,
            issue_date=SAMPLE_DAY - timedelta(days=45 + i),
            due_date=SAMPLE_DAY - timedelta(days=15 + i),
            amount_total=Decimal("1234.56"),
            amount_open=Decimal("1234.56") - (Decimal(200) if i else 0),
        )
        for i in range(2)
    )
    creditor = channel.context.creditor
    base = OutgoingMessage(
        idempotency_key=f"check:{template}",
        pipeline="check",
        debtor=debtor,
        recipient="Kerkstraat 1, 1234 AB Utrecht",
        step=template,
        template=template,
        invoices=invoices[:1],
        today=SAMPLE_DAY,
        creditor=creditor,
        payment=PaymentDetails(
            Decimal("1234.56"), "EUR", "2026-0012", creditor.iban, "https://pay.example.com/x"
        ),
    )
    yield base
    claim = build_claim(invoices, DebtorKind.CONSUMER, SAMPLE_DAY, channel.law, False)
    yield replace(base, invoices=invoices, claim=claim, legal="nl_14_day_letter", payment=None)
