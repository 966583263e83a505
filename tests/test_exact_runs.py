"""The ``exact`` source through the real CLI in separate processes: two processes at the moment
the token must be refreshed, ``dunning auth exact``, and runs stopped by the daily limit."""

from __future__ import annotations

import json
import socket
import subprocess
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from dunning.core.config import load_config
from dunning.core.ledger import Ledger
from dunning.core.ledger.tokens import TokenPair
from dunning.core.runner import run_pipeline
from dunning.plugins.exact.client import forget_shared_limits
from dunning.plugins.exact.fake import FakeExact
from tests.conftest import dunning_command

CLIENT_ID, SECRET = "test-client", "test-secret"
DIVISIONS = (123456, 654321)
TODAY = date.today()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def fake() -> Iterator[FakeExact]:
    redirect = f"http://127.0.0.1:{free_port()}/callback"
    with FakeExact(CLIENT_ID, SECRET, redirect, divisions=DIVISIONS) as server:
        yield server


def write_project(folder: Path, fake: FakeExact) -> None:
    """Two pipelines, one per division, sharing the ``default`` connection."""
    pipelines = ""
    for name, division in zip(("north", "south"), DIVISIONS, strict=True):
        pipelines += (
            f"  {name}:\n"
            "    creditor: {name: Test B.V., iban: NL91ABNA0417164300}\n"
            "    source:\n"
            "      type: exact\n"
            f"      base_url: {fake.base_url}\n"
            "      client_id: ${EXACT_CLIENT_ID}\n"
            "      client_secret: ${EXACT_CLIENT_SECRET}\n"
            f"      redirect_uri: {fake.redirect_uri}\n"
            f"      division: {division}\n"
            "      timeout: 5\n"
            "    calendar: {business_days_only: false, quiet_channels: [], send_window: always}\n"
            "    channels:\n"
            f"      email: {{type: email, delivery: file, folder: mail-{name}, "
            "from_address: a@example.nl}\n"
            "    steps:\n"
            "      - {name: friendly-reminder, after_due: 3, channel: email,"
            " template: friendly-reminder}\n"
        )
    (folder / "pipelines.yaml").write_text(f"pipelines:\n{pipelines}", encoding="utf-8")


def overdue(fake: FakeExact, division: int, count: int) -> list[int]:
    """``count`` debtors with one overdue invoice each."""
    numbers = []
    for i in range(count):
        name, email = f"Klant {division}-{i}", f"k{i}@example.nl"
        account = fake.add_account(name, email=email, division=division)
        fake.add_contact(account.id, "Sam", f"Klant{i}", division=division)
        issued, due = TODAY - timedelta(days=60), TODAY - timedelta(days=30)
        number = fake.add_invoice(
            account.id, "121.00", invoice_date=issued, due_date=due, division=division
        )
        numbers.append(number)
    return numbers


def store_tokens(
    folder: Path, fake: FakeExact, *, age: float, left: float | None = None
) -> TokenPair:
    """Store a pair whose access token is ``age`` s old at Exact; the ledger believes it has
    ``left`` seconds (default: what Exact gives it)."""
    ledger = Ledger.open(f"sqlite:///{folder / 'dunning.db'}")
    try:
        access, refresh = fake.issue_tokens(age_seconds=age)
        remaining = 600 - age if left is None else left
        pair = TokenPair(access, refresh, datetime.now(UTC) + timedelta(seconds=remaining))
        with ledger.tokens.locked("default", "exact") as held:
            held.save(pair)
        return pair
    finally:
        ledger.close()


def stored_pair(folder: Path) -> TokenPair | None:
    ledger = Ledger.open(f"sqlite:///{folder / 'dunning.db'}")
    try:
        return ledger.tokens.load("default", "exact")
    finally:
        ledger.close()


def environment() -> dict[str, str]:
    return {"EXACT_CLIENT_ID": CLIENT_ID, "EXACT_CLIENT_SECRET": SECRET, "PATH": "/usr/bin:/bin"}


