"""The desk's pages: the call list, one call with its outcome form, and recording the outcome.

Every request opens the config and the ledger afresh and closes them before it answers, so no
connection (nor the ledger's write lock) outlives a request, and an edited ``pipelines.yaml``
counts from the next page on. Outcomes go through :func:`record_outcome`, like
``dunning call done``; the desk records one at a time, because each opens a run of its
pipeline and two at once in one process would refuse each other.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from flask import Flask, abort, redirect, render_template, request, url_for
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from dunning.core.agreements import current_user
from dunning.core.calls.model import OUTCOME_HELP, TaskStatus
from dunning.core.calls.outcomes import find_task, record_outcome
from dunning.core.calls.queue import QueueEntry, call_queue
from dunning.core.calls.sheet import call_sheet, history
from dunning.core.commands.common import opened
from dunning.core.desk.auth import protect
from dunning.core.desk.forms import OutcomeForm, blank_form, entered_form, outcome_input
from dunning.core.desk.pages import FILTERS
from dunning.core.errors import DunningError, UsageError

EXTENSION = "dunning_desk"


@dataclass
class Desk:
    """What the pages share: where the config is, the day to act as of (``None``: the local
    date of each request), and the lock that lets one outcome be recorded at a time."""

    config_path: Path
    today: date | None = None
    recording: threading.Lock = field(default_factory=threading.Lock)

    def day(self) -> date:
        return self.today or date.today()


def desk_of(app: Flask) -> Desk:
    desk: Desk = app.extensions[EXTENSION]
    return desk


def create_app(config_path: Path, *, token: str | None, today: date | None = None) -> Flask:
    """The desk for the pipelines of ``config_path``. With ``token``, every request must carry
    it (see :mod:`dunning.core.desk.auth`); without, the desk answers only to localhost.
    ``today`` fixes the day (tests, ``--date``)."""
    app = Flask(__name__)
    desk = Desk(config_path, today)
    app.extensions[EXTENSION] = desk
    app.jinja_env.filters.update(FILTERS)
    protect(app, token)

    @app.context_processor
    def _today() -> dict[str, date]:
        return {"today": desk.day()}

    @app.errorhandler(HTTPException)
    def _problem(error: HTTPException) -> tuple[str, int]:
        code = error.code or 500
        return render_template("problem.html", error=error, code=code), code

    @app.errorhandler(DunningError)
    def _failed(error: DunningError) -> tuple[str, int]:
        code = 400 if isinstance(error, UsageError) else 500
        return render_template("problem.html", message=str(error), code=code), code

    @app.get("/")
    def call_list() -> str:
        assigned_to = request.args.get("for", "").strip() or None
        upcoming = request.args.get("upcoming") == "1"
        day = desk.day()
        rows: list[QueueEntry] = []
        with opened(desk.config_path) as (config, ledger):
            for loaded in config.pipelines.values():
                rows += call_queue(
                    ledger, loaded.name, day, assigned_to=assigned_to, upcoming=upcoming
                )
        return render_template(
            "list.html", rows=rows, assigned_to=assigned_to or "", upcoming=upcoming
        )

    @app.get("/calls/<int:task_id>")
    def call_page(task_id: int) -> str:
        return _call_page(desk, task_id, blank_form(current_user()))

    @app.post("/calls/<int:task_id>/done")
    def record(task_id: int) -> Response | tuple[str, int]:
        entered = entered_form(request.form)
        try:
            given = outcome_input(entered, current_user())
            with desk.recording, opened(desk.config_path) as (config, ledger):
                record_outcome(config, ledger, task_id, given, desk.day())
        except DunningError as error:
            return _call_page(desk, task_id, entered, str(error)), 400
        return redirect(url_for("call_page", task_id=task_id), 303)

    return app


def _call_page(desk: Desk, task_id: int, entered: OutcomeForm, error: str | None = None) -> str:
    """The call sheet of task ``task_id`` with the outcome form holding ``entered`` and
    ``error`` above it; 404 when there is no such task."""
    with opened(desk.config_path) as (config, ledger):
        try:
            task, pipeline = find_task(config, ledger, task_id)
        except UsageError:
            abort(404, description=f"there is no call task #{task_id}")
        sheet = call_sheet(ledger, pipeline, task, desk.day())
    return render_template(
        "call.html",
        sheet=sheet,
        task=sheet.task,
        events=history(sheet),
        form=entered,
        error=error,
        outcomes=OUTCOME_HELP,
        is_open=task.status is TaskStatus.OPEN,
    )
