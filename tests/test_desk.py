"""The web call desk: its pages, recording outcomes, what it refuses, who may use it, the
``dunning desk`` command, and one walk through it in a real (headless) Chromium.

The portfolio is the one of ``tests/test_calls.py``: reminders on 4 March, calls on 11 March,
which is the desk's day here. Confirmations go to a real SMTP server.
"""

from __future__ import annotations

import html
import http.cookiejar
import os
import re
import signal
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import Select, WebDriverWait
from werkzeug.test import TestResponse

from dunning.core.cli import main
from dunning.core.config import load_config
from dunning.core.desk.app import create_app
from dunning.core.desk.auth import TOKEN_ENV, desk_token
from tests.browser import headless_chromium, served
from tests.call_portfolio import B1, B2, N4, S3, CallPortfolio
from tests.conftest import ROOT, dunning_command
from tests.smtp_server import SMTPTestServer

TODAY = date(2026, 3, 11)
TOKEN = "a-long-desk-token-for-tests"
ARTIFACTS = Path(os.environ.get("DUNNING_TEST_ARTIFACTS") or ROOT / "tests" / "artifacts")


@pytest.fixture
def portfolio(tmp_path: Path, smtp_server: SMTPTestServer) -> CallPortfolio:
    """D1 Bakker (F-1 100, F-2 200), D2 Smith (F-3 900), D3 Nobel (no phone): calls for D1
    and D2 are due on 11 March, both for sanne."""
    made = CallPortfolio(tmp_path, smtp_server.port, [B1, B2, S3, N4])
    made.run("2026-03-04")
    made.run("2026-03-11")
    return made


@pytest.fixture
def client(portfolio: CallPortfolio) -> FlaskClient:
    return create_app(portfolio.config, token=None, today=TODAY).test_client()


def task_of(portfolio: CallPortfolio, debtor_id: str) -> int:
    return int(next(t["id"] for t in portfolio.tasks() if t["debtor_id"] == debtor_id))


def text_of(response: TestResponse) -> str:
    """The page as a reader sees the words (entities decoded)."""
    return html.unescape(response.get_data(as_text=True))


def csrf_of(client: FlaskClient, task_id: int) -> str:
    page = client.get(f"/calls/{task_id}").get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, "the outcome form has no CSRF field"
    return found.group(1)


def record(client: FlaskClient, task_id: int, **fields: str) -> TestResponse:
    """Submit the outcome form of ``task_id`` as a browser would ("confirm" ticked)."""
    data = {"csrf_token": csrf_of(client, task_id), "confirm": "1", **fields}
    return client.post(f"/calls/{task_id}/done", data=data)


def test_call_list_shows_todays_calls_with_whom_to_call_most_money_first(
    client: FlaskClient, portfolio: CallPortfolio
) -> None:
    page = text_of(client.get("/"))
    smith, bakker = task_of(portfolio, "D2"), task_of(portfolio, "D1")
    assert page.index("Smith Ltd (D2)") < page.index("Bakker B.V. (D1)")
    assert f'href="/calls/{smith}"' in page and f'href="/calls/{bakker}"' in page
    assert "Jan Bakker, +31 20 123 4567" in page
    assert "Anne Smith, +44 20 7946 0958" in page
    assert "900.00" in page and "300.00" in page and "10 d" in page
    assert "ladder step 'phone-call'" in page and "sanne" in page
    assert "Nobel" not in page  # no phone number, no call


def test_call_list_filters_by_controller_and_can_show_upcoming_calls(
    client: FlaskClient, portfolio: CallPortfolio
) -> None:
    assert "no calls due on 2026-03-11 for piet" in text_of(client.get("/?for=piet"))
    assert "Bakker B.V." in text_of(client.get("/?for=sanne"))
    smith = task_of(portfolio, "D2")
    record(client, smith, outcome="callback", spoken_to="Anne", on="2026-03-12", at="14:30")
    assert "Smith Ltd" not in text_of(client.get("/"))
    upcoming = text_of(client.get("/?upcoming=1"))
    assert "Smith Ltd (D2)" in upcoming and "2026-03-12 14:30" in upcoming


