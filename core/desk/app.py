"""The desk's pages: the call list, one call with its outcome form, and recording the outcome;
the bank lines that wait for a person, with forms to assign or set each aside.

Every request opens the config and the ledger afresh and closes them before it answers, so no
connection (nor the ledger's write lock) outlives a request, and an edited ``pipelines.yaml``
counts from the next page on. Outcomes go through :func:`record_outcome`, like
``dunning call done``; bank decisions through :func:`assign_line` and :func:`dismiss_line`,
like ``dunning payments assign`` and ``dismiss``. The desk records one thing at a time,
because each opens a run of its pipeline and two at once in one process would refuse each
other.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from flask import Flask, abort, redirect, render_template, request, url_for
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from dunning.core.agreements import current_user
from dunning.core.bank.review import AssignResult, assign_line, dismiss_line
from dunning.core.calls.model import OUTCOME_HELP, TaskStatus
from dunning.core.calls.outcomes import find_task, record_outcome
from dunning.core.calls.queue import QueueEntry, call_queue
from dunning.core.calls.sheet import call_sheet, history
from dunning.core.commands.common import opened
from dunning.core.desk.auth import protect
from dunning.core.desk.forms import (
    BankForm,
    OutcomeForm,
    blank_form,
    dismiss_reason,
    entered_bank_form,
    entered_form,
    invoice_numbers,
    outcome_input,
    typed_amount,
)
from dunning.core.desk.pages import FILTERS, cents
from dunning.core.errors import DunningError, UsageError
from dunning.core.ledger import Ledger
from dunning.core.ledger.bank import StoredLine

EXTENSION = "dunning_desk"
KEPT_NOTICES = 50


@dataclass
class Desk:
    """What the pages share: where the config is, the day to act as of (``None``: the local
    date of each request), and the lock that lets one outcome be recorded at a time."""

    config_path: Path
    today: date | None = None
    recording: threading.Lock = field(default_factory=threading.Lock)
    notices: dict[str, str] = field(default_factory=dict)

    def day(self) -> date:
        return self.today or date.today()

    def leave_notice(self, text: str) -> str:
        """Keep ``text`` for the page a POST redirects to (a flash message without a session);
        the key to fetch it with. Only the newest :data:`KEPT_NOTICES` are kept, and the key is
        random, so a crafted address cannot make the desk show a message it did not give."""
        key = secrets.token_urlsafe(12)
        self.notices[key] = text
        while len(self.notices) > KEPT_NOTICES:
            self.notices.pop(next(iter(self.notices)), None)
        return key

    def take_notice(self, key: str | None) -> str | None:
        return self.notices.pop(key, None) if key else None


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
            bank_waiting = len(_waiting_lines(config.pipelines, ledger))
        return render_template(
            "list.html",
            rows=rows,
            assigned_to=assigned_to or "",
            upcoming=upcoming,
            bank_waiting=bank_waiting,
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

    @app.get("/bank")
    def bank_page() -> str:
        return _bank_page(desk, desk.take_notice(request.args.get("notice")))

    @app.post("/bank/<int:line_id>/assign")
    def assign(line_id: int) -> Response | tuple[str, int]:
        entered = entered_bank_form(line_id, request.form)
        try:
            numbers = invoice_numbers(entered["invoices"])
            amount = typed_amount(entered["amount"])
            with desk.recording, opened(desk.config_path) as (config, ledger):
                result = assign_line(
                    config,
                    ledger,
                    line_id,
                    numbers,
                    amount=amount,
                    by=entered["by"].strip() or current_user(),
                    pipeline_name=entered["pipeline"].strip() or None,
                    write_back=True,
                )
        except DunningError as error:
            return _bank_page(desk, None, str(error), entered), 400
        return _back_to_bank(desk, _assigned_notice(line_id, result))

    @app.post("/bank/<int:line_id>/dismiss")
    def dismiss(line_id: int) -> Response | tuple[str, int]:
        entered = entered_bank_form(line_id, request.form)
        try:
            reason = dismiss_reason(entered["reason"])
            with desk.recording, opened(desk.config_path) as (config, ledger):
                line = dismiss_line(
                    config,
                    ledger,
                    line_id,
                    reason,
                    by=entered["by"].strip() or current_user(),
                    pipeline_name=entered["pipeline"].strip() or None,
                )
        except DunningError as error:
            return _bank_page(desk, None, str(error), entered), 400
        return _back_to_bank(desk, f"bank line {line.id} set aside: {reason}")

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


def _waiting_lines(pipelines: Iterable[str], ledger: Ledger) -> list[StoredLine]:
    """The bank lines that wait for a person in ``pipelines``, oldest first across them."""
    lines = [line for name in pipelines for line in ledger.bank.waiting(name)]
    return sorted(lines, key=lambda line: (line.booked_on, line.id))


def _assigned_notice(line_id: int, result: AssignResult) -> str:
    """What ``dunning payments assign`` prints, on one line:
    ``F-110: recorded 20.00; 13.33 of bank line 7 still waits``."""
    parts = [", ".join(f"{p.invoice_number}: recorded {cents(p.cents)}" for p in result.payments)]
    if result.left_cents:
        parts.append(f"{cents(result.left_cents)} of bank line {line_id} still waits")
    if result.written_back:
        parts.append(f"written back to the source: {result.written_back} payments")
    parts += [f"warning: {error}; the next run retries it" for error in result.writeback_errors]
    return "; ".join(part for part in parts if part)


def _back_to_bank(desk: Desk, notice: str) -> Response:
    return redirect(url_for("bank_page", notice=desk.leave_notice(notice)), 303)


def _bank_page(
    desk: Desk,
    notice: str | None,
    error: str | None = None,
    entered: BankForm | None = None,
) -> str:
    """The waiting bank lines with a form each; ``notice`` (what was just done) or ``error``
    above them, and ``entered`` kept in the form of its line."""
    with opened(desk.config_path) as (config, ledger):
        lines = _waiting_lines(config.pipelines, ledger)
    return render_template(
        "bank.html",
        lines=lines,
        bank_waiting=len(lines),
        notice=notice,
        error=error,
        entered=entered,
        by=current_user(),
    )
