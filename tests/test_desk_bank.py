"""The desk's Bank page: the bank lines ``dunning payments import`` could not match, assigned
or set aside in the browser through the same code as ``dunning payments assign`` and
``dismiss``.

The project is the one of ``tests/test_payments_import.py``: the hand-made portfolio synced on
2 November 2026, then the CAMT.053 .001.02 statement of 3 November imported, which leaves three
lines waiting: a 33.33 donation, 10.00 from M. Mulder for F-110 (20.00 open) and 10.00 left of
Peters Design's 60.00.
"""

from __future__ import annotations

import html
import re
import shutil
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import update
from werkzeug.test import TestResponse

from dunning.core.config import load_config
from dunning.core.desk.app import create_app
from dunning.core.ledger import Ledger
from dunning.core.ledger.bank import StoredLine
from dunning.core.ledger.schema import bank_lines
from tests.browser import headless_chromium, served
from tests.test_desk import screenshot
from tests.test_payments_import import (
    CAMT02,
    DATA,
    counts,
    csv_row,
    make_cli,
    open_amounts,
    write_config,
)

TODAY = date(2026, 11, 4)
ERROR = re.compile(r'<p class="error" id="error" role="alert">(.*?)</p>', re.DOTALL)
NOTICE = re.compile(r'<p class="effect" id="notice" role="status">(.*?)</p>', re.DOTALL)


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    """The portfolio synced as of 2 November, the 3 November statement imported."""
    shutil.copy(DATA / "portfolio.csv", tmp_path / "invoices.csv")
    write_config(tmp_path)
    cli = make_cli(tmp_path)
    synced = cli("run", "--date", "2026-11-02", "--quiet")
    assert synced.returncode == 0, synced.stderr
    imported = cli("payments", "import", str(CAMT02))
    assert imported.returncode == 0, imported.stderr
    return tmp_path


@pytest.fixture
def client(shop: Path) -> FlaskClient:
    return create_app(shop / "pipelines.yaml", token=None, today=TODAY).test_client()


def ledger_of(shop: Path) -> Ledger:
    return Ledger.open(load_config(shop / "pipelines.yaml").state_url)


def waiting(shop: Path) -> list[StoredLine]:
    ledger = ledger_of(shop)
    try:
        return ledger.bank.waiting("shop")
    finally:
        ledger.close()


def line_of(shop: Path, payer: str) -> int:
    return next(line.id for line in waiting(shop) if line.payer_name == payer)


def text_of(response: TestResponse) -> str:
    """The page as a reader sees the words (entities decoded)."""
    return html.unescape(response.get_data(as_text=True))


def row_of(page: str, line_id: int) -> str:
    """The words of the table row of bank line ``line_id``, tags left out."""
    found = re.search(rf'<tr id="line-{line_id}".*?</tr>', page, re.DOTALL)
    assert found, f"bank line {line_id} is not on the page"
    return " ".join(re.sub(r"<[^>]+>", " ", found.group(0)).split())


def csrf_of(client: FlaskClient) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/bank").get_data(True))
    assert found, "the bank page has no form with a CSRF field"
    return found.group(1)


def post(client: FlaskClient, line_id: int, action: str, **fields: str) -> TestResponse:
    """Submit the assign or dismiss form of ``line_id`` as a browser would."""
    data = {"csrf_token": csrf_of(client), "pipeline": "shop", **fields}
    return client.post(f"/bank/{line_id}/{action}", data=data)


def notice_after(client: FlaskClient, answer: TestResponse) -> tuple[str, str]:
    """Follow the redirect back to the Bank page: (the message shown there, the page)."""
    assert answer.status_code == 303, text_of(answer)
    assert answer.headers["Location"].startswith("/bank?notice=")
    page = text_of(client.get(answer.headers["Location"]))
    [notice] = NOTICE.findall(page)
    return notice, page