def test_call_page_shows_what_call_show_prints_and_the_outcome_form(
    client: FlaskClient, portfolio: CallPortfolio
) -> None:
    page = text_of(client.get(f"/calls/{task_of(portfolio, 'D1')}"))
    assert "Bakker B.V. (D1), business, nl" in page
    assert "Jan Bakker (main)" in page and "+31 20 123 4567" in page
    assert "also: Els Bakker (management), 06 12345678" in page
    assert "email: jan@bakker.nl" in page
    assert "payment behaviour: new" in page
    assert "300.00 in all, up to 10 days overdue" in page
    assert page.count('<tr class="this-call">') == 2  # F-1 and F-2 are this call's
    assert "Vraag naar Jan" in page  # talking points, in the debtor's language
    assert "step friendly-reminder by email: sent to jan@bakker.nl" in page
    for outcome in ("paid", "promise", "arrangement", "in-post", "callback", "wrong-number"):
        assert f'<option value="{outcome}">' in page
    assert "a promise to pay by a date: the ladder waits until then plus grace" in page
    assert re.search(r'name="confirm"[^>]* checked', page)


def test_recording_a_promise_pauses_the_ladder_confirms_it_and_shows_the_effect(
    client: FlaskClient, portfolio: CallPortfolio, smtp_server: SMTPTestServer
) -> None:
    bakker = task_of(portfolio, "D1")
    sent_before = len(smtp_server.messages)
    answer = record(client, bakker, outcome="promise", spoken_to="Jan", on="2026-03-20", by="sanne")
    assert answer.status_code == 303
    assert answer.headers["Location"] == f"/calls/{bakker}"
    page = text_of(client.get(f"/calls/{bakker}"))
    assert "ladder paused: promise #1 until 2026-03-20 (+3 days grace)" in page
    assert "<strong>promise</strong> (spoke to Jan) by sanne" in page
    assert 'id="outcome-form"' not in page  # done: nothing more to record
    [pause] = portfolio.pauses()
    assert (pause["kind"], pause["debtor_id"], pause["until"]) == ("promise", "D1", "2026-03-20")
    [confirmation] = smtp_server.messages[sent_before:]
    assert confirmation.rcpt_tos == ("jan@bakker.nl",)
    shown = portfolio.json("call", "show", str(bakker), "--date", "2026-03-11")
    assert shown["outcome"] == "promise" and shown["effect"] == page_effect(page)


def page_effect(page: str) -> str:
    found = re.search(r'id="effect">effect: (.*?)</p>', page)
    assert found, "no effect on the page"
    return found.group(1)


WRONG_INPUT = [
    ({"outcome": "promise", "on": "2026-03-20"}, "promise: give the name of the person you"),
    ({"outcome": "promise", "spoken_to": "Jan"}, "promise needs --on YYYY-MM-DD"),
    ({"outcome": "promise", "spoken_to": "Jan", "on": "2026-03-01"}, "is before today"),
    ({"outcome": "promise", "spoken_to": "Jan", "on": "2026-02-30"}, "on: '2026-02-30' is not"),
    ({"outcome": "promise", "spoken_to": "Jan", "on": "2026-03-20", "grace": "-1"}, "grace: '-1'"),
    ({"outcome": "callback", "spoken_to": "Jan", "on": "2026-03-12", "at": "25:00"}, "--at HH:MM"),
    ({"outcome": "paid", "amount": "lots"}, "amount: 'lots' is not an amount"),
    ({"outcome": "paid", "amount": "500"}, "is more than the 300.00 open"),
    ({"outcome": "paid", "paid_on": "2026-03-12"}, "--paid-on 2026-03-12 is in the future"),
    ({"outcome": "arrangement", "spoken_to": "Jan"}, "an arrangement needs instalments"),
    (
        {"outcome": "arrangement", "spoken_to": "Jan", "instalments": "2026-04-01=100\nsoon"},
        "instalments, line 2: 'soon'",
    ),
    (
        {"outcome": "arrangement", "spoken_to": "Jan", "instalments": "2026-04-01=100.00"},
        "the instalments add up to 100.00, but 300.00 is open",
    ),
    ({"outcome": "shouting"}, "outcome: choose one of paid, promise"),
]


@pytest.mark.parametrize(("fields", "message"), WRONG_INPUT)
def test_wrong_input_is_refused_with_one_line_keeping_what_was_typed_and_records_nothing(
    client: FlaskClient, portfolio: CallPortfolio, fields: dict[str, str], message: str
) -> None:
    bakker = task_of(portfolio, "D1")
    answer = record(client, bakker, note="typed before the mistake", **fields)
    assert answer.status_code == 400
    page = text_of(answer)
    [error] = re.findall(r'<p class="error" id="error" role="alert">(.*?)</p>', page)
    assert message in error and "\n" not in error
    assert "typed before the mistake</textarea>" in page
    for name in ("spoken_to", "on", "at", "amount", "paid_on", "grace"):
        if name in fields:
            assert f'name="{name}" id="{name}" value="{fields[name]}"' in page
    assert portfolio.pauses() == []
    assert task_of(portfolio, "D1") == bakker  # still open
    assert portfolio.db("select count(*) from payments") == [(0,)]


