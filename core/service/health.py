"""The service's health: a JSON document in a file (rewritten atomically) and on ``GET /health``.

``status`` is ``degraded`` while a reload of pipelines.yaml failed (``config_error`` says why)
or when the last run of some pipeline failed or crashed; else ``ok``. The HTTP answer is 200
when ok and 503 when degraded, so a probe needs no JSON parsing.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from dunning.core.service.history import FAILED

log = logging.getLogger("dunning.service")
LOOPBACK = "127.0.0.1"


class Health:
    """What the service reports; every method is thread-safe (runs update it from workers)."""

    def __init__(self, file: Path | None) -> None:
        self.file = file
        self._lock = threading.Lock()
        self._config_error: str | None = None
        self._next_run: dict[str, datetime | None] = {}
        self._last_run: dict[str, dict[str, Any] | None] = {}

    def set_pipelines(self, next_runs: dict[str, datetime | None]) -> None:
        """The pipelines now configured and their next due moments (a reload drops others)."""
        with self._lock:
            self._next_run = dict(next_runs)
            self._last_run = {name: self._last_run.get(name) for name in next_runs}

    def set_next_run(self, pipeline: str, moment: datetime | None) -> None:
        with self._lock:
            self._next_run[pipeline] = moment

    def set_last_run(self, pipeline: str, report: dict[str, Any] | None) -> None:
        with self._lock:
            if pipeline in self._next_run:
                self._last_run[pipeline] = report

    def set_config_error(self, error: str | None) -> None:
        with self._lock:
            self._config_error = error

    def document(self) -> dict[str, Any]:
        """The health document as it stands."""
        with self._lock:
            failed = any(
                report is not None and report["status"] in FAILED
                for report in self._last_run.values()
            )
            return {
                "status": "degraded" if failed or self._config_error else "ok",
                "pid": os.getpid(),
                "updated_at": datetime.now(UTC).isoformat(),
                "config_error": self._config_error,
                "pipelines": {
                    name: {
                        "next_run": moment.isoformat() if moment else None,
                        "last_run": self._last_run.get(name),
                    }
                    for name, moment in self._next_run.items()
                },
            }

    def write(self) -> None:
        """Rewrite the health file (temp file + rename: a reader never sees half of it).

        Raises OSError when the folder is not writable."""
        if self.file is None:
            return
        text = json.dumps(self.document(), indent=2)
        handle, temporary = tempfile.mkstemp(dir=self.file.parent, prefix=".health-")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                stream.write(text)
            Path(temporary).replace(self.file)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def write_or_log(self) -> None:
        """:meth:`write`, logging (not raising) a failure: the service goes on regardless."""
        try:
            self.write()
        except OSError as error:
            log.warning("health file %s not written: %s", self.file, error.strerror or error)


class HealthServer:
    """``GET /health`` on 127.0.0.1:``port`` in a daemon thread (``port`` 0: a free one)."""

    def __init__(self, health: Health, port: int) -> None:
        """Bind the port now; OSError when it is taken."""

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.split("?", 1)[0] != "/health":
                    self.send_error(404, "only /health is served here")
                    return
                document = health.document()
                body = json.dumps(document, indent=2).encode()
                self.send_response(200 if document["status"] == "ok" else 503)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                log.debug("health request: " + format, *args)

        self._server = ThreadingHTTPServer((LOOPBACK, port), Handler)
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="dunning-health", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
