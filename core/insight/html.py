"""The report as one self-contained HTML file: inline CSS, inline SVG charts, no script and no
external reference, so it opens offline, in a mail attachment or from a file share.

The template is ``templates/report.html.j2`` (package data), rendered with autoescaping: debtor
names and step names from the ledger are text, never markup.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from dunning.core.insight.charts import all_charts
from dunning.core.insight.figures import PipelineFigures

TEMPLATES = Path(__file__).parent / "templates"


def amount(cents: int) -> str:
    """Cents for people: thousands separated, two decimals (``123450`` -> ``1,234.50``)."""
    return f"{Decimal(cents).scaleb(-2):,.2f}"


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["j2", "html"]),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )
    env.filters["amount"] = amount
    return env


def render_report(figures: PipelineFigures) -> str:
    """The HTML text of the report of ``figures``."""
    charts = {name: Markup(svg) for name, svg in all_charts(figures).items()}
    template = _environment().get_template("report.html.j2")
    return template.render(f=figures, charts=charts)


def write_report(figures: PipelineFigures, folder: Path) -> Path:
    """Write ``report-<pipeline>.html`` into ``folder`` (created when missing); its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"report-{figures.pipeline}.html"
    path.write_text(render_report(figures), encoding="utf-8")
    return path
