"""A real SMTP server for tests and benchmarks (aiosmtpd), in this process or in its own.

In-process: :class:`SMTPTestServer` (also as the ``smtp_server`` fixture) records every message it
accepts, counts connections, and can refuse a recipient (``550``/``451``), require a login, or
hang up after each message::

    with SMTPTestServer(auth=("user", "secret")) as server:
        ...send...
        [message] = server.wait_for(1)

Separate process (crash tests, benchmarks): ``python tests/smtp_server.py --port N --spool DIR``
writes each accepted message atomically to ``DIR/<arrival>.eml``, with the envelope as
``X-Envelope-From``/``X-Envelope-To`` headers on top; :class:`SpoolServerProcess` starts and stops
it, :func:`read_spool` reads the folder back. Only ever listens on a loopback address.
"""

from __future__ import annotations

import argparse
import itertools
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from pathlib import Path
from types import FrameType
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

LOOPBACK = "127.0.0.1"
_HEADERS = BytesHeaderParser(policy=policy.compat32)
"""Reads headers only (cheap), so the server keeps up with a client sending thousands."""
REFUSALS = {
    550: "550 5.1.1 Recipient address rejected: user unknown",
    451: "451 4.3.0 Temporary failure, please try again later",
}


def free_port(host: str = LOOPBACK) -> int:
    """A TCP port that was free a moment ago (``Controller(port=0)`` cannot report its port)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def wait_for_port(host: str, port: int, timeout: float = 10.0) -> None:
    """Return once something accepts connections on ``host:port``; ``TimeoutError`` if not."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"nothing listens on {host}:{port} after {timeout} s") from None
            time.sleep(0.02)


@dataclass(frozen=True, slots=True)
class ReceivedMessage:
    """One message the server accepted: envelope, raw bytes and its Message-ID header."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes
    message_id: str | None

    @classmethod
    def of(cls, mail_from: str, rcpt_tos: list[str], data: bytes) -> ReceivedMessage:
        message_id = _HEADERS.parsebytes(data).get("Message-ID")
        return cls(
            mail_from, tuple(rcpt_tos), data, None if message_id is None else str(message_id)
        )

    def parsed(self) -> EmailMessage:
        """The message parsed with the modern email API (``get_body``, decoded headers)."""
        parsed = message_from_bytes(self.data, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed

    @property
    def key(self) -> str | None:
        """The ``X-Dunning-Key`` header, if any."""
        value = _HEADERS.parsebytes(self.data).get("X-Dunning-Key")
        return None if value is None else str(value)


class RecordingHandler:
    """aiosmtpd handler: keeps accepted messages; refuses recipients it was told to refuse.

    Hooks run on the server's event-loop thread; every shared field is guarded by ``lock``.
    """

    def __init__(self, on_message: Callable[[ReceivedMessage], None] | None = None) -> None:
        self.lock = threading.Lock()
        self.messages: list[ReceivedMessage] = []
        self.refusals: dict[str, str] = {}
        self.data_reply: str | None = None
        self.hang_up_after_message = False
        self.on_message = on_message

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        with self.lock:
            refusal = self.refusals.get(address.lower())
        if refusal:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        with self.lock:
            data_reply, hang_up = self.data_reply, self.hang_up_after_message
        if data_reply:
            return data_reply
        content = envelope.original_content or b""
        received = ReceivedMessage.of(str(envelope.mail_from), list(envelope.rcpt_tos), content)
        if self.on_message is not None:
            self.on_message(received)
        with self.lock:
            self.messages.append(received)
            sequence = len(self.messages)
        if hang_up and server.transport is not None:
            # Closed on the next loop turn, after the 250 reply below has been written.
            server.loop.call_soon(server.transport.close)
        return f"250 2.0.0 Ok: queued as {sequence}"


class CountingSMTP(SMTP):
    """aiosmtpd's SMTP protocol that reports every new connection to ``on_connect``."""

    def __init__(self, handler: Any, *, on_connect: Callable[[], None], **kwargs: Any) -> None:
        with warnings.catch_warnings():
            # Plain-text AUTH is what a test of the login wants; the warning is noise there.
            warnings.filterwarnings("ignore", "Requiring AUTH while not requiring TLS")
            super().__init__(handler, **kwargs)
        self._on_connect = on_connect

    def connection_made(self, transport: Any) -> None:
        self._on_connect()
        super().connection_made(transport)


class CountingController(Controller):
    """A threaded controller whose protocol instances count connections."""

    def __init__(self, handler: Any, *, on_connect: Callable[[], None], **kwargs: Any) -> None:
        self._on_connect = on_connect
        super().__init__(handler, **kwargs)

    def factory(self) -> SMTP:
        return CountingSMTP(self.handler, on_connect=self._on_connect, **self.SMTP_kwargs)


