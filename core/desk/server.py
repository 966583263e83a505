"""Serving the desk with werkzeug's threaded server until Ctrl-C or SIGTERM."""

from __future__ import annotations

import re
import signal
import socket
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

from flask import Flask
from werkzeug.serving import WSGIRequestHandler, make_server, select_address_family

from dunning.core.desk.app import desk_of
from dunning.core.errors import UsageError

STOP_WAIT_SECONDS = 60
"""How long stopping waits for an outcome being recorded (a confirmation mail in flight)."""
TOKEN_IN_QUERY = re.compile(r"([?&]token=)[^&\s\"]*")


class RedactingRequestHandler(WSGIRequestHandler):
    """Logs each request as werkzeug does, with the value of ``?token=`` left out."""

    def log(self, type: str, message: str, *args: Any) -> None:
        hidden = [TOKEN_IN_QUERY.sub(r"\1...", a) if isinstance(a, str) else a for a in args]
        super().log(type, message, *hidden)


def base_url(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def _listen(host: str, port: int) -> socket.socket:
    """The listening socket; a :class:`UsageError` when the address is taken or unknown (werkzeug
    would print and exit the process instead)."""
    try:
        return socket.create_server((host, port), family=select_address_family(host, port))
    except OSError as error:
        raise UsageError(
            f"desk: cannot listen on {host}:{port}: {error.strerror or error}; "
            "choose another --host or --port"
        ) from None


def _stop(_signal: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def serve(app: Flask, host: str, port: int, ready: Callable[[str], None]) -> None:
    """Serve ``app`` on ``host:port`` (port 0: a free one) until Ctrl-C or SIGTERM.

    ``ready`` gets the base URL once the socket listens. On stop no request is taken any more,
    and an outcome being recorded is let finish (up to :data:`STOP_WAIT_SECONDS`) before this
    returns, so a task is never left done without its effect."""
    listening = _listen(host, port)
    try:
        server = make_server(
            host,
            port,
            app,
            threaded=True,
            request_handler=RedactingRequestHandler,
            fd=listening.fileno(),
        )
    finally:
        listening.close()  # the server works on its own duplicate
    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _stop) if in_main else None
    try:
        ready(base_url(host, server.port))
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        if in_main:
            signal.signal(signal.SIGTERM, previous)
        server.server_close()
        recording = desk_of(app).recording
        if recording.acquire(timeout=STOP_WAIT_SECONDS):
            recording.release()
