"""``dunning desk``: the call list and the outcome form in a browser."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from dunning.core.commands.common import config_option, date_option, reports_errors
from dunning.core.config import default_config_path, load_config
from dunning.core.desk.app import create_app
from dunning.core.desk.auth import TOKEN_ENV, TOKEN_PARAMETER, desk_token, is_loopback
from dunning.core.desk.server import serve
from dunning.core.errors import UsageError
from dunning.core.ledger import Ledger


@click.command()
@config_option
@click.option("--host", default=None, help="Address to listen on (default: desk.host, 127.0.0.1).")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=None,
    help="Port to listen on (default: desk.port, 8470); 0 picks a free one.",
)
@date_option
@reports_errors
def desk(
    config_path: Path | None, host: str | None, port: int | None, as_of: datetime | None
) -> None:
    """Serve the web call desk: today's calls, each call's sheet, and recording what came of it
    (the same as `dunning calls`, `call show` and `call done`). Ctrl-C stops it.

    Any address but the loopback needs an access token: desk.token in pipelines.yaml or
    $DUNNING_DESK_TOKEN."""
    path = default_config_path(config_path)
    config = load_config(path)
    settings = config.root.desk
    host = host or settings.host
    port = settings.port if port is None else port
    token = desk_token(config)
    if token is None and not is_loopback(host):
        raise UsageError(
            f"desk: listening on {host} needs an access token: set desk.token in {path.name} "
            f"or {TOKEN_ENV}, or listen on 127.0.0.1"
        )
    Ledger.open(config.state_url).close()  # a ledger that cannot open fails now, not per page
    app = create_app(path, token=token, today=as_of.date() if as_of else None)

    def announce(url: str) -> None:
        click.echo(f"dunning desk: {url}  (Ctrl-C stops it)")
        if token is not None:
            click.echo(f"open it with its token once: {url}?{TOKEN_PARAMETER}={token}")

    serve(app, host, port, announce)
    click.echo("dunning desk stopped")


COMMANDS = (desk,)