class SMTPTestServer:
    """A real SMTP server on ``127.0.0.1`` in a background thread (see the module docstring).

    ``auth=(username, password)`` requires a login (AUTH PLAIN/LOGIN over plain TCP, for tests).
    ``spool`` also writes every accepted message to that folder (see :func:`spool_message`).
    """

    def __init__(
        self,
        port: int | None = None,
        *,
        auth: tuple[str, str] | None = None,
        spool: Path | None = None,
    ) -> None:
        self.host = LOOPBACK
        self.port = port or free_port()
        self.auth = auth
        self._connections = 0
        self._count_lock = threading.Lock()
        on_message = None if spool is None else _spooler(spool)
        self.handler = RecordingHandler(on_message)
        smtp_options: dict[str, Any] = {"server_hostname": "smtp.test", "ready_timeout": 10.0}
        if auth is not None:
            smtp_options.update(
                auth_required=True, auth_require_tls=False, authenticator=self._authenticate
            )
        self.controller = CountingController(
            self.handler, on_connect=self._count, hostname=self.host, port=self.port, **smtp_options
        )

    def start(self) -> SMTPTestServer:
        self.controller.start()
        # Controller.start() opens one connection itself to prove the server is up.
        with self._count_lock:
            self._connections = 0
        return self

    def stop(self) -> None:
        self.controller.stop()

    def __enter__(self) -> SMTPTestServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def messages(self) -> list[ReceivedMessage]:
        """A snapshot of the messages accepted so far, in arrival order."""
        with self.handler.lock:
            return list(self.handler.messages)

    @property
    def connections(self) -> int:
        """Client connections opened since :meth:`start`."""
        with self._count_lock:
            return self._connections

    def refuse(self, address: str, code: int = 550) -> None:
        """Answer ``RCPT TO:<address>`` with ``550`` (permanent) or ``451`` (try later)."""
        with self.handler.lock:
            self.handler.refusals[address.lower()] = REFUSALS[code]

    def accept(self, address: str) -> None:
        """Stop refusing ``address``."""
        with self.handler.lock:
            self.handler.refusals.pop(address.lower(), None)

    def answer_data_with(self, reply: str | None) -> None:
        """Answer every DATA with ``reply`` (e.g. ``"554 5.6.0 rejected"``); ``None`` accepts."""
        with self.handler.lock:
            self.handler.data_reply = reply

    def hang_up_after_each_message(self, enabled: bool = True) -> None:
        """Close the connection right after accepting each message (an idle-timeout drop)."""
        with self.handler.lock:
            self.handler.hang_up_after_message = enabled

    def wait_for(self, count: int, timeout: float = 10.0) -> list[ReceivedMessage]:
        """Poll until at least ``count`` messages arrived; ``AssertionError`` after ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            received = self.messages
            if len(received) >= count or time.monotonic() > deadline:
                break
            time.sleep(0.01)
        assert len(received) >= count, f"expected {count} messages, got {len(received)}"
        return received

    def _count(self) -> None:
        with self._count_lock:
            self._connections += 1

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        expected = self.auth
        ok = (
            expected is not None
            and isinstance(data, LoginPassword)
            and data.login.decode() == expected[0]
            and data.password.decode() == expected[1]
        )
        return AuthResult(success=ok, handled=False)


@pytest.fixture
def smtp_server() -> Iterator[SMTPTestServer]:
    """A running :class:`SMTPTestServer` without login, stopped after the test."""
    with SMTPTestServer() as server:
        yield server


# --- spooling, and the server as a separate process ---------------------------------------------

_arrivals = itertools.count(1)


def spool_message(folder: Path, message: ReceivedMessage) -> Path:
    """Write ``message`` to ``folder`` atomically (temp file, then rename) and return its path.

    File names sort in arrival order and never collide, so a message received twice is two files.
    """
    header = (
        f"X-Envelope-From: {message.mail_from}\r\nX-Envelope-To: {', '.join(message.rcpt_tos)}\r\n"
    ).encode()
    name = f"{time.time_ns():020d}-{os.getpid()}-{next(_arrivals):07d}.eml"
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".", suffix=".tmp")
    with os.fdopen(handle, "wb") as stream:
        stream.write(header + message.data)
    return Path(temporary).replace(folder / name)


def _spooler(folder: Path) -> Callable[[ReceivedMessage], None]:
    folder.mkdir(parents=True, exist_ok=True)

    def write(message: ReceivedMessage) -> None:
        spool_message(folder, message)

    return write


def read_spool(folder: Path) -> list[ReceivedMessage]:
    """The messages a spooling server wrote to ``folder``, in arrival order.

    ``data`` is the message as received, without the two ``X-Envelope-*`` lines the spool adds.
    """
    found = []
    for path in sorted(folder.glob("*.eml")):
        envelope_from, envelope_to, data = path.read_bytes().split(b"\r\n", 2)
        recipients = envelope_to.decode().removeprefix("X-Envelope-To: ").split(",")
        found.append(
            ReceivedMessage.of(
                envelope_from.decode().removeprefix("X-Envelope-From: "),
                [r.strip() for r in recipients if r.strip()],
                data,
            )
        )
    return found


class SpoolServerProcess:
    """``python tests/smtp_server.py --port N --spool DIR`` as a context manager.

    Starts the server in its own interpreter (so it does not compete with the client for the
    GIL), waits until it accepts connections, and terminates it on exit.
    """

    def __init__(self, spool: Path, port: int | None = None) -> None:
        self.spool = spool
        self.host = LOOPBACK
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> SpoolServerProcess:
        command = [sys.executable, str(Path(__file__).resolve()), "--port", str(self.port)]
        self.process = subprocess.Popen([*command, "--spool", str(self.spool)])
        try:
            wait_for_port(self.host, self.port)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def received(self) -> list[ReceivedMessage]:
        return read_spool(self.spool)

    def count(self) -> int:
        """How many messages have been spooled (cheap: counts files only)."""
        return sum(1 for _ in self.spool.glob("*.eml"))


def main(argv: list[str] | None = None) -> int:
    """Run a spooling SMTP server until SIGTERM or SIGINT."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--spool", type=Path, required=True, help="folder for received .eml files")
    parser.add_argument("--user", help="require this login (with --password)")
    parser.add_argument("--password")
    args = parser.parse_args(argv)
    auth = (args.user, args.password or "") if args.user else None
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    with SMTPTestServer(args.port, auth=auth, spool=args.spool):
        while not stop.wait(0.5):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
