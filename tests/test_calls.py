"""Call tasks from the ladder, the call list and every call outcome, through the real CLI.

Times moves with ``--date``; mail goes to a real SMTP server. See ``tests/call_portfolio.py``
for the ladder: reminder on 4 March, call on 11 March, final reminder 7 days after the call.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.call_portfolio import B1, B2, N4, S3, CallPortfolio
from tests.smtp_server import SMTPTestServer
from tests.test_pauses_cli import Inbox, only_line


@pytest.fixture
def desk(tmp_path: Path, smtp_server: SMTPTestServer) -> CallPortfolio:
    """D1 Bakker (F-1 100, F-2 200, with a management contact), D2 Smith (F-3 900, no
    management), D3 Nobel (F-4 50, no phone). Reminded on 4 March; calls created on 11 March."""
    portfolio = CallPortfolio(tmp_path, smtp_server.port, [B1, B2, S3, N4])
    portfolio.run("2026-03-04")
    portfolio.run("2026-03-11")
    return portfolio


def test_the_call_step_creates_one_task_per_debtor_with_what_the_call_needs(
    desk: CallPortfolio,
) -> None:
    tasks = desk.tasks()
    assert [t["debtor_id"] for t in tasks] == ["D2", "D1"]  # most money first
    smith, bakker = tasks
    assert smith["open_total"] == "900.00" and bakker["open_total"] == "300.00"
    assert bakker["invoices"] == ["F-1", "F-2"]
    assert bakker["due_on"] == "2026-03-11" and bakker["hours"] == "09:00-17:00"
    assert bakker["assigned_to"] == "sanne"
    assert bakker["contact"] == {"role": "main", "name": "Jan Bakker", "phone": "+31201234567"}
    assert any("Jan" in point for point in bakker["talking_points"])
    assert any("€ 300,00" in point.replace("\xa0", " ") for point in bakker["talking_points"])
    # Running again, the same day and later, never creates a second task for the step.
    desk.run("2026-03-11")
    desk.run("2026-03-12")
    assert len(desk.task_ids()) == 2


def test_a_debtor_without_a_phone_number_is_reported_and_gets_no_task(
    tmp_path: Path, smtp_server: SMTPTestServer
) -> None:
    portfolio = CallPortfolio(tmp_path, smtp_server.port, [N4])
    portfolio.run("2026-03-04")
    summary = portfolio.run("2026-03-11")
    assert portfolio.task_ids() == []
    assert any("D3 (Nobel) has no phone number" in p for p in summary["problems"])


def test_call_show_has_contacts_invoices_history_and_figures(desk: CallPortfolio) -> None:
    bakker = next(t for t in desk.tasks() if t["debtor_id"] == "D1")
    text = desk.ok("call", "show", str(bakker["id"]), "--date", "2026-03-11")
    assert "Jan Bakker (main), +31 20 123 4567" in text
    assert "also: Els Bakker (management), 06 12345678" in text
    assert "F-1" in text and "F-2" in text and "300.00 in all" in text
    assert "step friendly-reminder by email: sent to jan@bakker.nl" in text
    assert "payment behaviour: new" in text
