"""Actions written back to a source that can take them: a note per message sent, and the
source's own reminders paused for every invoice the ladder has reached.

The source is the CSV source with the two capabilities added, registered through the plugin
hook like a third-party plugin; it records what it was told.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import ClassVar

from dunning.core import hookimpl
from dunning.core.config import load_config
from dunning.core.errors import SourceError
from dunning.core.ledger import Ledger
from dunning.core.models import Invoice
from dunning.core.plugins import get_plugin_manager, load_registry
from dunning.core.runner import run_pipeline
from dunning.core.source import Capability
from dunning.plugins.csv.source import CsvSource
from tests.call_portfolio import B1, B2, CALL_HEADER, S3

LADDER = """\
      - {name: friendly-reminder, after_due: 3, channel: email, template: friendly-reminder}
      - {name: second-reminder, after_previous: 7, channel: email, template: second-reminder}
"""


class RecordingSource(CsvSource):
    kind = "csv-recording"
    capabilities = CsvSource.capabilities | {Capability.ATTACH_NOTES, Capability.OWN_REMINDERS}
    notes: ClassVar[list[tuple[str, str]]] = []
    paused: ClassVar[list[str]] = []
    resumed: ClassVar[list[str]] = []
    failing: ClassVar[set[str]] = set()

    def attach_note(self, invoice: Invoice, note: str) -> None:
        if "notes" in self.failing:
            raise SourceError("the platform is down")
        self.notes.append((invoice.number, note))

    def take_over(self, invoice: Invoice) -> None:
        if "pause" in self.failing:
            raise SourceError("the platform is down")
        self.paused.append(invoice.number)

    def let_go(self, invoice: Invoice) -> None:
        self.resumed.append(invoice.number)


class Plugin:
    @staticmethod
    @hookimpl
    def dunning_register_sources(register):  # type: ignore[no-untyped-def]
        register(RecordingSource)


def test_each_message_is_noted_once_and_reminders_are_paused_before_the_first_step(
    tmp_path: Path,
) -> None:
    RecordingSource.notes.clear()
    RecordingSource.paused.clear()
    RecordingSource.failing = {"notes", "pause"}
    (tmp_path / "invoices.csv").write_text(f"{CALL_HEADER}\n{B1}\n{B2}\n{S3}\n", encoding="utf-8")
    (tmp_path / "pipelines.yaml").write_text(
        "pipelines:\n  main:\n    creditor: {name: Test B.V.}\n"
        "    source: {type: csv-recording, path: invoices.csv}\n"
        "    calendar: {business_days_only: false, quiet_channels: []}\n"
        "    channels:\n"
        "      email: {type: email, delivery: file, folder: mail, from_address: a@example.nl}\n"
        f"    steps:\n{LADDER}",
        encoding="utf-8",
    )
    manager = get_plugin_manager()
    manager.register(Plugin(), name="recording")
    config = load_config(tmp_path / "pipelines.yaml", load_registry(manager))
    pipeline = config.pipeline("main")
    ledger = Ledger.open(f"sqlite:///{tmp_path / 'dunning.db'}")

    def run(day: date) -> list[str]:
        noon = datetime(day.year, day.month, day.day, 11, tzinfo=UTC)
        return run_pipeline(config, pipeline, ledger, day, retry_wait=0, now=noon).problems

    try:
        problems = run(date(2026, 3, 4))  # the platform is down: reported, nothing held back
        assert any("own reminders not paused" in p for p in problems)
        assert any("not written to the source: the platform is down" in p for p in problems)
        assert len(list((tmp_path / "mail").glob("*.eml"))) == 2
        RecordingSource.failing = set()
        run(date(2026, 3, 5))  # tried again: every invoice paused once, each message noted once
        run(date(2026, 3, 6))
        assert sorted(RecordingSource.paused) == ["F-1", "F-2", "F-3"]
        assert sorted(n for n, _ in RecordingSource.notes) == ["F-1", "F-2", "F-3"]
        note = dict(RecordingSource.notes)["F-3"]
        assert note == (
            "dunning: step 'friendly-reminder' sent by email to anne@smith.co.uk on 2026-03-04"
        )
        run(date(2026, 3, 11))  # the second reminder: noted too, nobody paused twice
        assert sorted(RecordingSource.paused) == ["F-1", "F-2", "F-3"]
        assert len(RecordingSource.notes) == 6
    finally:
        ledger.close()


def test_a_released_invoice_gets_no_more_steps_and_its_source_reminders_resume(
    tmp_path: Path,
) -> None:
    from click.testing import CliRunner

    from dunning.core.cli import main

    RecordingSource.resumed.clear()
    RecordingSource.failing = set()
    (tmp_path / "invoices.csv").write_text(f"{CALL_HEADER}\n{B1}\n{S3}\n", encoding="utf-8")
    (tmp_path / "pipelines.yaml").write_text(
        "pipelines:\n  main:\n    creditor: {name: Test B.V.}\n"
        "    source: {type: csv, path: invoices.csv}\n"
        "    calendar: {business_days_only: false, quiet_channels: []}\n"
        "    channels:\n"
        "      email: {type: email, delivery: file, folder: mail, from_address: a@example.nl}\n"
        f"    steps:\n{LADDER}",
        encoding="utf-8",
    )
    config = ["--config", str(tmp_path / "pipelines.yaml")]
    runner = CliRunner()
    assert runner.invoke(main, ["run", "--date", "2026-03-04", "--quiet", *config]).exit_code == 0
    released = runner.invoke(main, ["release", "F-1", "--date", "2026-03-05", *config])
    assert released.exit_code == 0, released.output
    assert "invoice F-1 released: no more steps; the source sends no reminders" in released.output
    runner.invoke(main, ["run", "--date", "2026-03-11", "--quiet", *config])
    mails = sorted(p.name for p in (tmp_path / "mail").glob("*.eml"))
    assert len(mails) == 3  # two friendly reminders, then the second one only for F-3
    again = runner.invoke(main, ["release", "F-1", *config])
    assert again.exit_code == 2 and "released before" in again.output
