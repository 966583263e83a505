"""A fake platform's WSGI app served on a real local port, in a daemon thread.

The local fakes of the platforms (Moneybird, Exact Online) derive from :class:`ServedApp` next
to their WSGI app class, so a test writes ``with FakeX(...) as fake:`` and talks HTTP to
:attr:`ServedApp.address`. Requests are not logged to stderr: each fake keeps its own log.
"""

from __future__ import annotations

import threading
from typing import Any, Self

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """The fake's own request log has it; stderr stays quiet."""


class ServedApp:
    """Serves ``self`` (a WSGI callable) while started; a context manager that starts and
    stops it."""

    _server: BaseWSGIServer | None = None
    _thread: threading.Thread | None = None

    def start(self, host: str = "127.0.0.1", port: int = 0) -> Self:
        """Serve in a daemon thread; ``port=0`` takes a free port."""
        app: Any = self
        self._server = make_server(host, port, app, threaded=True, request_handler=_QuietHandler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> Self:
        return self.start() if self._server is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def address(self) -> str:
        """``http://<host>:<port>`` of the running server."""
        if self._server is None:
            raise RuntimeError("the fake is not serving; call start() first")
        return f"http://{self._server.host}:{self._server.port}"
