"""The channel conformance kit: what every channel kind must do, checked through the engine.

A plugin describes how to exercise its channel with a :class:`ChannelUnderTest` (its config
section, a debtor it can reach and one it cannot, how many messages its provider received, and
how to make that provider fail) and calls :func:`check_channel` from a test. The kit writes a
small project (a CSV export and a ``pipelines.yaml`` with one step on the channel) and checks:

1. **recipients**: ``recipient`` accepts the reachable debtor and rejects the other with
   :class:`~dunning.core.errors.BadRecipient` naming the debtor;
2. **dry run**: ``dunning run --dry-run`` shows the message and the provider receives nothing;
3. **once**: ``dunning run`` twice the same day, and again the next day, delivers once;
4. **errors**: each failure the provider can be made to produce is classified: retryable,
   permanent, or a bad recipient.

Every check raises ``AssertionError`` with a readable message; no test framework is needed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner

from dunning.core.channel import OutgoingMessage
from dunning.core.config import load_config
from dunning.core.dispatch import make_channel
from dunning.core.errors import BadRecipient, SendError
from dunning.core.ledger import Ledger
from dunning.core.models import Creditor, Debtor, DebtorKind, Invoice, PaymentDetails

FAILURES = ("retryable", "permanent", "bad_recipient")
COLUMNS = (
    "factuurnummer", "debiteurnummer", "debiteur", "contactpersoon", "email", "telefoon",
    "adres", "postcode", "plaats", "soort", "taal", "factuurdatum", "vervaldatum", "bedrag",
)  # fmt: skip
DUE = date(2026, 3, 2)
TODAY = DUE + timedelta(days=3)
NAME = "under_test"


@dataclass
class ChannelUnderTest:
    """How the kit exercises one channel kind.

    ``section`` is the channel's part of ``pipelines.yaml`` (``type:`` included), pointing at a
    local fake of its provider. ``reachable`` and ``unreachable`` are CSV cells (column ->
    value, Dutch headers as in :data:`COLUMNS`) for a debtor the channel can and cannot reach;
    ``unreachable`` is ``None`` for channels whose recipient is not the debtor (an agency).
    ``delivered`` counts what the provider received; ``fail`` makes the provider's next answers
    fail in one of :data:`FAILURES` (``None`` ends that), for the failures listed in ``can_fail``.
    """

    kind: str
    section: Mapping[str, Any]
    reachable: Mapping[str, str]
    unreachable: Mapping[str, str] | None
    delivered: Callable[[], int]
    fail: Callable[[str | None], None] = lambda _kind: None
    can_fail: Collection[str] = ()
    template: str = "friendly-reminder"
    extra_pipeline: Mapping[str, Any] = field(default_factory=dict)
    prepare: Callable[[OutgoingMessage], OutgoingMessage] = lambda message: message
    """Adds what the channel needs on a message the kit sends directly (an agency's dossier)."""


def write_project(case: ChannelUnderTest, folder: Path) -> Path:
    """The CSV and ``pipelines.yaml`` of the kit's project in ``folder``; returns the config."""
    base = {"debiteur": "Debtor", "contactpersoon": "Zoë de Vries", "soort": "zakelijk",
            "taal": "nl", "factuurdatum": "01-02-2026", "vervaldatum": DUE.strftime("%d-%m-%Y"),
            "bedrag": "1234,56"}  # fmt: skip
    rows = [{**base, "factuurnummer": "F-1", "debiteurnummer": "D1", **case.reachable}]
    if case.unreachable is not None:
        rows.append({**base, "factuurnummer": "F-2", "debiteurnummer": "D2", **case.unreachable})
    lines = [";".join(COLUMNS)] + [";".join(row.get(c, "") for c in COLUMNS) for row in rows]
    (folder / "invoices.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    pipeline = {
        "creditor": {"name": "Kit B.V.", "iban": "NL91ABNA0417164300"},
        "source": {"type": "csv", "path": "invoices.csv"},
        "calendar": {"business_days_only": False, "quiet_channels": [], "send_window": "always"},
        "channels": {NAME: dict(case.section)},
        "steps": [{"name": "step-1", "after_due": 3, "channel": NAME, "template": case.template}],
        **case.extra_pipeline,
    }
    config = folder / "pipelines.yaml"
    document = {"pipelines": {"main": pipeline}}
    config.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return config


def _cli(config: Path, *args: str) -> Any:
    result = CliRunner().invoke(
        _main(), [*args, "--config", str(config), "--date", TODAY.isoformat()]
    )
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def _main() -> Any:
    from dunning.core.cli import main  # the CLI imports every command; only load it when used

    return main


def check_recipients(case: ChannelUnderTest, folder: Path) -> None:
    config = load_config(write_project(case, folder))
    pipeline = config.pipeline("main")
    ledger = Ledger.open(f"sqlite:///{folder / 'kit.db'}")
    try:
        channel = make_channel(pipeline, NAME, config.directory, ledger)
        reachable = _debtor(case.reachable, "D1")
        address = channel.recipient(reachable)
        assert isinstance(address, str) and address, f"{case.kind}: empty recipient for D1"
        if case.unreachable is not None:
            try:
                channel.recipient(_debtor(case.unreachable, "D2"))
            except BadRecipient as error:
                named = "D2" in str(error)
                assert named, f"{case.kind}: BadRecipient must name the debtor: {error}"
            else:
                raise AssertionError(f"{case.kind}: recipient accepted an unreachable debtor")
    finally:
        ledger.close()


def check_dry_run_sends_nothing(case: ChannelUnderTest, folder: Path) -> None:
    config = write_project(case, folder)
    before = case.delivered()
    result = _cli(config, "run", "--dry-run", "--json")
    assert result.exit_code == 0, f"{case.kind}: plan failed: {result.output}"
    planned = json.loads(result.stdout)
    debtors = {row["debtor_id"] for row in planned}
    assert "D1" in debtors, f"{case.kind}: the plan does not show the message to D1: {planned}"
    assert case.delivered() == before, f"{case.kind}: a dry run delivered something"


def check_sends_once(case: ChannelUnderTest, folder: Path) -> None:
    config = write_project(case, folder)
    before = case.delivered()
    for _ in range(2):
        _cli(config, "run", "--quiet")
    next_day = (TODAY + timedelta(days=1)).isoformat()
    CliRunner().invoke(_main(), ["run", "--quiet", "--config", str(config), "--date", next_day])
    assert case.delivered() - before == 1, (
        f"{case.kind}: expected exactly one delivery over three runs, got "
        f"{case.delivered() - before}"
    )


def check_errors_classified(case: ChannelUnderTest, folder: Path) -> None:
    config = load_config(write_project(case, folder))
    pipeline = config.pipeline("main")
    ledger = Ledger.open(f"sqlite:///{folder / 'kit-errors.db'}")
    try:
        channel = make_channel(pipeline, NAME, config.directory, ledger)
        debtor = _debtor(case.reachable, "D1")
        for n, kind in enumerate(k for k in FAILURES if k in case.can_fail):
            case.fail(kind)
            try:
                with channel.connect() as connection:
                    message = _message(debtor, channel.recipient(debtor), case, n)
                    connection.send(case.prepare(message))
            except SendError as error:
                _assert_kind(case.kind, kind, error)
            else:
                raise AssertionError(f"{case.kind}: a {kind} failure was not raised")
            finally:
                case.fail(None)
    finally:
        ledger.close()


def check_channel(case: ChannelUnderTest, folder: Path) -> None:
    """Every check of the kit, each in its own sub-folder of ``folder``."""
    for check in (check_recipients, check_dry_run_sends_nothing, check_sends_once,
                  check_errors_classified):  # fmt: skip
        place = folder / check.__name__
        place.mkdir()
        check(case, place)


def _assert_kind(channel: str, kind: str, error: SendError) -> None:
    if kind == "bad_recipient":
        assert error.bad_recipient, f"{channel}: {error!r} should be a bad recipient"
    elif kind == "retryable":
        assert error.retryable and not error.bad_recipient, f"{channel}: {error!r} not retryable"
    else:
        assert not error.retryable and not error.bad_recipient, (
            f"{channel}: {error!r} should be permanent"
        )


def _debtor(cells: Mapping[str, str], debtor_id: str) -> Debtor:
    street = cells.get("adres", "")
    place = " ".join(p for p in (cells.get("postcode", ""), cells.get("plaats", "")) if p)
    return Debtor(
        debtor_id=debtor_id,
        name=cells.get("debiteur", "Debtor"),
        email=cells.get("email") or None,
        phone=cells.get("telefoon") or None,
        contact_name="Zoë de Vries",
        first_name="Zoë",
        language=cells.get("taal", "nl"),
        kind=DebtorKind.CONSUMER if cells.get("soort") == "particulier" else DebtorKind.BUSINESS,
        address=tuple(line for line in (street, place) if line),
    )


def _message(debtor: Debtor, recipient: str, case: ChannelUnderTest, n: int) -> OutgoingMessage:
    invoice = Invoice("F-1", debtor.debtor_id, date(2026, 2, 1), DUE, _amount(), _amount())
    return OutgoingMessage(
        idempotency_key=f"kit:{debtor.debtor_id}:{case.kind}:{n}",
        pipeline="main",
        debtor=debtor,
        recipient=recipient,
        step="step-1",
        template=case.template,
        invoices=(invoice,),
        today=TODAY,
        creditor=Creditor("Kit B.V.", iban="NL91ABNA0417164300"),
        payment=PaymentDetails(_amount(), "EUR", "F-1", "NL91ABNA0417164300"),
    )


def _amount() -> Any:
    from decimal import Decimal

    return Decimal("1234.56")
