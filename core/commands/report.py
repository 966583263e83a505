"""``dunning report``: the figures of each pipeline as a self-contained HTML file or JSON."""

from __future__ import annotations

import click

COMMANDS: list[click.Command] = []
