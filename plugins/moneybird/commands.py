"""``dunning moneybird``: commands for setting up a Moneybird source."""

from __future__ import annotations

import click

from dunning.core.errors import DunningError
from dunning.plugins.moneybird.client import MoneybirdClient
from dunning.plugins.moneybird.config import DEFAULT_BASE_URL


@click.group("moneybird")
def moneybird() -> None:
    """Moneybird: find the administration id for source.administration_id."""


@moneybird.command("administrations")
@click.option(
    "--token",
    envvar="MONEYBIRD_TOKEN",
    required=True,
    help="Personal API token or OAuth access token (default: $MONEYBIRD_TOKEN).",
)
@click.option("--base-url", default=DEFAULT_BASE_URL, show_default=True)
def administrations(token: str, base_url: str) -> None:
    """List the administrations the token can reach: id, name, country, currency."""
    client = MoneybirdClient(base_url, token)
    try:
        body = client.json("GET", "administrations")
    except DunningError as error:
        raise click.ClickException(str(error)) from None
    if not isinstance(body, list) or not body:
        click.echo("No administrations for this token.")
        return
    for entry in body:
        if not isinstance(entry, dict):
            continue
        suspended = "  (suspended)" if entry.get("suspended") else ""
        click.echo(
            f"{entry.get('id')}  {entry.get('name')}  {entry.get('country') or '-'}  "
            f"{entry.get('currency') or '-'}{suspended}"
        )
