"""``dunning report`` against a hand-made portfolio whose every figure is computed by hand below.

The portfolio is written straight into a real SQLite ledger (the tables a run fills), so each
edge sits exactly where the test wants it: an invoice due today, one exactly 30 and one exactly
90 days past due, a credit note, an invoice gone from the source, a dropped message item, a
bounced, a failed, a pending, an uncertain and a cancelled message, and a removed ladder step.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from sqlalchemy import insert

from dunning.core.config import load_config
from dunning.core.insight.figures import compute_figures, to_json_dict
from dunning.core.insight.html import render_report
from dunning.core.ledger import Ledger
from dunning.core.ledger.schema import (
    debtors,
    invoices,
    message_items,
    messages,
    pauses,
    receivable_snapshots,
)
from tests.browser import headless_chromium
from tests.conftest import ROOT, dunning_command

AS_OF = date(2026, 3, 16)
ARTIFACTS = Path(os.environ.get("DUNNING_TEST_ARTIFACTS") or ROOT / "tests" / "artifacts")
NOW = datetime(2026, 3, 16, 8, 0, tzinfo=UTC)

CONFIG = """
pipelines:
  acme:
    creditor: {name: Acme B.V., iban: NL91ABNA0417164300}
    source: {type: csv, path: invoices.csv}
    channels:
      email:
        type: email
        delivery: smtp
        from_address: debiteuren@example.nl
        smtp: {host: 127.0.0.1, port: 2525, security: none, timeout: 10}
    debtors:
      D1: {segment: late-but-reliable}
    steps:
      - {name: friendly-reminder, after_due: 3, channel: email, template: friendly-reminder}
      - {name: second-reminder, after_previous: 7, channel: email, template: second-reminder}
      - {name: final-demand, after_previous: 14, channel: email, template: final-demand}
