"""``dunning serve``: due moments, catch-up, clean stop on SIGTERM, reload on SIGHUP, no overlap.

The process tests start the real CLI in its own interpreter against a real SMTP server that is
slow on purpose (each message takes a while), so a signal lands in the middle of sending.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session

from dunning.core.config import load_config
from dunning.core.config.schema import PipelineConfig
from dunning.core.service import Service, ServiceOptions
from dunning.core.service.timing import Timetable, missed
from tests.portfolio import HEADER, overdue_rows
from tests.smtp_server import RecordingHandler, SMTPTestServer, free_port

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
PIPELINE = "serve"


def timetable(**schedule: Any) -> Timetable:
    return Timetable.of(
        PipelineConfig.model_validate(
            {
                "source": {"type": "csv"},
                "creditor": {"name": "Test B.V."},
                "channels": {"email": {"type": "email"}},
                "steps": [{"name": "first", "after_due": 3, "channel": "email", "template": "t"}],
                "schedule": schedule,
            }
        )
    )


def amsterdam(*fields: int) -> datetime:
    return datetime(*fields, tzinfo=AMSTERDAM)  # type: ignore[misc]


# --- due moments ----------------------------------------------------------------------------


def test_business_days_skip_christmas_and_the_weekend():
    table = timetable(at=["09:00"])
    assert table.next_after(amsterdam(2026, 12, 24, 10, 0)) == amsterdam(2026, 12, 28, 9, 0)
    assert table.next_after(amsterdam(2026, 12, 24, 8, 59)) == amsterdam(2026, 12, 24, 9, 0)


def test_liberation_day_is_no_business_day():
    table = timetable(at=["09:00"])
    assert table.next_after(amsterdam(2026, 5, 4, 9, 0)) == amsterdam(2026, 5, 6, 9, 0)


def test_days_all_includes_weekends_and_holidays():
    table = timetable(at=["09:00"], days="all")
    assert table.next_after(amsterdam(2026, 12, 24, 10, 0)) == amsterdam(2026, 12, 25, 9, 0)


def test_times_are_read_in_the_schedule_timezone():
    table = timetable(at=["09:00"], days="all", timezone="America/New_York")
    found = table.next_after(datetime(2026, 3, 16, 12, 0, tzinfo=UTC))
    assert found is not None
    assert found.astimezone(UTC) == datetime(2026, 3, 16, 13, 0, tzinfo=UTC)


def test_default_timezone_is_the_calendar_timezone_across_a_dst_change():
    table = timetable(at=["09:00"], days="all")
    found = table.next_after(datetime(2026, 3, 29, 6, 0, tzinfo=UTC))  # CEST since 01:00 UTC
    assert found is not None
    assert found.astimezone(UTC) == datetime(2026, 3, 29, 7, 0, tzinfo=UTC)


def test_several_times_a_day_in_order():
    table = timetable(at=["14:00", "09:00"], days="all")
    assert table.next_after(amsterdam(2026, 3, 16, 9, 0)) == amsterdam(2026, 3, 16, 14, 0)
    assert table.last_at_or_before(amsterdam(2026, 3, 16, 13, 0)) == amsterdam(2026, 3, 16, 9, 0)


def test_last_due_moment_skips_back_over_closed_days():
    table = timetable(at=["09:00"])
    assert table.last_at_or_before(amsterdam(2026, 12, 27, 12, 0)) == amsterdam(2026, 12, 24, 9)


def test_catch_up_is_owed_once_however_many_moments_were_missed():
    table = timetable(at=["09:00"], days="all")
    now = amsterdam(2026, 3, 20, 12, 0)
    due = table.last_at_or_before(now)
    assert missed(due, last_run_started=amsterdam(2026, 3, 19, 9, 0, 5))  # one missed
    assert missed(due, last_run_started=amsterdam(2026, 3, 10, 9, 0))  # ten missed: still one
    assert missed(due, last_run_started=None)
    assert not missed(due, last_run_started=amsterdam(2026, 3, 20, 9, 0, 1))
    assert not missed(None, last_run_started=None)


# --- a project sending to a slow SMTP server ------------------------------------------------


class SlowHandler(RecordingHandler):
    """Accepts each message only after ``delay`` seconds, so sending takes a while."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        await asyncio.sleep(self.delay)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def slow_smtp() -> Iterator[SMTPTestServer]:
    server = SMTPTestServer()
    server.handler = server.controller.handler = SlowHandler(0.05)
    with server:
        yield server