def test_an_outcome_is_recorded_once(client: FlaskClient, portfolio: CallPortfolio) -> None:
    bakker = task_of(portfolio, "D1")
    csrf = csrf_of(client, bakker)  # the form is gone once the outcome is recorded
    assert record(client, bakker, outcome="no-answer").status_code == 303
    again = client.post(f"/calls/{bakker}/done", data={"csrf_token": csrf, "outcome": "paid"})
    assert again.status_code == 400
    assert f"call task #{bakker} is already done (no-answer" in text_of(again)
    assert portfolio.db("select count(*) from payments") == [(0,)]


def test_a_post_without_the_forms_csrf_token_is_refused_and_records_nothing(
    client: FlaskClient, portfolio: CallPortfolio
) -> None:
    bakker = task_of(portfolio, "D1")
    other_desk = create_app(portfolio.config, token=None, today=TODAY).test_client()
    foreign = csrf_of(other_desk, bakker)
    for data in ({}, {"csrf_token": "guess"}, {"csrf_token": foreign}):
        answer = client.post(f"/calls/{bakker}/done", data={"outcome": "no-answer", **data})
        assert answer.status_code == 403
    assert task_of(portfolio, "D1") == bakker


def test_an_unknown_task_is_not_found(client: FlaskClient) -> None:
    assert client.get("/calls/999").status_code == 404
    assert "there is no call task #999" in text_of(client.get("/calls/999"))
    assert client.get("/calls/abc").status_code == 404
    csrf = csrf_of(client, 1)
    answer = client.post("/calls/999/done", data={"csrf_token": csrf, "outcome": "no-answer"})
    assert answer.status_code == 404


def test_with_a_token_every_request_must_carry_it(portfolio: CallPortfolio) -> None:
    app = create_app(portfolio.config, token=TOKEN, today=TODAY)
    anonymous = app.test_client()
    refused = anonymous.get("/")
    assert refused.status_code == 401 and refused.headers["WWW-Authenticate"].startswith("Bearer")
    assert "Bakker" not in text_of(refused)
    assert anonymous.get("/static/desk.css").status_code == 401
    assert anonymous.get("/", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert anonymous.get(f"/?token={TOKEN}x").status_code == 401
    bearer = anonymous.get("/", headers={"Authorization": f"Bearer {TOKEN}"})
    assert bearer.status_code == 200 and "Bakker" in text_of(bearer)

    browser = app.test_client()
    opened = browser.get(f"/?for=sanne&token={TOKEN}")
    assert opened.status_code == 303 and opened.headers["Location"] == "/?for=sanne"
    cookie = opened.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and TOKEN not in cookie
    assert "Bakker" in text_of(browser.get("/"))
    bakker = task_of(portfolio, "D1")
    assert record(browser, bakker, outcome="no-answer").status_code == 303


def test_without_a_token_the_desk_answers_only_to_localhost(client: FlaskClient) -> None:
    assert client.get("/", headers={"Host": "127.0.0.1:8470"}).status_code == 200
    assert client.get("/", headers={"Host": "[::1]:8470"}).status_code == 200
    rebound = client.get("/", headers={"Host": "desk.attacker.example"})
    assert rebound.status_code == 400 and "Bakker" not in text_of(rebound)


def test_every_answer_forbids_framing_and_caching(client: FlaskClient) -> None:
    headers = client.get("/").headers
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["Cache-Control"] == "no-store"
    assert headers["Referrer-Policy"] == "no-referrer"


def test_the_token_from_the_environment_wins_over_the_config(
    portfolio: CallPortfolio, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    assert desk_token(load_config(portfolio.config)) is None
    text = portfolio.config.read_text(encoding="utf-8")
    portfolio.config.write_text("desk: {token: from-config}\n" + text, encoding="utf-8")
    assert desk_token(load_config(portfolio.config)) == "from-config"
    monkeypatch.setenv(TOKEN_ENV, "from-env")
    assert desk_token(load_config(portfolio.config)) == "from-env"


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.7", "desk.example"])
def test_desk_refuses_to_listen_beyond_the_loopback_without_a_token(
    portfolio: CallPortfolio, monkeypatch: pytest.MonkeyPatch, host: str
) -> None:
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    result = CliRunner().invoke(main, ["desk", "--config", str(portfolio.config), "--host", host])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"error: desk: listening on {host} needs an access token: set desk.token in "
        f"pipelines.yaml or {TOKEN_ENV}, or listen on 127.0.0.1"
    ]


def test_desk_command_serves_on_a_free_port_keeps_the_token_out_of_its_log_and_stops_on_sigterm(
    portfolio: CallPortfolio, tmp_path: Path
) -> None:
    log = tmp_path / "desk.log"
    environment = {**os.environ, TOKEN_ENV: TOKEN}
    command = dunning_command(
        "desk", "--config", str(portfolio.config), "--port", "0", "--date", "2026-03-11"
    )
    with log.open("w") as stderr:
        desk = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=stderr, text=True, env=environment
        )
    try:
        assert desk.stdout is not None
        first = desk.stdout.readline()
        url = re.search(r"(http://127\.0\.0\.1:\d+/)", first)
        assert url, first
        assert desk.stdout.readline().strip().endswith(f"{url.group(1)}?token={TOKEN}")
        jar = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
        with jar.open(f"{url.group(1)}?token={TOKEN}", timeout=10) as page:
            assert page.url == url.group(1) and "Bakker B.V." in page.read().decode()
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(url.group(1), timeout=10)
        assert refused.value.code == 401
        desk.send_signal(signal.SIGTERM)
        rest, _ = desk.communicate(timeout=30)
    finally:
        if desk.poll() is None:
            desk.kill()
            desk.wait()
    assert desk.returncode == 0
    assert "dunning desk stopped" in rest
    logged = log.read_text()
    assert "GET /?token=... HTTP" in logged and TOKEN not in logged


