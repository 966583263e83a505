"""``dunning purge`` and ``dunning export``: data protection (being built)."""

from __future__ import annotations

import click

COMMANDS: list[click.Command] = []
