"""Call tasks mirrored into the source's own task list, for a source that can (``tasks``).

The source here is the CSV source with the ``tasks`` capability added, registered through the
plugin hook like a third-party plugin, creating tasks on a real local HTTP server.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import ClassVar

import requests
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from dunning.core import hookimpl
from dunning.core.calls.model import CallTask
from dunning.core.config import load_config
from dunning.core.errors import SourceError
from dunning.core.ledger import Ledger
from dunning.core.plugins import get_plugin_manager, load_registry
from dunning.core.runner import run_pipeline
from dunning.core.source import Capability
from dunning.plugins.csv.source import CsvSource
from tests.call_portfolio import B1, B2, CALL_HEADER, CALL_LADDER


class TaskingCsvSource(CsvSource):
    kind = "csv-with-tasks"
    capabilities = CsvSource.capabilities | {Capability.TASKS}
    endpoint: ClassVar[str] = ""

    def create_task(self, task: CallTask) -> str:
        response = requests.post(
            self.endpoint,
            json={
                "subject": f"Call {task.contact_name}",
                "due": task.due_on.isoformat(),
                "account": task.debtor_id,
                "key": f"dunning-call-{task.id}",
            },
            timeout=5,
        )
        if response.status_code != 201:
            raise SourceError(f"task not created: HTTP {response.status_code}")
        return str(response.json()["id"])


class Plugin:
    @staticmethod
    @hookimpl
    def dunning_register_sources(register):  # type: ignore[no-untyped-def]
        register(TaskingCsvSource)


def test_call_tasks_are_mirrored_once_and_a_failure_is_retried(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    answers = iter([Response("busy", status=503), Response('{"id": "T-77"}', status=201)])
    httpserver.expect_request("/tasks", method="POST").respond_with_handler(
        lambda _request: next(answers)
    )
    TaskingCsvSource.endpoint = httpserver.url_for("/tasks")
    (tmp_path / "invoices.csv").write_text(f"{CALL_HEADER}\n{B1}\n{B2}\n", encoding="utf-8")
    (tmp_path / "pipelines.yaml").write_text(
        "pipelines:\n  main:\n    creditor: {name: Test B.V.}\n"
        "    source: {type: csv-with-tasks, path: invoices.csv}\n"
        "    calendar: {business_days_only: false, quiet_channels: []}\n"
        "    channels:\n"
        "      email: {type: email, delivery: file, folder: mail, from_address: a@example.nl}\n"
        "      phone: {type: call}\n"
        f"    steps:\n{CALL_LADDER}",
        encoding="utf-8",
    )
    manager = get_plugin_manager()
    manager.register(Plugin(), name="tasking")
    config = load_config(tmp_path / "pipelines.yaml", load_registry(manager))
    pipeline = config.pipeline("main")
    ledger = Ledger.open(f"sqlite:///{tmp_path / 'dunning.db'}")
    try:
        for day in (date(2026, 3, 4), date(2026, 3, 11), date(2026, 3, 12), date(2026, 3, 13)):
            noon = datetime(day.year, day.month, day.day, 11, tzinfo=UTC)
            summary = run_pipeline(config, pipeline, ledger, day, retry_wait=0, now=noon)
            if day == date(2026, 3, 11):
                assert any("not created in the source: task not created: HTTP 503" in p
                           for p in summary.problems)  # fmt: skip
        [task] = ledger.calls.open("main")
    finally:
        ledger.close()
    assert task.source_ref == "T-77"
    bodies = [request.get_json() for request, _ in httpserver.log]
    assert [b["key"] for b in bodies] == [f"dunning-call-{task.id}"] * 2  # failed, then created
    assert isinstance(httpserver.log[0][0], Request)
