"""Choosing the channel of a step that names several (``channel: [whatsapp, sms, email]``).

The first channel that can reach the debtor is used: its ``recipient`` accepts the debtor and
the debtor has not opted out of that channel kind at that address. The plan says which channel
was chosen and why the ones before it were passed over. A Dutch 14-day letter step without its
own list falls back to the pipeline's ``letter`` channels, so a consumer without an email
address still gets the letter on paper.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from dunning.core.channel import Channel
from dunning.core.config import LoadedPipeline
from dunning.core.errors import BadRecipient
from dunning.core.ledger import Ledger
from dunning.core.models import PlannedMessage
from dunning.core.policy import Step

LETTER_KIND = "letter"
FOURTEEN_DAY_LETTER = "nl_14_day_letter"


class ChannelChooser:
    def __init__(self, pipeline: LoadedPipeline, ledger: Ledger, config_dir: Path) -> None:
        self.pipeline = pipeline
        self.ledger = ledger
        self.config_dir = config_dir
        self.instances: dict[str, Channel] = {}

    def chain(self, step: Step) -> tuple[str, ...]:
        """The channels to try for ``step``, in order."""
        if step.fallbacks:
            return (step.channel, *step.fallbacks)
        if step.legal == FOURTEEN_DAY_LETTER:
            letters = tuple(
                name
                for name, loaded in self.pipeline.channels.items()
                if loaded.cls.kind == LETTER_KIND and name != step.channel
            )
            return (step.channel, *letters)
        return (step.channel,)

    def channel(self, name: str) -> Channel:
        if name not in self.instances:
            from dunning.core.dispatch import make_channel  # dispatch imports planning's peers

            self.instances[name] = make_channel(self.pipeline, name, self.config_dir, self.ledger)
        return self.instances[name]

    def choose(self, message: PlannedMessage, step: Step) -> PlannedMessage:
        """``message`` on the first channel of the step's chain that reaches the debtor."""
        chain = self.chain(step)
        if len(chain) == 1:
            return message
        passed: list[str] = []
        for name in chain:
            channel = self.channel(name)
            try:
                address = channel.recipient(message.debtor)
            except BadRecipient as error:
                passed.append(f"{name}: {error}")
                continue
            opted = self.ledger.opt_outs.reason(
                self.pipeline.name, message.debtor.debtor_id, channel.kind, address
            )
            if opted is not None:
                passed.append(f"{name}: opted out ({opted})")
                continue
            if not passed:
                return message
            return self._noted(replace(message, channel=name),
                               f"by {name}, as {'; '.join(passed)}")  # fmt: skip
        return self._noted(
            message, f"no channel of {', '.join(chain)} reaches the debtor: {'; '.join(passed)}"
        )

    @staticmethod
    def _noted(message: PlannedMessage, note: str) -> PlannedMessage:
        items = tuple(replace(item, reason=f"{item.reason}; {note}") for item in message.items)
        return replace(message, items=items)


def choose_channels(
    messages: list[PlannedMessage],
    steps: list[Step],
    pipeline: LoadedPipeline,
    ledger: Ledger,
    config_dir: Path,
) -> list[PlannedMessage]:
    """Every message of a step with several channels moved to the channel that reaches its
    debtor; the others unchanged."""
    by_name = {step.name: step for step in steps}
    chooser = ChannelChooser(pipeline, ledger, config_dir)
    if not any(len(chooser.chain(s)) > 1 for s in steps):
        return messages
    return [chooser.choose(m, by_name[m.step]) if m.step in by_name else m for m in messages]


def plan_recipients(
    messages: list[PlannedMessage], pipeline: LoadedPipeline, ledger: Ledger, config_dir: Path
) -> dict[tuple[str, str], str]:
    """Who each planned message goes to, per (debtor, channel), as the channel will address it
    (an email address, a phone number, a postal address, the agency); for showing a plan."""
    chooser = ChannelChooser(pipeline, ledger, config_dir)
    found: dict[tuple[str, str], str] = {}
    for message in messages:
        key = (message.debtor.debtor_id, message.channel)
        if key in found or message.channel not in pipeline.channels:
            continue
        try:
            found[key] = chooser.channel(message.channel).recipient(message.debtor)
        except BadRecipient as error:
            found[key] = f"unreachable: {error}"
    return found