def test_bank_page_lists_every_waiting_line_with_payer_text_suggestion_and_note(
    client: FlaskClient, shop: Path
) -> None:
    donation, mulder, peters = (line.id for line in waiting(shop))
    page = text_of(client.get("/bank"))
    assert page.index(f'id="line-{donation}"') < page.index(f'id="line-{mulder}"')
    assert row_of(page, donation).startswith(
        f"#{donation} shop 2026-11-03 33.33 EUR Stichting Onbekend NL13TEST0123456789 donatie"
    )
    assert "M. Mulder NL58ABNA0123456789 F-110" in row_of(page, mulder)
    assert "suggestion: F-110 (10.00) by invoice-number, 70%" in row_of(page, mulder)
    assert "note: the text names F-110 with 20.00 open, but 10.00 was paid" in row_of(page, mulder)
    assert "10.00 EUR of 60.00 Peters Design NL27INGB0000026500 RF712348231" in row_of(page, peters)
    for line_id in (donation, mulder, peters):
        assert f'action="/bank/{line_id}/assign"' in page
        assert f'action="/bank/{line_id}/dismiss"' in page
    assert "bank (3 waiting)" in page


def test_call_list_links_to_the_bank_page_with_the_number_of_waiting_lines(
    client: FlaskClient,
) -> None:
    page = text_of(client.get("/"))
    assert '<a href="/bank" id="bank-link">bank (3 waiting)</a>' in page
    assert 'href="/" id="calls-link"' in text_of(client.get("/bank"))


def test_assigning_a_line_records_the_payment_writes_it_back_and_the_rest_keeps_waiting(
    client: FlaskClient, shop: Path
) -> None:
    donation = line_of(shop, "Stichting Onbekend")
    answer = post(client, donation, "assign", invoices="F-110", by="sam")
    notice, page = notice_after(client, answer)
    assert notice.startswith(f"F-110: recorded 20.00; 13.33 of bank line {donation} still waits")
    assert "written back to the source: 1 payments" in notice
    assert open_amounts(shop)["F-110"] == Decimal("0.00")
    assert csv_row(shop, "F-110")[9] == "ja"
    assert "13.33 EUR of 33.33 Stichting Onbekend" in row_of(page, donation)
    [line] = [line for line in waiting(shop) if line.id == donation]
    assert (line.remaining, line.resolved_by) == (Decimal("13.33"), "sam")
    assert text_of(client.get("/bank")).count(notice) == 0  # shown once, like a flash message

    dismissed = post(client, donation, "dismiss", reason="a gift", by="sam")
    notice, page = notice_after(client, dismissed)
    assert notice == f"bank line {donation} set aside: a gift"
    assert f'id="line-{donation}"' not in page and "Stichting Onbekend" not in page
    assert "bank (2 waiting)" in page


def test_part_of_a_line_goes_to_invoices_in_the_order_typed(
    client: FlaskClient, shop: Path
) -> None:
    donation = line_of(shop, "Stichting Onbekend")
    answer = post(client, donation, "assign", invoices="F-110, F-112", amount="25,00")
    notice, _page = notice_after(client, answer)
    assert notice.startswith(
        f"F-110: recorded 20.00, F-112: recorded 5.00; 8.33 of bank line {donation} still waits"
    )
    assert open_amounts(shop)["F-110"] == Decimal("0.00")


MISTAKES = [
    ("assign", {"invoices": "F-999"}, "invoice F-999 is not in pipeline 'shop'"),
    ("assign", {"invoices": "F-110", "amount": "50"}, "--amount 50.00 is more than the 33.33"),
    ("assign", {"invoices": "F-110", "amount": "lots"}, "amount: 'lots' is not an amount"),
    ("assign", {"invoices": " , "}, "invoices: name at least one invoice"),
    ("dismiss", {"reason": "   "}, "reason: say why dunning has nothing to do with this line"),
]


@pytest.mark.parametrize(("action", "fields", "message"), MISTAKES)
def test_a_mistake_is_one_line_on_the_page_keeps_what_was_typed_and_changes_nothing(
    client: FlaskClient, shop: Path, action: str, fields: dict[str, str], message: str
) -> None:
    donation = line_of(shop, "Stichting Onbekend")
    before = (counts(shop), open_amounts(shop), len(waiting(shop)))
    answer = post(client, donation, action, **fields)
    assert answer.status_code == 400
    page = text_of(answer)
    [error] = ERROR.findall(page)
    assert message in error and "\n" not in error and "Traceback" not in page
    if action == "assign":
        assert f'id="invoices-{donation}" value="{fields["invoices"]}"' in page
    assert "33.33 EUR Stichting Onbekend" in row_of(page, donation)
    assert (counts(shop), open_amounts(shop), len(waiting(shop))) == before


