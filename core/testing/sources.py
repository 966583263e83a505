"""The source conformance kit: what every source kind must do, checked through the engine.

A plugin describes how to exercise its source with a :class:`SourceUnderTest` (its config
section pointing at fixture data or a local fake of the platform, invalid sections, how to
change something at the platform, what the platform holds as payments, how to make it fail)
and calls :func:`check_source` from a test. Each check writes a real ``pipelines.yaml``, loads
it with :func:`~dunning.core.config.load_config` and works on a real SQLite ledger:

1. **config**: the section loads; each bad section is a :class:`ConfigError` whose one-line
   message is located (``pipelines.yaml:<line>``) inside the source section and says what is
   wrong;
2. **records**: every record is a Debtor, Invoice, RowProblem, SyncIncomplete or SyncCursor;
   debtors and invoices have their keys; an invoice's debtor is yielded before it; no invoice twice;
   amounts are ``Decimal`` and dates ``date``; at most one cursor, and it comes last;
3. **incremental**: a second sync from the saved cursor leaves the ledger as it was, a change
   at the platform shows in the next sync and touches only that invoice, and (when the case
   counts requests) both syncs cost O(changes) requests;
4. **write-back** (sources that register payments): the same payment registered twice is one
   payment at the platform, also when the engine retries a write-back whose answer was lost
   (after the next run's sync);
5. **errors**: ``auth`` is a :class:`ConfigError`, ``rate_limited`` and ``server_error`` are
   retried until the sync succeeds or end in a :class:`SourceError`, all with one-line messages.

Every check raises ``AssertionError`` with a readable message; no test framework is needed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select

from dunning.core.config import LoadedConfig, load_config
from dunning.core.errors import ConfigError, SourceError
from dunning.core.ledger import Ledger
from dunning.core.ledger.schema import invoices
from dunning.core.models import Debtor, Invoice, Payment, RowProblem, SyncCursor, SyncIncomplete
from dunning.core.plugins import Registry, load_registry
from dunning.core.progress import NoProgress
from dunning.core.runner import make_source
from dunning.core.source import Capability, Source, SyncRecord
from dunning.core.summary import RunSummary
from dunning.core.sync import sync_source
from dunning.core.writeback import write_back_payments

FAILURES = ("auth", "rate_limited", "server_error")
NAME = "main"
InvoiceRow = tuple[Any, ...]


@dataclass
class SourceUnderTest:
    """How the kit exercises one source kind.

    ``section(folder)`` writes whatever fixture data the source reads into ``folder`` (or
    points at a local fake of the platform) and returns the source's part of
    ``pipelines.yaml`` (``type:`` may be left out). The data must hold at least one debtor and
    three open invoices without payments. ``bad_sections`` are invalid sections, each with a
    fragment its error message must contain. ``change(number)`` makes one change at the
    platform to that open invoice (mark it paid, edit its amount). ``read_payments(number)``
    is what the platform now holds as payments of the invoice (required for sources with
    :attr:`Capability.REGISTER_PAYMENTS`).

    ``calls`` counts requests made to the platform so far (``None`` for a file): a sync from
    the saved cursor with nothing changed may cost ``idle_calls`` requests, one after a single
    change ``idle_calls + calls_per_change``. ``fail(kind)`` makes the platform's answers fail
    as one of :data:`FAILURES` (``None`` ends that), for the kinds in ``can_fail``; with
    ``recovers`` the source is expected to retry ``rate_limited`` and ``server_error`` until
    the sync succeeds (the fake must fail fewer times than the source tries), without it to
    raise :class:`SourceError`. ``source_class`` tests a class that is not (or differently)
    installed under ``kind``.
    """

    kind: str
    section: Callable[[Path], Mapping[str, Any]]
    bad_sections: Sequence[tuple[Mapping[str, Any], str]]
    change: Callable[[str], None]
    read_payments: Callable[[str], list[Payment]] | None = None
    calls: Callable[[], int] | None = None
    idle_calls: int = 1
    calls_per_change: int = 3
    fail: Callable[[str | None], None] = lambda _kind: None
    can_fail: Collection[str] = ()
    recovers: bool = True
    source_class: type[Source] | None = None


def write_pipelines(case: SourceUnderTest, folder: Path, section: Mapping[str, Any]) -> Path:
    """A ``pipelines.yaml`` in ``folder`` with one pipeline reading ``section``, which comes
    last in the file (so an error's line number can be checked to fall inside it)."""
    pipeline = {
        "creditor": {"name": "Kit B.V.", "iban": "NL91ABNA0417164300"},
        "channels": {"phone": {"type": "call"}},
        "steps": [{"name": "step-1", "after_due": 3, "channel": "phone", "template": "phone-call"}],
        "source": {"type": case.kind, **section},
    }
    path = folder / "pipelines.yaml"
    text = yaml.safe_dump({"pipelines": {NAME: pipeline}}, allow_unicode=True, sort_keys=False)
    path.write_text(text, encoding="utf-8")
    return path


def check_config(case: SourceUnderTest, folder: Path) -> None:
    config = _load(case, folder)
    assert config.pipeline(NAME).source_cls.kind == case.kind
    assert case.bad_sections, f"{case.kind}: give at least one bad section"
    for section, fragment in case.bad_sections:
        path = write_pipelines(case, folder, section)
        try:
            load_config(path, _registry(case))
        except ConfigError as error:
            message = str(error)
            shown = f"{case.kind}: bad section {dict(section)} gave {message!r}"
            assert "\n" not in message, f"{shown}: expected one line"
            assert fragment in message, f"{shown}: expected it to contain {fragment!r}"
            place = re.match(r"pipelines\.yaml:(\d+): ", message)
            assert place, f"{shown}: expected it to start with 'pipelines.yaml:<line>: '"
            first = _first_line_of_source(path)
            assert int(place[1]) >= first, f"{shown}: the source section starts at line {first}"
        else:
            raise AssertionError(f"{case.kind}: bad section {dict(section)} was accepted")


def check_records(case: SourceUnderTest, folder: Path) -> None:
    config = _load(case, folder)
    with _ledger(config) as ledger:
        records = list(_source(config, ledger).sync(None))
    assert_records(case.kind, records)
    assert any(isinstance(r, Debtor) for r in records), f"{case.kind}: the sync yielded no debtor"
    assert any(isinstance(r, Invoice) for r in records), f"{case.kind}: the sync yielded no invoice"


def assert_records(kind: str, records: Sequence[SyncRecord], known: Iterable[str] = ()) -> None:
    """The record contract of :meth:`Source.sync`; ``known`` are debtor ids synced earlier."""
    debtor_ids, numbers = set(known), set[str]()
    for index, record in enumerate(records, start=1):
        where = f"{kind}: record {index} of {len(records)}"
        if isinstance(record, SyncCursor):
            assert index == len(records), f"{where} is a SyncCursor; a cursor must come last"
            assert isinstance(record.value, str) and record.value, f"{where}: empty cursor"
        elif isinstance(record, Debtor):
            assert _filled(record.debtor_id), f"{where}: debtor without debtor_id: {record}"
            debtor_ids.add(record.debtor_id)
        elif isinstance(record, Invoice):
            _assert_invoice(f"{where} (invoice {record.number!r})", record, debtor_ids, numbers)
            numbers.add(record.number)
        elif isinstance(record, RowProblem):
            assert _filled(record.place), f"{where}: a RowProblem must say where: {record}"
        elif isinstance(record, SyncIncomplete):
            assert _filled(record.reason), f"{where}: a SyncIncomplete must say why"
            rest = records[index:]
            assert all(isinstance(r, SyncCursor) for r in rest), (
                f"{where} is a SyncIncomplete; only the cursor may follow it"
            )
        else:
            raise AssertionError(
                f"{where} is a {type(record).__name__}, not a Debtor, Invoice, RowProblem, "
                "SyncIncomplete or SyncCursor"
            )


def check_incremental(case: SourceUnderTest, folder: Path) -> None:
    config = _load(case, folder)
    ledger = Ledger.open(config.state_url)
    try:
        _sync(config, ledger, 1)
        before, debtor_count = _ledger_state(ledger), len(ledger.invoices.debtor_ids(NAME))
        assert before, f"{case.kind}: the first sync stored no invoice in the ledger"

        counted = case.calls() if case.calls else 0
        _sync(config, ledger, 2)
        if case.calls:
            used = case.calls() - counted
            assert used <= case.idle_calls, (
                f"{case.kind}: a sync from the saved cursor with nothing changed made {used} "
                f"requests; expected at most {case.idle_calls}"
            )
        assert len(ledger.invoices.debtor_ids(NAME)) == debtor_count, (
            f"{case.kind}: a second sync with nothing changed added debtors to the ledger"
        )
        again = _ledger_state(ledger)
        assert again == before, (
            f"{case.kind}: a second sync with nothing changed altered the ledger: "
            f"{_difference(before, again)}"
        )

        number = _open_invoices(before)[0]
        case.change(number)
        counted = case.calls() if case.calls else 0
        _sync(config, ledger, 3)
        if case.calls:
            used = case.calls() - counted
            limit = case.idle_calls + case.calls_per_change
            assert used <= limit, (
                f"{case.kind}: a sync after one change made {used} requests; expected at most "
                f"{limit} (idle_calls + calls_per_change)"
            )
        after = _ledger_state(ledger)
        changed = _difference(before, after)
        assert number in changed, (
            f"{case.kind}: invoice {number} was changed at the platform, but the next sync did "
            "not change it in the ledger"
        )
        assert list(changed) == [number], (
            f"{case.kind}: one change at the platform (invoice {number}) changed other "
            f"invoices in the ledger too: {changed}"
        )
    finally:
        ledger.close()


def check_writeback(case: SourceUnderTest, folder: Path) -> None:
    config = _load(case, folder)
    if Capability.REGISTER_PAYMENTS not in config.pipeline(NAME).source_cls.capabilities:
        return
    read_payments = case.read_payments
    assert read_payments, f"{case.kind}: registers payments, so the case needs read_payments"
    ledger = Ledger.open(config.state_url)
    try:
        _sync(config, ledger, 1)
        unpaid = [n for n in _open_invoices(_ledger_state(ledger)) if not read_payments(n)]
        assert len(unpaid) >= 2, f"{case.kind}: the kit needs two open invoices without payments"

        payment_id, payment = _pay(ledger, unpaid[0], half=False)
        payment = replace(payment, key=f"dunning-{NAME}-payment-{payment_id}")  # as written back
        invoice = ledger.invoices.get(NAME, [payment.invoice_number])[payment.invoice_number][0]
        source = _source(config, ledger)
        source.register_payment(invoice, payment)
        source.register_payment(invoice, payment)
        _assert_one_payment(case.kind, read_payments, payment, "registered twice")
        ledger.payments.mark_written(payment_id)
        first = (invoice, payment)

        _, payment = _pay(ledger, unpaid[1], half=True)
        _, errors = write_back_payments(_answer_lost(_source(config, ledger)), ledger, NAME)
        assert errors, f"{case.kind}: the simulated lost answer was not reported"
        _sync(config, ledger, 2)  # the next run syncs before it writes back again
        written, errors = write_back_payments(_source(config, ledger), ledger, NAME)
        assert (written, errors) == (1, []), f"{case.kind}: the retried write-back: {errors}"
        _assert_one_payment(case.kind, read_payments, payment, "retried after a lost answer")
        if Capability.REVERSE_PAYMENTS in config.pipeline(NAME).source_cls.capabilities:
            invoice, payment = first  # the bank returned it
            source = _source(config, ledger)
            source.reverse_payment(invoice, payment)
            source.reverse_payment(invoice, payment)
            left = sum((p.amount for p in read_payments(payment.invoice_number)), Decimal(0))
            assert left == 0, (
                f"{case.kind}: a payment of {payment.amount} on invoice {payment.invoice_number}, "
                f"undone twice, left {left} paid at the platform; expected nothing"
            )
    finally:
        ledger.close()


def check_errors(case: SourceUnderTest, folder: Path) -> None:
    config = _load(case, folder)
    with _ledger(config) as ledger:
        _check_errors(case, config, ledger)


def _check_errors(case: SourceUnderTest, config: LoadedConfig, ledger: Ledger) -> None:
    expected = _numbers(_source(config, ledger).sync(None))
    for kind in (k for k in FAILURES if k in case.can_fail):
        what = f"{case.kind}: with the platform failing as {kind!r}"
        case.fail(kind)
        try:
            numbers = _numbers(_source(config, ledger).sync(None))
        except ConfigError as error:
            assert kind == "auth", f"{what}, the sync raised a ConfigError: {error}"
            _assert_one_line(what, error)
        except SourceError as error:
            assert kind != "auth", f"{what}, expected a ConfigError, got a SourceError: {error}"
            assert not case.recovers, f"{what}, the sync gave up instead of retrying: {error}"
            _assert_one_line(what, error)
        else:
            wanted = "ConfigError" if kind == "auth" else "SourceError"
            assert kind != "auth" and case.recovers, f"{what}, the sync raised no {wanted}"
            assert numbers == expected, f"{what}, the retried sync yielded other invoices"
        finally:
            case.fail(None)


def check_source(case: SourceUnderTest, folder: Path) -> None:
    """Every check of the kit, each in its own sub-folder of ``folder``."""
    for check in (check_config, check_records, check_incremental, check_writeback,
                  check_errors):  # fmt: skip
        place = folder / check.__name__
        place.mkdir()
        check(case, place)


def _registry(case: SourceUnderTest) -> Registry:
    registry = load_registry()
    if case.source_class is not None:
        registry.sources[case.kind] = case.source_class
    return registry


def _load(case: SourceUnderTest, folder: Path) -> LoadedConfig:
    path = write_pipelines(case, folder, case.section(folder))
    try:
        return load_config(path, _registry(case))
    except ConfigError as error:
        raise AssertionError(f"{case.kind}: the case's own section is rejected: {error}") from None


def _source(config: LoadedConfig, ledger: Ledger) -> Source:
    """A fresh source as a run makes one (with the ledger's token store)."""
    return make_source(config, config.pipeline(NAME), ledger)


@contextmanager
def _ledger(config: LoadedConfig) -> Iterator[Ledger]:
    ledger = Ledger.open(config.state_url)
    try:
        yield ledger
    finally:
        ledger.close()


def _sync(config: LoadedConfig, ledger: Ledger, sync_id: int) -> None:
    """One run's sync stage, by a fresh source (as each run makes one), records checked."""
    seen: list[SyncRecord] = []
    known = ledger.invoices.debtor_ids(NAME)
    summary = RunSummary(pipeline=NAME, as_of=date.today())
    source = _source(config, ledger)
    sync_source(_recording(source, seen), ledger, NAME, sync_id, summary, NoProgress())
    assert_records(source.kind, seen, known)


def _recording(source: Source, seen: list[SyncRecord]) -> Source:
    """``source`` as the engine sees it, every record it yields appended to ``seen``."""

    class Recording(Source):
        kind = source.kind
        capabilities = source.capabilities

        def sync(self, cursor: str | None) -> Iterator[SyncRecord]:
            for record in source.sync(cursor):
                seen.append(record)
                yield record

    return Recording(source.config, source.context)


def _answer_lost(source: Source) -> Source:
    """``source`` whose payment write-backs reach the platform but whose answers are lost."""

    class AnswerLost(Source):
        kind = source.kind
        capabilities = source.capabilities

        def sync(self, cursor: str | None) -> Iterator[SyncRecord]:
            return source.sync(cursor)

        def register_payment(self, invoice: Invoice, payment: Payment) -> None:
            source.register_payment(invoice, payment)
            raise SourceError("the platform's answer was lost (simulated by the conformance kit)")

    return AnswerLost(source.config, source.context)


def _pay(ledger: Ledger, number: str, *, half: bool) -> tuple[int, Payment]:
    """Record a payment of (half) the open amount of ``number`` in the ledger, as a credit
    controller or bank import would."""
    invoice = ledger.invoices.get(NAME, [number])[number][0]
    amount = (invoice.amount_open / 2).quantize(Decimal("0.01")) if half else invoice.amount_open
    payment = Payment(number, amount, date.today(), origin="kit", reference=f"kit-{number}")
    return ledger.payments.record(NAME, payment), payment


def _assert_one_payment(
    kind: str, read_payments: Callable[[str], list[Payment]], payment: Payment, how: str
) -> None:
    held = read_payments(payment.invoice_number)
    amounts = [str(p.amount) for p in held]
    assert len(held) == 1 and held[0].amount == payment.amount, (
        f"{kind}: a payment of {payment.amount} on invoice {payment.invoice_number}, {how}, "
        f"left these payments at the platform: {amounts or 'none'}; expected exactly one"
    )


def _ledger_state(ledger: Ledger) -> dict[str, InvoiceRow]:
    """Per invoice number, what a sync decides: debtor, dates, amounts, still in the source."""
    query = select(
        invoices.c.number, invoices.c.debtor_id, invoices.c.due_date,
        invoices.c.amount_total_cents, invoices.c.amount_open_cents, invoices.c.in_source,
    ).where(invoices.c.pipeline == NAME)  # fmt: skip
    with ledger.engine.connect() as connection:
        return {row[0]: tuple(row[1:]) for row in connection.execute(query)}


def _open_invoices(state: Mapping[str, InvoiceRow]) -> list[str]:
    found = sorted(n for n, row in state.items() if row[3] > 0 and row[2] > 0 and row[4])
    assert found, "the source's data holds no open invoice; the kit needs some"
    return found


def _difference(before: Mapping[str, InvoiceRow], after: Mapping[str, InvoiceRow]) -> list[str]:
    numbers = sorted(set(before) | set(after))
    return [n for n in numbers if before.get(n) != after.get(n)]


def _numbers(records: Iterable[SyncRecord]) -> set[str]:
    return {r.number for r in records if isinstance(r, Invoice)}


def _assert_invoice(where: str, invoice: Invoice, debtor_ids: set[str], numbers: set[str]) -> None:
    assert _filled(invoice.number), f"{where}: invoice without number"
    assert invoice.number not in numbers, f"{where}: the invoice was yielded twice in one sync"
    assert invoice.debtor_id in debtor_ids, (
        f"{where}: its debtor {invoice.debtor_id!r} was not yielded before it (nor synced earlier)"
    )
    for name in ("amount_total", "amount_open"):
        value = getattr(invoice, name)
        assert isinstance(value, Decimal), f"{where}: {name} is {type(value).__name__}, not Decimal"
    assert invoice.discount_percent is None or isinstance(invoice.discount_percent, Decimal), (
        f"{where}: discount_percent is not a Decimal"
    )
    for name in ("issue_date", "due_date", "paid_on"):
        value = getattr(invoice, name)
        if value is None and name == "paid_on":
            continue
        is_day = isinstance(value, date) and not isinstance(value, datetime)
        assert is_day, f"{where}: {name} is {type(value).__name__}, not a date"


def _assert_one_line(what: str, error: Exception) -> None:
    message = str(error)
    assert message.strip() and "\n" not in message, (
        f"{what}, the message is not one line: {message!r}"
    )


def _first_line_of_source(path: Path) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, start=1) if line.strip() == "source:")


def _filled(text: object) -> bool:
    return isinstance(text, str) and bool(text.strip())
