"""The call channel: "sending" a call step creates a call task in the ledger.

No one is contacted when the task is created, so the send window does not apply
(``contacts_debtor = False``); the task is due on the step's day within ``calls.office_hours``.
The recipient is the debtor's phone number in E.164: a debtor without a usable number is
reported and skipped like a bad email address.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from pathlib import Path

from dunning.channels.call.points import check_template, environment, render_points
from dunning.core.calls.model import NewCallTask
from dunning.core.calls.tasks import MAIN, assignee, contact_for, create_task, segment_for
from dunning.core.channel import Channel, ChannelConfig, Connection, OutgoingMessage
from dunning.core.errors import BadRecipient, ConfigError, SendError
from dunning.core.models import Debtor, Receipt
from dunning.core.phones import BadPhoneNumber, normalise_phone


class CallChannelConfig(ChannelConfig):
    """``type: call``. Office hours, assignment and retries are the pipeline's ``calls:``."""

    templates: str | None = None
    """A folder of talking-point templates (``<language>/<template>.txt``) that override or
    add to the built-in ones; relative to pipelines.yaml."""


class CallChannel(Channel):
    kind = "call"
    Config = CallChannelConfig
    contacts_debtor = False

    def _folder(self) -> Path | None:
        assert isinstance(self.config, CallChannelConfig)
        if self.config.templates is None:
            return None
        return self.context.config_dir / self.config.templates

    def recipient(self, debtor: Debtor) -> str:
        numbers = [debtor.phone] + [c.phone for c in debtor.contacts if c.role != "management"]
        usable = [n for n in numbers if n]
        if not usable:
            raise BadRecipient(
                f"debtor {debtor.debtor_id} ({debtor.name}) has no phone number; add one in the "
                "source, or leave the call step out for them with a 'when:' condition"
            )
        problems = []
        for number in usable:
            try:
                return normalise_phone(number, debtor.country)
            except BadPhoneNumber as error:
                problems.append(str(error))
        raise BadRecipient(
            f"debtor {debtor.debtor_id} ({debtor.name}): {'; '.join(problems)}; correct the "
            "number in the source"
        )

    def check(self, templates: Collection[str] = ()) -> None:
        folder = self._folder()
        if folder is not None and not folder.is_dir():
            raise ConfigError(
                f"channel {self.context.name!r}: templates folder {folder} is missing"
            )
        env = environment(folder)
        for template in templates:
            check_template(env, template)

    def connect(self) -> AbstractContextManager[Connection]:
        return self._session()

    @contextmanager
    def _session(self) -> Iterator[Connection]:
        yield _TaskWriter(self)


class _TaskWriter:
    def __init__(self, channel: CallChannel) -> None:
        self.channel = channel
        self.env = environment(channel._folder())

    def send(self, message: OutgoingMessage) -> Receipt:
        context = self.channel.context
        ledger, config = context.ledger, context.pipeline_config
        if ledger is None or config is None:
            raise SendError(
                f"channel {context.name!r}: call tasks need the pipeline's ledger; this channel "
                "only works inside a dunning run"
            )
        settings = config.calls
        contact, flag = contact_for(ledger, message.pipeline, settings, message.debtor)
        phone = contact.phone if contact.role != MAIN else message.recipient
        points = render_points(self.env, message)
        points += tuple(settings.talking_points.get(message.step, ()))
        segment = segment_for(ledger, message.pipeline, config, message.debtor.debtor_id)
        task, created = create_task(
            ledger,
            message.pipeline,
            NewCallTask(
                debtor_id=message.debtor.debtor_id,
                step=message.step,
                reason=f"ladder step {message.step!r}",
                invoice_numbers=tuple(i.number for i in message.invoices),
                due_on=message.today,
                hours=settings.office_hours,
                assigned_to=assignee(settings, segment),
                contact_role=contact.role,
                contact_name=contact.name,
                contact_phone=phone,
                talking_points=points,
                flag=flag,
                message_id=message.message_id or None,
            ),
        )
        who = f" for {task.assigned_to}" if task.assigned_to else ""
        state = "created" if created else "already existed"
        return Receipt(
            provider_message_id=f"call-task-{task.id}",
            accepted_at=datetime.now(UTC),
            detail=f"call task #{task.id} {state}, due {task.due_on} {task.hours or ''}{who}",
        )
