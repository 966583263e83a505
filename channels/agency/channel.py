"""The ``agency`` channel: hands debtors over to a collection agency with their dossier."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import ClassVar, Protocol

from dunning.channels.agency.bundle import Renderer
from dunning.channels.agency.config import AgencyConfig
from dunning.channels.agency.folder import FolderDelivery, prepare_folder
from dunning.channels.agency.http import HttpDelivery
from dunning.channels.agency.mail import EmailDelivery
from dunning.core.channel import Channel, ChannelConfig, ChannelContext, Connection, OutgoingMessage
from dunning.core.errors import ConfigError, PluginError, SendError
from dunning.core.handoff.dossier import AgencyUpdate, Dossier
from dunning.core.models import Debtor, Receipt
from dunning.core.pdf import find_fonts


class Delivery(Protocol):
    """One way of getting files to the agency: a folder, an intake mailbox, an API."""

    def open(self) -> None:
        """Get ready for a batch; raises :class:`SendError` when the agency cannot be reached."""

    def close(self) -> None: ...

    def deliver_dossier(self, dossier: Dossier) -> Receipt:
        """Deliver the dossier; delivering the same reference again must not make a second one
        (or must let the agency recognise it). Raises :class:`SendError`."""
        ...

    def deliver_update(self, update: AgencyUpdate) -> Receipt:
        """Deliver the payment notice, under its own reference. Raises :class:`SendError`."""
        ...


class AgencyConnection:
    """Sends dossiers and payment notices through one delivery (see :class:`Connection`)."""

    def __init__(self, delivery: Delivery, where: str) -> None:
        self.delivery = delivery
        self.where = where

    def send(self, message: OutgoingMessage) -> Receipt:
        """Deliver ``message.dossier`` or ``message.agency_update``.

        A message with neither is a permanent :class:`SendError` (the channel only hands over),
        and so is a font that cannot be read while rendering; every :class:`SendError` is
        prefixed with the channel and pipeline.
        """
        try:
            if message.dossier is not None:
                return self.delivery.deliver_dossier(message.dossier)
            if message.agency_update is not None:
                return self.delivery.deliver_update(message.agency_update)
        except SendError as exc:
            raise SendError(f"{self.where}: {exc}", retryable=exc.retryable) from None
        except ConfigError as exc:  # the PDF font could not be read: nothing was delivered
            raise SendError(f"{self.where}: {exc}", retryable=False) from None
        raise SendError(
            f"{self.where}: step {message.step!r} sent a message without a dossier or payment "
            "notice; an agency channel only hands debtors over (use it on a handoff step)",
            retryable=False,
        )


class AgencyChannel(Channel):
    """Hands a debtor over to a collection agency: the dossier as ``manifest.json``,
    ``invoices.csv``, ``summary.pdf`` and the invoice PDFs, delivered to a folder, an intake
    email address or the agency's API; later, notices of payments made to the creditor.

    Settings: :class:`AgencyConfig`.
    """

    kind: ClassVar[str] = "agency"
    Config: ClassVar[type[ChannelConfig]] = AgencyConfig
    hands_over: ClassVar[bool] = True
    contacts_debtor: ClassVar[bool] = False
    """The agency is the recipient, not the debtor: the debtor's send window does not apply."""

    def __init__(self, config: ChannelConfig, context: ChannelContext) -> None:
        if not isinstance(config, AgencyConfig):
            raise PluginError(
                f"channel {context.name!r}: the agency channel needs an AgencyConfig, "
                f"got {type(config).__name__}"
            )
        super().__init__(config, context)
        self.settings = config
        self.where = f"agency channel {context.name!r} of pipeline {context.pipeline!r}"

    def recipient(self, debtor: Debtor) -> str:
        """Where dossiers go (the folder, the intake address or the URL), for every debtor: the
        agency is the recipient, so a debtor without email or phone is no problem."""
        settings = self.settings
        if settings.delivery == "folder":
            return str(settings.folder_in(self.context.config_dir))
        if settings.delivery == "email":
            return str(settings.to)
        return str(settings.url)

    def connect(self) -> AbstractContextManager[Connection]:
        """One delivery session for a batch; see :class:`Channel`. Raises :class:`SendError`
        when the agency cannot be reached, or no PDF font is installed."""
        return self._session()

    @contextmanager
    def _session(self) -> Iterator[Connection]:
        delivery = self.delivery()
        try:
            delivery.open()
        except SendError as exc:
            raise SendError(f"{self.where}: {exc}", retryable=exc.retryable) from None
        try:
            yield AgencyConnection(delivery, self.where)
        finally:
            delivery.close()

    def delivery(self) -> Delivery:
        """The configured delivery, with the PDF font looked up once."""
        settings = self.settings
        try:
            fonts = find_fonts()
        except ConfigError as exc:
            raise SendError(f"{self.where}: {exc}", retryable=False) from None
        renderer = Renderer(settings.language, settings.agency_name, fonts)
        if settings.delivery == "folder":
            return FolderDelivery(settings.folder_in(self.context.config_dir), renderer)
        if settings.delivery == "email":
            assert settings.smtp and settings.to and settings.from_address
            return EmailDelivery(
                settings.smtp,
                renderer,
                to=settings.to,
                from_address=settings.from_address,
                from_name=settings.from_name,
            )
        return HttpDelivery(settings, renderer)

    def check(self, templates: Collection[str] = ()) -> None:
        """The PDF font can be found; for folder delivery, the folder can be written.

        Raises :class:`ConfigError` naming the channel and what to fix.
        """
        try:
            find_fonts()
        except ConfigError as exc:
            raise ConfigError(f"{self.where}: {exc}") from None
        if self.settings.delivery == "folder":
            folder = self.settings.folder_in(self.context.config_dir)
            try:
                prepare_folder(folder)
            except OSError as exc:
                raise ConfigError(
                    f"{self.where}: cannot write dossiers to {folder}: {exc.strerror or exc}; "
                    "check 'folder' and its permissions"
                ) from None