def write_project(
    folder: Path,
    port: int,
    debtors: int,
    *,
    at: str = "03:00",
    after_due: str = "3",
    service: str = "{catch_up: false}",
) -> Path:
    """A pipeline emailing ``debtors`` overdue debtors through 127.0.0.1:``port``."""
    (folder / "invoices.csv").write_text(
        "\n".join([HEADER, *overdue_rows(debtors)]) + "\n", encoding="utf-8"
    )
    config = folder / "pipelines.yaml"
    config.write_text(
        f"""service: {service}
pipelines:
  {PIPELINE}:
    creditor: {{name: Test B.V., iban: NL91ABNA0417164300}}
    source: {{type: csv, path: invoices.csv}}
    calendar: {{business_days_only: false, send_window: null}}
    schedule: {{at: ["{at}"], days: all}}
    channels:
      email:
        type: email
        delivery: smtp
        from_address: debiteuren@example.nl
        smtp: {{host: 127.0.0.1, port: {port}, security: none, timeout: 10}}
    steps:
      - name: friendly-reminder
        after_due: {after_due}
        channel: email
        template: friendly-reminder
""",
        encoding="utf-8",
    )
    return config


def dunning(*args: str) -> list[str]:
    return [sys.executable, "-m", "dunning.core.cli", *args]


def start_serve(config: Path, log: Path, *args: str) -> subprocess.Popen[bytes]:
    with log.open("wb") as stream:
        return subprocess.Popen(
            dunning("serve", "--config", str(config), "--tick", "0.1", *args),
            stdout=subprocess.DEVNULL,
            stderr=stream,
        )


