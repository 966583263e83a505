"""``sample/generate.py``: the sample export the default pipeline runs on has the promised mix."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter, defaultdict
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from dunning.core.models import Debtor, Invoice, RowProblem, SyncCursor
from dunning.core.source import SourceContext, SyncRecord
from dunning.plugins.csv import CsvSource
from dunning.plugins.csv.config import CsvConfig

SCRIPT = Path(__file__).resolve().parents[1] / "sample" / "generate.py"
TODAY = date(2025, 3, 15)


def generate(out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(out), "--today", TODAY.isoformat(), *extra],
        capture_output=True,
        text=True,
        check=True,
    )


@pytest.fixture(scope="module")
def records(tmp_path_factory: pytest.TempPathFactory) -> list[SyncRecord]:
    folder = tmp_path_factory.mktemp("sample")
    generate(folder / "invoices.csv")
    source = CsvSource(
        CsvConfig(path=Path("invoices.csv")), SourceContext(pipeline="default", config_dir=folder)
    )
    return list(source.sync(None))


def test_sample_has_about_ninety_invoices_for_twenty_debtors(records: list[SyncRecord]) -> None:
    invoices = [r for r in records if isinstance(r, Invoice)]
    assert 80 <= len(invoices) <= 100
    assert len({r.debtor_id for r in records if isinstance(r, Debtor)}) == 20
    assert {i.debtor_id for i in invoices} == {
        r.debtor_id for r in records if isinstance(r, Debtor)
    }
    assert isinstance(records[-1], SyncCursor)


def test_sample_has_exactly_one_bad_row(records: list[SyncRecord]) -> None:
    problems = [r for r in records if isinstance(r, RowProblem)]
    assert len(problems) == 1
    assert "amount '12,3x' is not a number" in problems[0].problem


def test_sample_covers_every_situation_of_the_ladder(records: list[SyncRecord]) -> None:
    invoices = [r for r in records if isinstance(r, Invoice)]
    dunnable = [i for i in invoices if i.is_dunnable]
    overdue = [i for i in dunnable if i.days_overdue(TODAY) > 0]

    assert sum(i.is_credit_note for i in invoices) >= 2
    assert sum(not i.is_credit_note and i.amount_open == 0 for i in invoices) >= 5
    assert any(0 < i.amount_open < i.amount_total for i in invoices)
    assert any(i.days_overdue(TODAY) < 0 for i in dunnable)
    assert any(1 <= i.days_overdue(TODAY) <= 5 for i in dunnable)
    assert any(10 <= i.days_overdue(TODAY) <= 20 for i in dunnable)
    assert any(30 < i.days_overdue(TODAY) <= 90 for i in dunnable)
    assert max(Counter(i.debtor_id for i in overdue).values()) >= 2
    assert sum(n >= 2 for n in Counter(i.debtor_id for i in overdue).values()) >= 2
    assert {(i.due_date - i.issue_date).days for i in invoices} == {14, 30}


def test_sample_has_a_debtor_with_an_unusable_email(records: list[SyncRecord]) -> None:
    emails = [r.email for r in records if isinstance(r, Debtor)]
    assert "jan@@example" in emails
    assert {r.language for r in records if isinstance(r, Debtor)} == {"nl", "en"}


def test_generator_is_deterministic_and_keeps_an_existing_file(tmp_path: Path) -> None:
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    generate(first)
    generate(second)
    assert first.read_bytes() == second.read_bytes()

    first.write_text("mine", encoding="utf-8")
    result = generate(first)
    assert "kept" in result.stdout
    assert first.read_text(encoding="utf-8") == "mine"

    generate(first, "--force")
    assert first.read_bytes() == second.read_bytes()


def test_sample_has_belgian_debtors_in_their_own_time_zone(records: list[SyncRecord]) -> None:
    debtors = [r for r in records if isinstance(r, Debtor)]
    belgian = [d for d in debtors if d.country == "BE"]
    assert len(belgian) >= 2
    assert {d.timezone for d in belgian} == {"Europe/Brussels"}
    assert {d.language for d in belgian} == {"nl", "en"}
    others = [d for d in debtors if d.country != "BE"]
    assert {(d.country, d.timezone) for d in others} == {(None, None)}


def test_sample_has_debtor_and_invoice_labels(records: list[SyncRecord]) -> None:
    debtor_tags = [r.tags for r in records if isinstance(r, Debtor)]
    invoice_tags = [r.tags for r in records if isinstance(r, Invoice)]
    assert sum("vip" in tags for tags in debtor_tags) >= 2
    assert sum("no-call" in tags for tags in debtor_tags) >= 2
    assert sum(bool(tags) for tags in invoice_tags) >= 4
    assert any("no-call" in tags for tags in invoice_tags)
    assert any(len(tags) >= 2 for tags in invoice_tags)


def test_sample_offers_a_discount_that_still_applies_before_the_due_date(
    records: list[SyncRecord],
) -> None:
    discounted = [r for r in records if isinstance(r, Invoice) and r.discount_percent]
    assert len(discounted) >= 2
    for invoice in discounted:
        assert (invoice.discount_percent, invoice.discount_days) == (Decimal("2"), 8)
        assert invoice.is_dunnable
        assert 3 <= -invoice.days_overdue(TODAY) <= 10
        assert invoice.issue_date + timedelta(days=8) >= TODAY


def test_sample_has_punctual_late_but_reliable_and_risky_payers(
    records: list[SyncRecord],
) -> None:
    invoices = [r for r in records if isinstance(r, Invoice)]
    days_late: defaultdict[str, list[int]] = defaultdict(list)
    for invoice in invoices:
        if invoice.paid_on is not None:
            assert invoice.amount_open == 0 and not invoice.is_credit_note
            days_late[invoice.debtor_id].append((invoice.paid_on - invoice.due_date).days)
    debtor_count = len({r.debtor_id for r in records if isinstance(r, Debtor)})
    with_history = {debtor: late for debtor, late in days_late.items() if len(late) >= 3}
    assert len(with_history) >= debtor_count * 3 // 4

    punctual = [late for late in with_history.values() if max(late) <= 0]
    late_but_reliable = [
        late for late in with_history.values() if 5 <= min(late) <= max(late) <= 20
    ]
    risky = [late for late in with_history.values() if sum(late) / len(late) >= 30]
    assert len(punctual) >= 3
    assert len(late_but_reliable) >= 3
    assert len(risky) >= 2
    assert len(punctual) + len(late_but_reliable) + len(risky) == len(with_history)
    assert all(i.paid_on is None for i in invoices if 0 < i.amount_open < i.amount_total)