@pytest.fixture
def served_desk(portfolio: CallPortfolio) -> Iterator[str]:
    """The desk on a free loopback port, served from a thread; its base URL."""
    with served(create_app(portfolio.config, token=None, today=TODAY)) as url:
        yield url


def screenshot(driver: Any, name: str) -> Path:
    """The whole page (the window stretched to its height) as ``desk-NAME.png``."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"desk-{name}.png"
    size = driver.get_window_size()
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(size["width"], max(size["height"], int(height) + 120))
    driver.execute_script("window.scrollTo(0, 0)")
    try:
        assert driver.save_screenshot(str(path)), f"no screenshot {path}"
    finally:
        driver.set_window_size(size["width"], size["height"])
    assert path.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    return path


def test_a_controller_records_a_promise_in_the_browser_and_the_ladder_pauses(
    served_desk: str, portfolio: CallPortfolio, tmp_path: Path
) -> None:
    bakker = task_of(portfolio, "D1")
    with headless_chromium(tmp_path / "chromium-profile") as driver:
        wait = WebDriverWait(driver, 15)
        driver.get(served_desk)
        assert "Bakker B.V. (D1)" in driver.find_element(By.CSS_SELECTOR, "table.calls").text
        screenshot(driver, "1-list")

        driver.find_element(By.ID, f"task-{bakker}").click()
        wait.until(expected_conditions.presence_of_element_located((By.ID, "outcome-form")))
        assert "Jan Bakker (main)" in driver.find_element(By.CSS_SELECTOR, ".callee").text

        Select(driver.find_element(By.ID, "outcome")).select_by_value("promise")
        driver.find_element(By.ID, "spoken_to").send_keys("Jan Bakker")
        on = driver.find_element(By.ID, "on")
        on.send_keys("03202026")  # the date field as an en-US user types it: MM DD YYYY
        assert on.get_attribute("value") == "2026-03-20"
        driver.find_element(By.ID, "note").send_keys("pays after the board meets")
        screenshot(driver, "2-call")
        driver.find_element(By.ID, "record").click()

        effect = wait.until(expected_conditions.presence_of_element_located((By.ID, "effect")))
        assert "ladder paused: promise #1 until 2026-03-20" in effect.text
        assert driver.current_url == f"{served_desk}calls/{bakker}"
        screenshot(driver, "3-recorded")

    [pause] = portfolio.json("pauses")
    assert (pause["kind"], pause["debtor_id"], pause["until"]) == ("promise", "D1", "2026-03-20")
    assert sorted(pause["invoices"]) == ["F-1", "F-2"]
    planned = portfolio.json("plan", "--date", "2026-03-18")
    debtors = {row["debtor_id"] for row in planned}
    assert "D2" in debtors and "D1" not in debtors  # Smith's final reminder is due, Bakker's waits