"""

# number, debtor, issued, due, total, open, credit note, in source, paid on, days late
INVOICES = [
    # open on 16 March (days past due = 16 March - due date)
    ("I1", "D1", "2026-03-01", "2026-03-31", 100000, 100000, 0, 1, None, None),  # -15: not due
    ("I2", "D1", "2026-02-01", "2026-03-16", 50000, 20000, 0, 1, None, None),  # 0: not due
    ("I3", "D2", "2026-01-15", "2026-02-14", 240000, 240000, 0, 1, None, None),  # 30: 1-30
    ("I4", "D2", "2025-12-01", "2026-01-15", 80000, 80000, 0, 1, None, None),  # 60: 31-60
    ("I5", "D3", "2025-11-01", "2025-12-15", 150000, 150000, 0, 1, None, None),  # 91: 90+
    ("I6", "D3", "2025-12-16", "2025-12-16", 30000, 30000, 0, 1, None, None),  # 90: 61-90
    # not open: a credit note, and an invoice gone from the source
    ("I7", "D4", "2026-03-10", "2026-03-10", -15000, -15000, 1, 1, None, None),
    ("I8", "D4", "2026-02-20", "2026-03-06", 70000, 70000, 0, 0, None, None),
    # paid
    ("P1", "D1", "2026-01-10", "2026-02-09", 60000, 0, 0, 1, "2026-02-05", -4),
    ("P2", "D2", "2025-12-20", "2026-01-19", 90000, 0, 0, 1, "2026-01-25", 6),
    ("P3", "D3", "2025-10-01", "2025-10-31", 120000, 0, 0, 1, "2026-01-10", 71),
    ("P4", "D4", "2026-01-05", "2026-02-04", 40000, 0, 0, 1, "2026-02-20", 16),
]
DEBTORS = {"D1": "Alpha B.V.", "D2": "Bravo & Zonen", "D3": "Charlie Ltd", "D4": "Delta GmbH"}

# channel, step, kind, state, bounced, items (number, or (number, cancelled reason))
MESSAGES: list[tuple[str, str, str, str, int, list[Any]]] = [
    ("email", "friendly-reminder", "step", "sent", 0, ["P2", "I4"]),
    ("email", "friendly-reminder", "step", "sent", 0, ["P3"]),
    ("email", "second-reminder", "step", "sent", 0, ["P3", "I5"]),
    ("post", "final-demand", "step", "uncertain", 0, ["P3"]),
    ("email", "friendly-reminder", "step", "sent", 0, ["P4", ("I3", "paid meanwhile")]),
    ("email", "second-reminder", "step", "failed", 1, ["P4"]),  # bounced: not reached
    ("email", "second-reminder", "step", "failed", 0, ["I4"]),  # failed: not reached
    ("email", "final-demand", "step", "pending", 0, ["I5"]),  # not sent yet
    ("email", "thank-you", "thanks", "sent", 0, ["P1"]),  # not a ladder step
    ("email", "friendly-reminder", "step", "cancelled", 0, ["I6"]),
    ("post", "old-call", "step", "sent", 0, ["I6"]),  # a step removed from the ladder since
]
OLD_LADDER = ["friendly-reminder", "old-call", "second-reminder", "final-demand"]

# debtor, kind, status, open at start
PAUSES = [
    ("D2", "promise", "kept", 90000),
    ("D3", "promise", "broken", 150000),
    ("D3", "promise", "broken", 30000),
    ("D2", "promise", "active", 240000),
    ("D1", "arrangement", "active", 100000),
    ("D4", "dispute", "resolved", 40000),
]

# Earlier snapshots: 2 March (DSO 5000.00 / 5000.00 x 90 = 90.0), 9 March (no sales: n/a), a
# stale one of 16 March (replaced by today's figures) and one after the report day (left out).
SNAPSHOTS = [
    ("2026-03-02", 500000, 400000, 5, 500000),
    ("2026-03-09", 450000, 450000, 5, 0),
    ("2026-03-16", 1, 1, 1, 1),
    ("2026-03-20", 2, 2, 2, 2),
]


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def write_portfolio(ledger: Ledger, pipeline: str) -> None:
    with ledger.engine.begin() as connection:
        for debtor_id, name in DEBTORS.items():
            connection.execute(
                insert(debtors).values(
                    pipeline=pipeline,
                    debtor_id=debtor_id,
                    name=name,
                    language="en",
                    kind="business",
                    synced_at=NOW,
                )
            )
        for number, debtor_id, issued, due, total, open_, credit, in_source, paid, late in INVOICES:
            connection.execute(
                insert(invoices).values(
                    pipeline=pipeline,
                    number=number,
                    debtor_id=debtor_id,
                    issue_date=_day(issued),
                    due_date=_day(due),
                    amount_total_cents=total,
                    amount_open_cents=open_,
                    currency="EUR",
                    is_credit_note=credit,
                    in_source=in_source,
                    synced_at=NOW,
                    paid_on=_day(paid),
                    days_late=late,
                )
            )
        for index, (channel, step, kind, state, bounced, items) in enumerate(MESSAGES):
            inserted = connection.execute(
                insert(messages).values(
                    pipeline=pipeline,
                    idempotency_key=f"{pipeline}:m{index}",
                    debtor_id="D1",
                    channel=channel,
                    step=step,
                    template=step,
                    planned_for=AS_OF,
                    state=state,
                    attempts=1,
                    created_at=NOW,
                    updated_at=NOW,
                    kind=kind,
                    bounced=bounced,
                )
            )
            assert inserted.inserted_primary_key is not None
            message_id = inserted.inserted_primary_key[0]
            for item in items:
                number, cancelled = item if isinstance(item, tuple) else (item, None)
                connection.execute(
                    insert(message_items).values(
                        message_id=message_id,
                        pipeline=pipeline,
                        invoice_number=number,
                        step=step,
                        item_key=f"{pipeline}:{number}:{step}",
                        amount_open_cents=1,
                        cancelled_reason=cancelled,
                    )
                )
        for debtor_id, kind, status, cents in PAUSES:
            connection.execute(
                insert(pauses).values(
                    pipeline=pipeline,
                    debtor_id=debtor_id,
                    kind=kind,
                    invoice_numbers="",
                    reason="test",
                    starts_on=date(2026, 1, 1),
                    grace_days=0,
                    open_at_start_cents=cents,
                    status=status,
                    created_by="test",
                    created_at=NOW,
                )
            )
        for day, open_cents, overdue, count, sales in SNAPSHOTS:
            connection.execute(
                insert(receivable_snapshots).values(
                    pipeline=pipeline,
                    as_of=_day(day),
                    open_cents=open_cents,
                    overdue_cents=overdue,
                    open_count=count,
                    sales_cents=sales,
                    sales_days=90,
                    recorded_at=NOW,
                )
            )
    ledger.ladders.record(pipeline, [{"name": name} for name in OLD_LADDER])


def tally(count: int, amount: str) -> dict[str, Any]:
    return {"count": count, "amount": amount}


# Sales: invoices issued 17 December 2025 - 16 March 2026: I1 1000 + I2 500 + I3 2400 - I7 150
# (credit note) + I8 700 (gone from the source, still sold) + P1 600 + P2 900 + P4 400 = 6350.00.
# I6 (16 December) is one day too early; I4, I5, P3 are older.
# Open: I1 1000 + I2 200 + I3 2400 + I4 800 + I5 1500 + I6 300 = 6200.00 in 6 invoices;
# overdue: I3 + I4 + I5 + I6 = 5000.00 in 4. DSO = 6200 / 6350 x 90 = 87.87 -> 87.9.
# Funnel reached: friendly: P2, I4, P3, P4 (I3 was dropped from its message) = 4; old-call: I6;
# second: P3, I5 (P4's bounced and I4's failed message do not count) = 2; final-demand: P3 (an
# uncertain message counts; I5's pending one does not) = 1. Furthest step reached: P2, P4 ->
# friendly (900 + 400), P3 -> final-demand (1200); P1 reached none (600).
# Segments: D1 from the config; D2 one paid invoice, no broken promise: new; D3 one paid
# invoice and two broken promises: risky. Top debtors: D2 2400 + 800, oldest due 15 January
# (60 days); D3 1500 + 300, oldest due 15 December (91 days); D1 1000 + 200, oldest due today.
# Channels: email sent M1 M2 M3 M5 and the thank-you (5), bounced 1, failed 1, pending 1,
# cancelled 1; post: old-call sent, final-demand uncertain.
EXPECTED: dict[str, Any] = {
    "pipeline": "acme",
    "as_of": "2026-03-16",
    "open": tally(6, "6200.00"),
    "overdue": tally(4, "5000.00"),
    "sales": {"days": 90, "amount": "6350.00"},
    "dso": "87.9",
    "dso_trend": [
        {"as_of": "2026-03-02", "dso": "90.0", "open": "5000.00", "sales": "5000.00"},
        {"as_of": "2026-03-09", "dso": None, "open": "4500.00", "sales": "0.00"},
        {"as_of": "2026-03-16", "dso": "87.9", "open": "6200.00", "sales": "6350.00"},
    ],
    "aging": [
        {"bucket": "not due", "count": 2, "amount": "1200.00"},
        {"bucket": "1-30", "count": 1, "amount": "2400.00"},
        {"bucket": "31-60", "count": 1, "amount": "800.00"},
        {"bucket": "61-90", "count": 1, "amount": "300.00"},
        {"bucket": "90+", "count": 1, "amount": "1500.00"},
    ],
    "funnel": [
        {
            "step": "friendly-reminder",
            "in_ladder": True,
            "reached": 4,
            "paid_after": tally(2, "1300.00"),
        },
        {"step": "old-call", "in_ladder": False, "reached": 1, "paid_after": tally(0, "0.00")},
        {
            "step": "second-reminder",
            "in_ladder": True,
            "reached": 2,
            "paid_after": tally(0, "0.00"),
        },
        {
            "step": "final-demand",
            "in_ladder": True,
            "reached": 1,
            "paid_after": tally(1, "1200.00"),
        },
    ],
    "paid_before_any_step": tally(1, "600.00"),
    "promises": {
        "kept": tally(1, "900.00"),
        "broken": tally(2, "1800.00"),
        "active": tally(1, "2400.00"),
        "lifted": tally(0, "0.00"),
    },
    "arrangements": {
        "kept": tally(0, "0.00"),
        "broken": tally(0, "0.00"),
        "active": tally(1, "1000.00"),
        "lifted": tally(0, "0.00"),
    },
    "top_debtors": [
        {
            "debtor_id": "D2",
            "name": "Bravo & Zonen",
            "open": "3200.00",
            "invoices": 2,
            "oldest_days_overdue": 60,
            "segment": "new",
        },
        {
            "debtor_id": "D3",
            "name": "Charlie Ltd",
            "open": "1800.00",
            "invoices": 2,
            "oldest_days_overdue": 91,
            "segment": "risky",
        },
        {
            "debtor_id": "D1",
            "name": "Alpha B.V.",
            "open": "1200.00",
            "invoices": 2,
            "oldest_days_overdue": 0,
            "segment": "late-but-reliable",
        },
    ],
    "channels": [
        {
            "channel": "email",
            "sent": 5,
            "bounced": 1,
            "failed": 1,
            "pending": 1,
            "uncertain": 0,
            "cancelled": 1,
        },
        {
            "channel": "post",
            "sent": 1,
            "bounced": 0,
            "failed": 0,
            "pending": 0,
            "uncertain": 1,
            "cancelled": 0,
        },
    ],
    "bank": {  # no statement imported (tests/test_payments_import.py has one that is)
        outcome: {"count": 0, "amount": "0.00"}
        for outcome in ("matched", "assigned", "waiting", "set-aside", "returned")
    },
}


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    """The ``acme`` pipeline with the hand-made portfolio in its ledger."""
    (tmp_path / "invoices.csv").write_text("", encoding="utf-8")
    path = tmp_path / "pipelines.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    config = load_config(path)
    ledger = Ledger.open(config.state_url)
    try:
        write_portfolio(ledger, "acme")
    finally:
        ledger.close()
    return path


def dunning(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        dunning_command(*args), cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_json_figures_match_the_hand_computed_portfolio(config_path: Path) -> None:
    done = dunning("report", "--json", "--date", "2026-03-16", cwd=config_path.parent)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [EXPECTED]
    assert not (config_path.parent / "reports").exists()  # --json writes no file


def test_html_report_holds_the_same_figures_and_nothing_external(config_path: Path) -> None:
    done = dunning("report", "--date", "2026-03-16", cwd=config_path.parent)
    assert done.returncode == 0, done.stderr
    path = config_path.parent / "reports" / "report-acme.html"
    assert done.stdout.strip() == str(path)
    html = path.read_text(encoding="utf-8")
    cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", html)]
    for row in (
        ["not due", "2", "1,200.00"],
        ["1-30", "1", "2,400.00"],
        ["31-60", "1", "800.00"],
        ["61-90", "1", "300.00"],
        ["90+", "1", "1,500.00"],
        ["D2", "Bravo &amp; Zonen", "3,200.00", "2", "60", "new"],
        ["D3", "Charlie Ltd", "1,800.00", "2", "91", "risky"],
        ["friendly-reminder", "4", "2", "1,300.00"],
        ["final-demand", "1", "1", "1,200.00"],
        ["2026-03-09", "4,500.00", "0.00", "n/a"],
        ["2026-03-16", "6,200.00", "6,350.00", "87.9"],
        ["email", "5", "1", "1", "1", "0", "1"],
        ["promises", "1 (900.00)", "2 (1,800.00)", "1 (2,400.00)", "0 (0.00)"],
    ):
        start = cells.index(row[0])
        assert cells[start : start + len(row)] == row
    assert html.count("<svg ") == 4
    again = dunning("report", "--out", "again", "--date", "2026-03-16", cwd=config_path.parent)
    assert again.returncode == 0, again.stderr
    assert (config_path.parent / "again" / "report-acme.html").read_text(encoding="utf-8") == html
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", html, re.I)
    assert "<script" not in html.lower()
    assert "@import" not in html
    assert not re.search(r"""url\(\s*["']?(?!#)""", html)  # only url(#clip-path) in the charts


def test_figures_computed_in_process_match_the_portfolio(config_path: Path) -> None:
    config = load_config(config_path)
    ledger = Ledger.open(config.state_url)
    try:
        figures = compute_figures(config, ledger, "acme", AS_OF)
    finally:
        ledger.close()
    assert to_json_dict(figures) == EXPECTED
    assert render_report(figures) == render_report(figures)


def test_an_empty_pipeline_reports_zeros_and_no_dso(tmp_path: Path) -> None:
    (tmp_path / "invoices.csv").write_text("", encoding="utf-8")
    (tmp_path / "pipelines.yaml").write_text(CONFIG, encoding="utf-8")
    config = load_config(tmp_path / "pipelines.yaml")
    ledger = Ledger.open(config.state_url)
    try:
        figures = compute_figures(config, ledger, "acme", AS_OF)
    finally:
        ledger.close()
    data = to_json_dict(figures)
    assert (data["open"], data["dso"], data["top_debtors"]) == (tally(0, "0.00"), None, [])
    assert [s["reached"] for s in data["funnel"]] == [0, 0, 0]
    html = render_report(figures)
    assert html.count("<svg ") == 4 and "nothing open" in html and "DSO n/a" in html


def test_report_opens_in_a_headless_browser_with_its_charts(
    config_path: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    done = dunning("report", "--date", "2026-03-16", "--out", str(out), cwd=config_path.parent)
    assert done.returncode == 0, done.stderr
    with headless_chromium(tmp_path / "chromium-profile") as driver:
        driver.get((out / "report-acme.html").as_uri())
        assert driver.find_element(By.CSS_SELECTOR, "#kpi-dso .value").text == "87.9"
        assert driver.find_element(By.CSS_SELECTOR, "#kpi-open .value").text == "6,200.00"
        first = driver.find_element(By.CSS_SELECTOR, "#top-debtors tbody tr")
        assert [td.text for td in first.find_elements(By.TAG_NAME, "td")] == [
            "D2",
            "Bravo & Zonen",
            "3,200.00",
            "2",
            "60",
            "new",
        ]
        charts = driver.find_elements(By.CSS_SELECTOR, "svg.chart")
        assert [c.get_attribute("id") for c in charts] == [
            "chart-aging",
            "chart-dso",
            "chart-funnel",
            "chart-channels",
        ]
        for chart in charts:
            assert chart.size["width"] > 100 and chart.size["height"] > 50
        funnel_labels = driver.find_element(By.ID, "chart-funnel").text
        assert "old-call" in funnel_labels and "final-demand" in funnel_labels
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(1280, int(height) + 120)
        shot = ARTIFACTS / "report.png"
        assert driver.save_screenshot(str(shot))
    assert shot.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_an_unknown_pipeline_is_a_one_line_usage_error(config_path: Path) -> None:
    done = dunning("report", "--pipeline", "nope", cwd=config_path.parent)
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1
    assert "no pipeline named 'nope'" in done.stderr


def test_an_unwritable_out_folder_is_a_one_line_usage_error(config_path: Path) -> None:
    blocker = config_path.parent / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    done = dunning("report", "--out", str(blocker / "reports"), cwd=config_path.parent)
    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()
    assert line.startswith(f"error: --out {blocker / 'reports'}: cannot write the report there")
