"""``dunning serve`` and ``dunning worker``: the long-running service (being built)."""

from __future__ import annotations

import click

COMMANDS: list[click.Command] = []