def test_a_line_no_longer_waiting_or_unknown_is_refused_with_one_line(
    client: FlaskClient, shop: Path
) -> None:
    donation = line_of(shop, "Stichting Onbekend")
    notice_after(client, post(client, donation, "dismiss", reason="a gift"))
    for action, fields, message in [
        ("assign", {"invoices": "F-110"}, f"bank line {donation} has nothing left to assign"),
        ("dismiss", {"reason": "again"}, f"bank line {donation} is not waiting for anyone"),
        ("assign", {"invoices": "F-110"}, "bank line 999 does not exist"),
    ]:
        target = 999 if "999" in message else donation
        answer = post(client, target, action, **fields)
        assert answer.status_code == 400
        [error] = ERROR.findall(text_of(answer))
        assert message in error
    assert open_amounts(shop)["F-110"] == Decimal("20.00")


def test_a_post_without_the_forms_csrf_token_is_refused_and_changes_nothing(
    client: FlaskClient, shop: Path
) -> None:
    donation = line_of(shop, "Stichting Onbekend")
    foreign = csrf_of(create_app(shop / "pipelines.yaml", token=None).test_client())
    for data in ({}, {"csrf_token": "guess"}, {"csrf_token": foreign}):
        assigned = client.post(f"/bank/{donation}/assign", data={"invoices": "F-110", **data})
        dismissed = client.post(f"/bank/{donation}/dismiss", data={"reason": "a gift", **data})
        assert (assigned.status_code, dismissed.status_code) == (403, 403)
    assert len(waiting(shop)) == 3
    assert open_amounts(shop)["F-110"] == Decimal("20.00")


def test_what_the_bank_file_says_is_shown_as_text_never_as_markup(
    client: FlaskClient, shop: Path
) -> None:
    donation = line_of(shop, "Stichting Onbekend")
    ledger = ledger_of(shop)
    try:
        with ledger.engine.begin() as connection:
            connection.execute(
                update(bank_lines)
                .where(bank_lines.c.id == donation)
                .values(payer_name="<script>alert(1)</script>", remittance='"><b>gift</b>')
            )
    finally:
        ledger.close()
    page = client.get("/bank").get_data(as_text=True)
    assert "<script>alert(1)" not in page and "<b>gift" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&#34;&gt;&lt;b&gt;gift&lt;/b&gt;" in page


@pytest.fixture
def served_desk(shop: Path) -> Iterator[str]:
    """The desk on a free loopback port, served from a thread; its base URL."""
    with served(create_app(shop / "pipelines.yaml", token=None, today=TODAY)) as url:
        yield url


def test_a_controller_assigns_a_bank_line_in_the_browser(
    served_desk: str, shop: Path, tmp_path: Path
) -> None:
    mulder = line_of(shop, "M. Mulder")
    with headless_chromium(tmp_path / "chromium-profile") as driver:
        wait = WebDriverWait(driver, 15)
        driver.get(served_desk)
        driver.find_element(By.ID, "bank-link").click()
        row = wait.until(
            expected_conditions.visibility_of_element_located((By.ID, f"line-{mulder}"))
        )
        payer = row.find_element(By.CSS_SELECTOR, "td.payer")
        assert payer.is_displayed() and payer.text.startswith("M. Mulder")
        driver.find_element(By.ID, f"invoices-{mulder}").send_keys("F-110")
        driver.find_element(By.ID, f"assign-{mulder}").click()
        notice = wait.until(expected_conditions.visibility_of_element_located((By.ID, "notice")))
        assert notice.text.startswith("F-110: recorded 10.00")
        assert driver.find_elements(By.ID, f"line-{mulder}") == []
        cell = driver.find_element(By.CSS_SELECTOR, "table.bank td.payer")
        assert cell.is_displayed() and cell.text.startswith("Stichting Onbekend")
        screenshot(driver, "bank")
    assert open_amounts(shop)["F-110"] == Decimal("10.00")