def wait_until(condition: Callable[[], Any], what: str, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def message_states(folder: Path) -> Counter[str]:
    with sqlite3.connect(folder / "dunning.db") as ledger:
        return Counter(dict(ledger.execute("select state, count(*) from messages group by state")))


def read_health(file: Path) -> dict[str, Any] | None:
    try:
        document: dict[str, Any] = json.loads(file.read_text())
    except (OSError, ValueError):
        return None
    return document


# --- the process: stop and reload -----------------------------------------------------------


def test_sigterm_leaves_unsent_messages_pending_and_run_sends_them_once(
    tmp_path: Path, slow_smtp: SMTPTestServer
):
    debtors = 80
    config = write_project(tmp_path, slow_smtp.port, debtors)
    log = tmp_path / "serve.log"
    serve = start_serve(config, log, "--run-now", "--grace", "20")
    try:
        slow_smtp.wait_for(5, timeout=40)
        serve.send_signal(signal.SIGTERM)
        assert serve.wait(timeout=20) == 0, log.read_text()
    finally:
        if serve.poll() is None:
            serve.kill()
    delivered = len(slow_smtp.messages)
    states = message_states(tmp_path)
    assert states["sending"] == 0 and states["uncertain"] == 0, states
    assert states["sent"] == delivered
    assert states["pending"] == debtors - delivered > 0, states
    assert "message(s) left pending" in log.read_text()

    finish = subprocess.run(
        dunning("run", "--config", str(config), "--quiet", "--json"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert finish.returncode == 0, finish.stderr
    received = slow_smtp.messages
    assert len(received) == debtors
    assert len({m.message_id for m in received}) == debtors
    assert sorted(r for m in received for r in m.rcpt_tos) == sorted(
        f"anna{n}@example.nl" for n in range(debtors)
    )
    assert message_states(tmp_path) == Counter({"sent": debtors})


def test_runs_still_going_after_the_grace_time_make_serve_exit_3(
    tmp_path: Path, slow_smtp: SMTPTestServer
):
    config = write_project(tmp_path, slow_smtp.port, 40)
    log = tmp_path / "serve.log"
    serve = start_serve(config, log, "--run-now", "--grace", "0")
    try:
        slow_smtp.wait_for(2, timeout=40)
        serve.send_signal(signal.SIGTERM)
        assert serve.wait(timeout=20) == 3, log.read_text()
    finally:
        if serve.poll() is None:
            serve.kill()
    assert "still running after 0 s" in log.read_text()
    assert message_states(tmp_path)["sending"] <= 1, "at most the message in flight"


def test_sighup_reloads_a_valid_file_and_keeps_running_on_a_broken_one(
    tmp_path: Path, smtp_server: SMTPTestServer
):
    port = free_port()
    service = f"{{catch_up: false, health_file: health.json, health_port: {port}}}"
    config = write_project(tmp_path, smtp_server.port, 1, service=service)
    health_file = tmp_path / "health.json"
    log = tmp_path / "serve.log"
    serve = start_serve(config, log)
    try:

        def next_run() -> str | None:
            document = read_health(health_file)
            if document is None or PIPELINE not in document["pipelines"]:
                return None
            return str(document["pipelines"][PIPELINE]["next_run"])

        assert "T03:00:00" in wait_until(next_run, "the health file")
        assert http_health(port)[0] == 200

        write_project(tmp_path, smtp_server.port, 1, service=service, at="10:30")
        serve.send_signal(signal.SIGHUP)
        wait_until(lambda: "T10:30:00" in (next_run() or ""), "the new schedule")
        wait_until(lambda: "reloaded" in log.read_text(), "the reload in the log")

        write_project(tmp_path, smtp_server.port, 1, service=service, after_due="soon")
        serve.send_signal(signal.SIGHUP)
        error = wait_until(
            lambda: (read_health(health_file) or {}).get("config_error"), "the config error"
        )
        assert "pipelines.yaml:" in error and "after_due" in error
        status, answer = http_health(port)
        assert status == 503 and answer["status"] == "degraded"
        assert "T10:30:00" in str(next_run()), "the previous config keeps running"
        wait_until(lambda: "not reloaded" in log.read_text(), "the error in the log")
        assert serve.poll() is None

        write_project(tmp_path, smtp_server.port, 1, service=service, at="11:00")
        serve.send_signal(signal.SIGHUP)
        wait_until(lambda: "T11:00:00" in (next_run() or ""), "the fixed schedule")
        fixed = read_health(health_file)
        assert fixed is not None
        assert fixed["config_error"] is None and fixed["status"] == "ok"

        serve.send_signal(signal.SIGTERM)
        assert serve.wait(timeout=20) == 0, log.read_text()
    finally:
        if serve.poll() is None:
            serve.kill()
    assert smtp_server.messages == [], "no run was due"


def http_health(port: int) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


# --- in process: overlap and catch-up -------------------------------------------------------


def serving(service: Service) -> threading.Thread:
    thread = threading.Thread(target=service.serve, daemon=True)
    thread.start()
    return thread


def run_count(folder: Path) -> int:
    with sqlite3.connect(folder / "dunning.db") as ledger:
        return int(ledger.execute("select count(*) from runs").fetchone()[0])


def test_a_trigger_while_the_pipeline_runs_is_skipped(tmp_path: Path, slow_smtp: SMTPTestServer):
    config = write_project(tmp_path, slow_smtp.port, 20)
    service = Service(load_config(config), ServiceOptions(tick=0.05))
    thread = serving(service)
    try:
        assert service.trigger(PIPELINE, "test")
        slow_smtp.wait_for(1, timeout=20)
        assert not service.trigger(PIPELINE, "test again")
        assert service.slots.wait_idle(30)
    finally:
        service.request_stop()
        thread.join(30)
    assert run_count(tmp_path) == 1
    assert len(slow_smtp.messages) == 20


def test_catch_up_runs_a_missed_pipeline_once_and_then_not_again(
    tmp_path: Path, smtp_server: SMTPTestServer
):
    config = write_project(tmp_path, smtp_server.port, 3, service="{catch_up: true}")
    loaded = load_config(config)
    late = datetime.combine(date.today(), datetime.min.time(), tzinfo=AMSTERDAM).replace(hour=23)
    service = Service(loaded, ServiceOptions(tick=0.05), clock=lambda: late.astimezone(UTC))
    thread = serving(service)
    try:
        wait_until(lambda: run_count(tmp_path) == 1 and not service.slots.busy(), "catch-up")
        service.catch_up()
        assert service.slots.wait_idle(30)
    finally:
        service.request_stop()
        thread.join(30)
    assert run_count(tmp_path) == 1
    assert len(smtp_server.messages) == 3
