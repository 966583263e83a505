"""``dunning auth exact``: authorize the app once and store the token pair in the ledger.

The authorization-code flow (API-CONTRACTS.md 1.1): the command prints the authorize address;
an Exact user who may use the division opens it and approves; Exact redirects to the app's
``redirect_uri`` with a code. When that address is on this machine (``http://localhost:8400/...``)
the command listens there and takes the code itself; otherwise (or with ``--paste``) the user
pastes the code, or the whole address the browser was sent to.
"""

from __future__ import annotations

import http.server
import threading
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import click

from dunning.core.commands.common import opened, reports_errors
from dunning.core.config import LoadedConfig, LoadedPipeline
from dunning.core.errors import UsageError
from dunning.plugins.exact.client import ExactClient
from dunning.plugins.exact.config import ExactConfig
from dunning.plugins.exact.oauth import ExactAuth, authorize_url, new_state

LOCAL_HOSTS = ("localhost", "127.0.0.1")
WAIT_SECONDS = 300


def _exact_pipelines(config: LoadedConfig, name: str | None) -> list[LoadedPipeline]:
    found = [p for p in config.pipelines.values() if isinstance(p.source_config, ExactConfig)]
    if name is not None:
        found = [p for p in found if p.name == name]
        if not found:
            raise UsageError(f"pipeline {name!r} has no exact source in pipelines.yaml")
    if not found:
        raise UsageError("no pipeline in pipelines.yaml reads an exact source")
    connections = {
        p.source_config.connection for p in found if isinstance(p.source_config, ExactConfig)
    }
    if len(connections) > 1:
        raise UsageError(
            f"the exact pipelines use connections {', '.join(sorted(connections))}: name one "
            "pipeline with --pipeline"
        )
    return found


def code_from(text: str) -> str:
    """The code in a pasted redirect address (``...?code=...&state=...``), or the text itself."""
    text = text.strip()
    if "code=" in text:
        values = parse_qs(urlsplit(text).query).get("code")
        if values:
            return values[0]
    return text


class _Callback(http.server.BaseHTTPRequestHandler):
    """Takes Exact's redirect: ``?code=...&state=...``."""

    server: _CallbackServer

    def do_GET(self) -> None:
        query = parse_qs(urlsplit(self.path).query)
        state = (query.get("state") or [""])[0]
        code = (query.get("code") or [""])[0]
        if not code or state != self.server.state:
            self.send_response(400)
            self.end_headers()
            self.wfile.write(b"This is not the answer to the authorization dunning asked for.")
            return
        # parse_qs decoded the code once; Exact wants it decoded, so keep it as it is.
        self.server.code = code
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.end_headers()
        self.wfile.write(b"dunning is authorized. You can close this window.")
        threading.Thread(target=self.server.shutdown, daemon=True).start()

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the command says what happened."""


class _CallbackServer(http.server.HTTPServer):
    def __init__(self, host: str, port: int, state: str) -> None:
        super().__init__((host, port), _Callback)
        self.state = state
        self.code: str | None = None


def _listen_for_code(redirect_uri: str, state: str, timeout: float) -> str:
    parts = urlsplit(redirect_uri)
    port = parts.port or 80
    try:
        server = _CallbackServer(parts.hostname or "127.0.0.1", port, state)
    except OSError as error:
        raise UsageError(
            f"cannot listen on {parts.hostname}:{port} for Exact's redirect ({error}); use "
            "--paste and paste the address the browser ends up on"
        ) from None
    timer = threading.Timer(timeout, server.shutdown)
    timer.start()
    try:
        server.serve_forever(poll_interval=0.1)
    finally:
        timer.cancel()
        server.server_close()
    if server.code is None:
        raise UsageError(
            f"no answer from Exact within {timeout:g} s; run `dunning auth exact` again"
        )
    return server.code


@click.group("auth")
def auth() -> None:
    """Authorize dunning at a platform (OAuth), once; the tokens are kept in the ledger."""


@auth.command("exact")
@click.option("--config", "config_path", type=click.Path(path_type=Path), default=None)
@click.option("--pipeline", default=None, help="The pipeline whose exact source to authorize.")
@click.option("--paste", is_flag=True, help="Paste the code instead of listening for it.")
@click.option("--code", default=None, help="A code already obtained (URL-decoded or not).")
@click.option("--wait", type=float, default=WAIT_SECONDS, show_default=True,
              help="Seconds to wait for the redirect.")  # fmt: skip
@reports_errors
def exact(
    config_path: Path | None, pipeline: str | None, paste: bool, code: str | None, wait: float
) -> None:
    """Run the OAuth authorization-code flow for Exact Online and store the tokens."""
    with opened(config_path) as (config, ledger):
        chosen = _exact_pipelines(config, pipeline)
        settings = chosen[0].source_config
        assert isinstance(settings, ExactConfig)
        exact_auth = ExactAuth(settings, ledger.tokens)
        if code is None:
            state = new_state()
            click.echo("Open this address, log in to Exact Online and approve dunning:")
            click.echo(authorize_url(settings, state), nl=True)
            host = urlsplit(settings.redirect_uri).hostname
            if paste or host not in LOCAL_HOSTS:
                code = code_from(click.prompt("Paste the code (or the address you landed on)"))
            else:
                click.echo(f"Waiting for the redirect to {settings.redirect_uri} ...")
                code = _listen_for_code(settings.redirect_uri, state, wait)
        exact_auth.exchange_code(code)
        client = ExactClient(settings, exact_auth)
        user = client.me("FullName,CurrentDivision")
        if settings.division is not None:  # can this user read the configured division?
            client.get("crm/Accounts", {"$select": "ID", "$top": "1"})
        division = settings.division or user.get("CurrentDivision")
        names = ", ".join(p.name for p in chosen)
        click.echo(
            f"Authorized as {user.get('FullName') or 'the Exact user'}: tokens stored in the "
            f"ledger as connection {settings.connection!r} (pipelines: {names}); division "
            f"{division} answers."
        )