def start(folder: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        dunning_command(*args), cwd=folder, env=environment(), text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip


def mails(folder: Path) -> list[Path]:
    return sorted(folder.glob("mail-*/*.eml"))


@pytest.mark.parametrize("moment", ["expiring", "expired"])
def test_two_processes_at_the_refresh_moment_refresh_once_and_send_once(
    fake: FakeExact, tmp_path: Path, moment: str
) -> None:
    """``expiring``: the ledger's pair has 15 s left, so each process refreshes before its first
    request. ``expired``: Exact says the token expired while the ledger thinks it has minutes;
    the first answers come slowly, so every process holds the old pair when it learns it must
    refresh, and the refresh itself is slow: they all meet at the lock."""
    write_project(tmp_path, fake)
    numbers = overdue(fake, DIVISIONS[0], 3) + overdue(fake, DIVISIONS[1], 3)
    if moment == "expiring":
        old = store_tokens(tmp_path, fake, age=585)
    else:
        old = store_tokens(tmp_path, fake, age=580, left=300)
        fake.expire_access_tokens()
        fake.fail_next(3, "timeout", sleep_seconds=1.0)  # carried out, answered a second late
    fake.token_delay = 2.0

    runs = [
        start(tmp_path, "run", "--pipeline", "north", "--quiet", "--json"),
        start(tmp_path, "run", "--pipeline", "south", "--quiet", "--json"),
        start(tmp_path, "run", "--pipeline", "north", "--quiet", "--json"),
    ]
    results = [(run.wait(timeout=120), *run.communicate()) for run in runs]
    north, south, again = results
    assert south[0] == 0, south[2]
    codes = sorted([north[0], again[0]])  # the second north ran after the first, or refused
    assert codes in ([0, 0], [0, 3]), (north[2], again[2])
    if codes == [0, 3]:
        assert "already running" in (north[2] + again[2])

    assert fake.refreshes == 1
    stored = stored_pair(tmp_path)
    assert stored is not None and stored.refresh_token != old.refresh_token
    assert stored.refresh_token in fake.valid_refresh_tokens()
    used = {r.token for r in fake.log if r.path.startswith("/api/v1/") and r.status != 401}
    assert used == {stored.access_token}
    sent = mails(tmp_path)
    assert len(sent) == len(numbers) == 6
    assert len(fake.notes) == 6

    for name in ("north", "south"):  # nothing is sent twice, and the fresh token is kept
        result = subprocess.run(
            dunning_command("run", "--pipeline", name, "--quiet", "--json"), cwd=tmp_path,
            env=environment(), capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)[0]["sent"] == 0
    assert mails(tmp_path) == sent and fake.refreshes == 1


def _authorize_command(folder: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        dunning_command("auth", "exact", "--pipeline", "north", *extra), cwd=folder,
        env=environment(), text=True, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )  # fmt: skip


def _authorize_address(command: subprocess.Popen[str]) -> str:
    assert command.stdout is not None
    for _ in range(5):
        line = command.stdout.readline()
        if "/api/oauth2/auth?" in line:
            return line.strip()
    raise AssertionError("dunning auth exact printed no authorize address")


def test_auth_exact_takes_the_redirect_on_localhost_and_stores_the_pair(
    fake: FakeExact, tmp_path: Path
) -> None:
    write_project(tmp_path, fake)
    command = _authorize_command(tmp_path, "--wait", "60")
    address = _authorize_address(command)
    query = parse_qs(urlsplit(address).query)
    assert query["client_id"] == [CLIENT_ID] and query["response_type"] == ["code"]
    answer = requests.get(address, timeout=10)  # the user approves; Exact redirects
    assert answer.status_code == 200 and "authorized" in answer.text
    out, err = command.communicate(timeout=60)
    assert command.returncode == 0, err
    assert "Authorized" in out and "'default'" in out and str(DIVISIONS[0]) in out
    stored = stored_pair(tmp_path)
    assert stored is not None and stored.refresh_token in fake.valid_refresh_tokens()


def test_auth_exact_takes_a_pasted_address(fake: FakeExact, tmp_path: Path) -> None:
    write_project(tmp_path, fake)
    command = _authorize_command(tmp_path, "--paste")
    address = _authorize_address(command)
    redirect = requests.get(address, allow_redirects=False, timeout=10).headers["Location"]
    assert "%21" in redirect  # the code must be URL-decoded before it is sent
    _, err = command.communicate(redirect + "\n", timeout=60)
    assert command.returncode == 0, err
    assert stored_pair(tmp_path) is not None


def test_a_used_code_is_a_one_line_error(fake: FakeExact, tmp_path: Path) -> None:
    write_project(tmp_path, fake)
    code = fake.authorization_code()
    first = _authorize_command(tmp_path, "--code", code)
    assert first.wait(timeout=60) == 0
    second = _authorize_command(tmp_path, "--code", code)
    _, err = second.communicate(timeout=60)
    assert second.returncode == 2
    assert err.count("\n") == 1 and "run `dunning auth exact` again" in err


def test_a_run_stopped_by_the_daily_limit_sends_nothing_and_the_next_run_does(
    fake: FakeExact, tmp_path: Path
) -> None:
    write_project(tmp_path, fake)
    overdue(fake, DIVISIONS[0], 3)
    store_tokens(tmp_path, fake, age=0)
    fake.use_daily_limit(remaining=1)
    stopped = subprocess.run(
        dunning_command("run", "--pipeline", "north", "--quiet", "--json"), cwd=tmp_path,
        env=environment(), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert stopped.returncode == 1, stopped.stderr
    summary = json.loads(stopped.stdout)[0]
    assert summary["sent"] == 0 and summary["planned"] == 0
    assert "daily limit" in summary["sync_incomplete"]
    assert any("nothing was planned or sent" in p for p in summary["problems"])
    assert mails(tmp_path) == []

    fake.reset_limits()
    later = subprocess.run(
        dunning_command("run", "--pipeline", "north", "--quiet", "--json"), cwd=tmp_path,
        env=environment(), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert later.returncode == 0, later.stderr
    assert json.loads(later.stdout)[0]["sent"] == 3 and len(mails(tmp_path)) == 3


def test_a_daily_429_in_the_middle_of_a_sync(
    fake: FakeExact, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another client spends the rest of the day's calls between two pages of this sync: Exact
    answers 429 with the daily headers; the run keeps what it read, sends nothing, and makes no
    further call (write-backs included)."""
    write_project(tmp_path, fake)
    fake.seed(2_500, rng_seed=4, division=DIVISIONS[0])
    store_tokens(tmp_path, fake, age=0)
    monkeypatch.setenv("EXACT_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("EXACT_CLIENT_SECRET", SECRET)
    forget_shared_limits()
    config = load_config(tmp_path / "pipelines.yaml")
    ledger = Ledger.open(config.state_url)
    try:
        fake.clear_log()
        fake.fail_next(1, "daily", after=3)  # after accounts, contacts, a page of terms
        summary = run_pipeline(config, config.pipeline("north"), ledger, TODAY)
    finally:
        ledger.close()
        forget_shared_limits()
    statuses = [r.status for r in fake.log]
    assert statuses == [200, 200, 200, 429]  # and no call after it, write-backs included
    assert summary.synced_invoices > 0
    assert summary.sync_incomplete and "daily limit" in summary.sync_incomplete
    assert summary.sent == 0 and summary.planned == 0 and summary.exit_code == 1
    assert mails(tmp_path) == []
