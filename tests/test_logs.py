"""Structured logs and redaction: no planted secret reaches stdout, stderr or the log."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from pytest_httpserver import HTTPServer
from werkzeug import Response

from dunning.core.cli import main
from dunning.core.logs import is_logging, setup_logging, silence_logging
from dunning.core.privacy.redaction import REDACTED, redact, register_secrets
from tests.conftest import dunning_command

SMTP_PASSWORD = "smtp-Pa55word-planted"
MB_ACCESS_KEY = "live_mbPlantedAccessKey42"
MOLLIE_API_KEY = "test_PlantedMollieKey0123456789abcd"
DB_PASSWORD = "db-Pa55-planted-secret"
PLANTED = (SMTP_PASSWORD, MB_ACCESS_KEY, MOLLIE_API_KEY, DB_PASSWORD)

HEADER = "factuurnummer;debiteurnummer;debiteur;contactpersoon;email;telefoon;factuurdatum;"
HEADER += "vervaldatum;bedrag"
ROWS = [
    "F-1;D1;Bakker B.V.;Jan Bakker;jan@bakker.nl;06 12345678;01-02-2026;01-03-2026;1234,56",
    "F-2;D2;Smit B.V.;Els Smit;els@smit.nl;06 87654321;01-02-2026;01-03-2026;300,00",
]


def write_project(folder: Path, server: HTTPServer, state: str = "dunning.db") -> Path:
    """A pipeline texting through MessageBird with every secret from ``.env``."""
    (folder / "invoices.csv").write_text("\n".join([HEADER, *ROWS]) + "\n", encoding="utf-8")
    (folder / ".env").write_text(
        f"SMTP_PASSWORD={SMTP_PASSWORD}\nMB_ACCESS_KEY={MB_ACCESS_KEY}\n"
        f"MOLLIE_API_KEY={MOLLIE_API_KEY}\nDB_PASSWORD={DB_PASSWORD}\n",
        encoding="utf-8",
    )
    config = folder / "pipelines.yaml"
    config.write_text(
        f"""
state: {state}
pipelines:
  main:
    creditor: {{name: Test B.V., iban: NL91ABNA0417164300}}
    source: {{type: csv, path: invoices.csv}}
    calendar: {{business_days_only: false, quiet_channels: []}}
    payment_links:
      api_key: ${{MOLLIE_API_KEY}}
      base_url: {server.url_for("")}
      retry_wait_seconds: 0
      max_attempts: 1
    channels:
      sms:
        type: sms
        provider: messagebird
        access_key: ${{MB_ACCESS_KEY}}
        originator: Voorbeeld
        base_url: {server.url_for("")}
        max_attempts: 1
        retry_wait_seconds: 0
      email:
        type: email
        delivery: file
        folder: out
        from_address: debiteuren@example.nl
        smtp: {{host: smtp.example.nl, username: mailer, password: "${{SMTP_PASSWORD}}"}}
    steps:
      - {{name: friendly-reminder, after_due: 3, channel: sms, template: friendly-reminder}}
