"""Every in-tree channel kind through the channel conformance kit (``core/testing/channels.py``).

Each case points the channel at a real local fake of its provider: the SMTP test server, the
ledger (call tasks), an HTTP server (agency).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from dunning.core.testing.channels import ChannelUnderTest, check_channel
from tests.agency_fixtures import dossier
from tests.smtp_server import SMTPTestServer

MAIL = "zoe@example.nl"


def email_case(server: SMTPTestServer) -> ChannelUnderTest:
    def fail(kind: str | None) -> None:
        server.accept(MAIL)
        server.answer_data_with(None)
        if kind == "retryable":
            server.refuse(MAIL, 451)
        elif kind == "bad_recipient":
            server.refuse(MAIL, 550)
        elif kind == "permanent":
            server.answer_data_with("554 5.6.0 Message content rejected")

    return ChannelUnderTest(
        kind="email",
        section={
            "type": "email",
            "delivery": "smtp",
            "from_address": "kit@example.nl",
            "smtp": {"host": "127.0.0.1", "port": server.port, "security": "none", "timeout": 5},
        },
        reachable={"email": MAIL},
        unreachable={"email": "not an address"},
        delivered=lambda: len(server.messages),
        fail=fail,
        can_fail=("retryable", "permanent", "bad_recipient"),
    )


def call_case(folder: Path) -> ChannelUnderTest:
    def tasks() -> int:
        count = 0
        for db in folder.rglob("dunning.db"):
            with sqlite3.connect(db) as ledger:
                count += ledger.execute("select count(*) from call_tasks").fetchone()[0]
        return count

    return ChannelUnderTest(
        kind="call",
        section={"type": "call"},
        reachable={"telefoon": "020 123 4567"},
        unreachable={"telefoon": ""},
        delivered=tasks,
        template="phone-call",
    )


def agency_case(server: HTTPServer) -> ChannelUnderTest:
    state: dict[str, str | None] = {"failure": None}

    def answer(_request: Request) -> Response:
        failure = state["failure"]
        if failure == "retryable":
            return Response("busy", status=503)
        if failure == "permanent":
            return Response('{"error": "invalid dossier"}', status=400)
        return Response('{"id": "AG-1"}', status=201, content_type="application/json")

    server.expect_request("/intake", method="POST").respond_with_handler(answer)

    def fail(kind: str | None) -> None:
        state["failure"] = kind

    return ChannelUnderTest(
        kind="agency",
        section={
            "type": "agency",
            "delivery": "http",
            "url": server.url_for("/intake"),
            "retry_wait_seconds": 0,
            "max_attempts": 2,
        },
        reachable={},
        unreachable=None,
        delivered=lambda: sum(
            1 for r, resp in server.log if r.path == "/intake" and resp.status_code == 201
        ),
        fail=fail,
        can_fail=("retryable", "permanent"),
        template="dossier",
        prepare=lambda message: replace(message, dossier=dossier()),
    )


def test_email_channel_conforms(tmp_path: Path, smtp_server: SMTPTestServer) -> None:
    check_channel(email_case(smtp_server), tmp_path)


def test_call_channel_conforms(tmp_path: Path) -> None:
    check_channel(call_case(tmp_path), tmp_path)


def test_agency_channel_conforms(tmp_path: Path, httpserver: HTTPServer) -> None:
    check_channel(agency_case(httpserver), tmp_path)


def test_the_kit_catches_a_channel_that_sends_twice(
    tmp_path: Path, smtp_server: SMTPTestServer
) -> None:
    """The kit is honest: counting every delivery twice makes the 'once' check fail."""
    case = email_case(smtp_server)
    case.delivered = lambda: 2 * len(smtp_server.messages)
    with pytest.raises(AssertionError, match="exactly one delivery"):
        check_channel(case, tmp_path)


def letter_case(folder: Path, server: SMTPTestServer) -> ChannelUnderTest:
    def fail(kind: str | None) -> None:
        server.accept("print@post.example.nl")
        server.answer_data_with(None)
        if kind == "retryable":
            server.refuse("print@post.example.nl", 451)
        elif kind == "permanent":
            server.answer_data_with("554 5.6.0 Message content rejected")

    return ChannelUnderTest(
        kind="letter",
        section={
            "type": "letter",
            "folder": "letters",
            "sender_address": ["Industrieweg 5", "3542 AD Utrecht"],
            "print_service": {
                "to": "print@post.example.nl",
                "from_address": "kit@example.nl",
                "smtp": {"host": "127.0.0.1", "port": server.port, "security": "none"},
            },
        },
        reachable={"adres": "Kerkstraat 1", "postcode": "1234 AB", "plaats": "Utrecht"},
        unreachable={"adres": "", "postcode": "", "plaats": ""},
        delivered=lambda: len(list(folder.rglob("letters/*/*.pdf"))),
        fail=fail,
        can_fail=("retryable", "permanent"),
    )


def test_letter_channel_conforms(tmp_path: Path, smtp_server: SMTPTestServer) -> None:
    check_channel(letter_case(tmp_path, smtp_server), tmp_path)


def sms_case(server: HTTPServer) -> ChannelUnderTest:
    state: dict[str, str | None] = {"failure": None}

    def answer(_request: Request) -> Response:
        failure = state["failure"]
        if failure == "retryable":
            return Response("busy", status=503)
        if failure == "permanent":
            body = {"errors": [{"code": 21, "description": "Bad request", "parameter": "body"}]}
            return Response(json.dumps(body), status=422, content_type="application/json")
        if failure == "bad_recipient":
            body = {"errors": [{"code": 10, "description": "no (correct) recipients found",
                                "parameter": "recipients"}]}  # fmt: skip
            return Response(json.dumps(body), status=422, content_type="application/json")
        created = {"id": "mb-1", "recipients": {"totalCount": 1, "items": []}}
        return Response(json.dumps(created), status=201, content_type="application/json")

    server.expect_request("/messages", method="POST").respond_with_handler(answer)

    def fail(kind: str | None) -> None:
        state["failure"] = kind

    return ChannelUnderTest(
        kind="sms",
        section={
            "type": "sms",
            "provider": "messagebird",
            "access_key": "test_key",
            "originator": "Kit",
            "base_url": server.url_for("").rstrip("/"),
            "retry_wait_seconds": 0,
            "max_attempts": 2,
        },
        reachable={"telefoon": "06 12345678"},
        unreachable={"telefoon": "020 123 4567"},
        delivered=lambda: sum(
            1 for r, resp in server.log if r.path == "/messages" and resp.status_code == 201
        ),
        fail=fail,
        can_fail=("retryable", "permanent", "bad_recipient"),
    )


def test_sms_channel_conforms(tmp_path: Path, httpserver: HTTPServer) -> None:
    check_channel(sms_case(httpserver), tmp_path)
