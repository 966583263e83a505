"""``sample/generate.py``: the sample export the default pipeline runs on has the promised mix."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from datetime import date
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


def test_sample_has_about_fifty_invoices_for_twenty_debtors(records: list[SyncRecord]) -> None:
    invoices = [r for r in records if isinstance(r, Invoice)]
    assert 45 <= len(invoices) <= 55
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