""",
        encoding="utf-8",
    )
    return config


def echoing_providers(server: HTTPServer) -> None:
    """MessageBird and Mollie refuse the keys and quote them back, as badly behaved APIs do."""
    server.expect_request("/messages", method="POST").respond_with_response(
        Response(
            json.dumps(
                {
                    "errors": [
                        {
                            "code": 2,
                            "description": f"Request not allowed (incorrect access_key "
                            f"{MB_ACCESS_KEY}; header was AccessKey {MB_ACCESS_KEY})",
                            "parameter": "access_key",
                        }
                    ]
                }
            ),
            status=401,
            content_type="application/json",
        )
    )
    server.expect_request("/v2/payment-links", method="POST").respond_with_response(
        Response(
            json.dumps(
                {
                    "status": 401,
                    "title": "Unauthorized Request",
                    "detail": f"Invalid API key: 'Bearer {MOLLIE_API_KEY}'",
                }
            ),
            status=401,
            content_type="application/hal+json",
        )
    )


def run_cli(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DUNNING_")}
    return subprocess.run(
        dunning_command(*args, "--config", str(folder / "pipelines.yaml")),
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def assert_nothing_planted(*texts: str) -> None:
    for text in texts:
        for secret in PLANTED:
            assert secret not in text
        assert "Pa55" not in text and "Planted" not in text


def test_secrets_planted_in_config_http_errors_and_exceptions_never_reach_any_output(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    echoing_providers(httpserver)
    write_project(tmp_path, httpserver)
    log = tmp_path / "dunning.log"
    result = run_cli(tmp_path, "run", "--date", "2026-03-10", "--quiet", "--log-file", str(log))
    logged = log.read_text(encoding="utf-8")
    assert httpserver.log, "the providers were never called"
    assert_nothing_planted(result.stdout, result.stderr, logged)
    records = [json.loads(line) for line in logged.splitlines()]
    assert records and all(r["pipeline"] == "main" for r in records if "pipeline" in r)
    assert any(r["logger"] == "dunning.run" and r.get("run_id") for r in records)
    assert REDACTED in logged
    assert REDACTED in result.stderr
    status = run_cli(tmp_path, "status", "--json")
    assert_nothing_planted(status.stdout, status.stderr)


def test_a_password_in_the_ledger_url_is_redacted_from_the_error_and_the_log(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    state = "postgresql+psycopg://dunning:${DB_PASSWORD}@127.0.0.1:1/ledger?connect_timeout=2"
    write_project(tmp_path, httpserver, state=state)
    log = tmp_path / "dunning.log"
    result = run_cli(tmp_path, "run", "--log-file", str(log), "--log-format", "json")
    assert result.returncode == 3, result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("error: cannot open the ledger at ")
    assert all(line.startswith("error: ") for line in lines)
    assert "Traceback" not in result.stderr
    [record] = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert "\n" not in record["message"]  # one line, however many the error had
    assert record["level"] == "error" and record["logger"] == "dunning.cli"
    assert "dunning:[redacted]@127.0.0.1" in record["message"]
    assert_nothing_planted(result.stdout, result.stderr, json.dumps(record))


def test_without_log_options_run_output_is_unchanged_and_nothing_is_logged(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    echoing_providers(httpserver)
    write_project(tmp_path, httpserver)
    result = run_cli(tmp_path, "run", "--date", "2026-03-10", "--quiet", "--json")
    assert json.loads(result.stdout)[0]["pipeline"] == "main"
    assert all(line.startswith(("warning: ", "note: ", "error: ")) for line in
               result.stderr.splitlines())  # fmt: skip
    assert_nothing_planted(result.stdout, result.stderr)


@pytest.fixture
def stream() -> io.StringIO:
    captured = io.StringIO()
    yield captured
    silence_logging()


def test_json_lines_carry_time_level_logger_message_and_context(stream: io.StringIO) -> None:
    setup_logging("auto", stream)  # a StringIO is no terminal: JSON
    logging.getLogger("dunning.dispatch").info(
        "sent %s", "F-1", extra={"pipeline": "main", "run_id": 7, "message_id": 3,
                                 "invoice": "F-1", "channel": "sms", "step": "friendly"},
    )  # fmt: skip
    record = json.loads(stream.getvalue())
    assert record["time"].endswith("+00:00") and record["level"] == "info"
    assert record["logger"] == "dunning.dispatch" and record["message"] == "sent F-1"
    assert (record["pipeline"], record["run_id"], record["message_id"]) == ("main", 7, 3)
    assert (record["invoice"], record["channel"], record["step"]) == ("F-1", "sms", "friendly")


def test_an_exception_is_one_redacted_error_field_without_traceback(stream: io.StringIO) -> None:
    setup_logging("json", stream)
    try:
        raise RuntimeError("refused: Authorization: Bearer abc.def.ghi-secret")
    except RuntimeError:
        logging.getLogger("dunning.sync").exception("sync failed", extra={"pipeline": "main"})
    [line] = stream.getvalue().splitlines()
    record = json.loads(line)
    assert record["error"] == "RuntimeError: refused: Authorization: [redacted]"
    assert "traceback" not in record and "abc.def" not in line


def test_text_format_is_one_readable_line(stream: io.StringIO) -> None:
    setup_logging("text", stream)
    logging.getLogger("dunning.run").warning("slow", extra={"pipeline": "main", "run_id": 2})
    line = stream.getvalue()
    assert line.count("\n") == 1
    assert " warning dunning.run [pipeline=main run_id=2] slow" in line


def test_setting_up_twice_writes_each_line_once(stream: io.StringIO) -> None:
    setup_logging("json", stream)
    setup_logging("json", stream)
    logging.getLogger("dunning.run").info("once")
    assert len(stream.getvalue().splitlines()) == 1
    assert len(logging.getLogger("dunning").handlers) == 1


def test_registered_secrets_are_redacted_in_messages_arguments_and_context(
    stream: io.StringIO,
) -> None:
    setup_logging("json", stream, secrets=["registered-Secret-1"])
    register_secrets(["plugin-token-xyz99", "short"])
    logging.getLogger("dunning.plugin").info(
        "token %s and registered-Secret-1",
        "plugin-token-xyz99",
        extra={"invoice": "plugin-token-xyz99"},
    )
    line = stream.getvalue()
    assert "registered-Secret-1" not in line and "plugin-token-xyz99" not in line
    assert json.loads(line)["invoice"] == REDACTED
    assert redact("short and sweet") == "short and sweet"  # under 8 characters: not a secret


def test_registered_secret_is_found_url_encoded_and_json_escaped() -> None:
    register_secrets(['p@ss "word"/+1'])
    assert redact("pw=p%40ss%20%22word%22%2F%2B1") == f"pw={REDACTED}"
    assert redact(json.dumps({"x": 'p@ss "word"/+1'})) == json.dumps({"x": REDACTED})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Authorization: Bearer eyJhbGciOi.J9xx", "Authorization: [redacted]"),
        ("got Bearer eyJhbGciOiJIUzI1NiJ9", "got Bearer [redacted]"),
        ("header AccessKey abcdEFGH1234", "header AccessKey [redacted]"),
        ("Basic QUMxMjM0NTY3ODk6c2VjcmV0", "Basic [redacted]"),
        ("GET /o?code=1&access_token=tok123&x=2", "GET /o?code=1&access_token=[redacted]&x=2"),
        ("grant_type=refresh_token&refresh_token=r-123&client_secret=cs",
         "grant_type=refresh_token&refresh_token=[redacted]&client_secret=[redacted]"),
        ('{"password": "hun ter2", "user": "u"}', '{"password": "[redacted]", "user": "u"}'),
        ("{'api_key': 'k-1', 'apikey': 'k-2'}",
         "{'api_key': '[redacted]', 'apikey': '[redacted]'}"),
        ("login password=hunter2 user=bob", "login password=[redacted] user=bob"),
        ("token=abc; Path=/", "token=[redacted]; Path=/"),
        ("https://bob:hunter2@mail.example.nl:587/", "https://bob:[redacted]@mail.example.nl:587/"),
        ("key live_dHar4XY7LxsDOtmnkVtjNVWXLSlXsM used", "key [redacted] used"),
        ("key test_dHar4XY7LxsDOtmnkVtjNVWXLSlXsM used", "key [redacted] used"),
        ("AC0123456789abcdef0123456789abcdef:tw-auth-token@api",
         "AC0123456789abcdef0123456789abcdef:[redacted]@api"),
    ],
)  # fmt: skip
def test_secret_shaped_text_is_redacted(text: str, expected: str) -> None:
    assert redact(text) == expected
    assert redact(expected) == expected


@pytest.mark.parametrize(
    "text",
    [
        "error: pipelines.yaml:12: pipelines.main.channels.sms.access_key: field required",
        "the token expired; run dunning exact login",
        "Basic reminder sent to Bakker B.V.",
        "api_key=SecretStr('**********')",
        "invoice F-1 paid 2026-03-10",
        "GET /?token=... HTTP/1.1",  # already masked by the desk's request log
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert redact(text) == text


def test_log_format_alone_sends_readable_lines_to_stderr_after_the_commands_own(
    tmp_path: Path, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    echoing_providers(httpserver)
    write_project(tmp_path, httpserver)
    monkeypatch.setenv("DUNNING_LOG_FORMAT", "text")
    result = CliRunner().invoke(
        main,
        ["run", "--date", "2026-03-10", "--quiet", "--config", str(tmp_path / "pipelines.yaml")],
    )
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert any(line.startswith("warning: channel 'sms' stopped") for line in lines)
    logged = [line for line in lines if " dunning.run [pipeline=main run_id=1] " in line]
    assert logged and all(re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ ", line) for line in logged)
    assert any(" warning dunning.run " in line and "exit code 1" in line for line in logged)
    assert_nothing_planted(result.stdout, result.stderr)
    assert not is_logging()  # the command's handler is gone with the command
