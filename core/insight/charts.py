"""The report's charts: matplotlib figures rendered to inline SVG text.

Each chart is a ``<svg>`` element to put straight into the HTML: no file, no script, no
external reference. Text stays text (``svg.fonttype: none``), drawn in the page's font, so the
charts are small and readable by a browser test. Ids inside a chart are salted with the chart's
name (``svg.hashsalt``) and the date is left out, so the same figures give the same bytes.

Matplotlib is used through :class:`matplotlib.figure.Figure` only (never ``pyplot``): no global
figure state, safe in a server thread.
"""

from __future__ import annotations

import io
import math
import re

import matplotlib
from matplotlib.figure import Figure

from dunning.core.insight.figures import PipelineFigures

matplotlib.use("Agg")

WIDTH, HEIGHT = 6.4, 3.0
MAX_DAY_LABELS = 8
BLUE, GREEN, RED, GREY = "#2c6fbb", "#3a9a5b", "#c0392b", "#8a8a8a"
_PROLOGUE = re.compile(r"\A.*?(?=<svg)", re.DOTALL)
_METADATA = re.compile(r"<metadata>.*?</metadata>\s*", re.DOTALL)


def to_svg(figure: Figure, name: str) -> str:
    """``figure`` as an ``<svg>`` element (no XML prologue, doctype or metadata)."""
    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": f"dunning-{name}", "svg.fonttype": "none"}):
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    text = _PROLOGUE.sub("", buffer.getvalue(), count=1)
    text = _METADATA.sub("", text, count=1)
    return text.replace("<svg ", f'<svg class="chart" id="chart-{name}" role="img" ', 1)


def _figure() -> Figure:
    figure = Figure(figsize=(WIDTH, HEIGHT), dpi=100)
    figure.set_layout_engine("constrained")
    return figure


def _euros(cents: int) -> float:
    """For drawing only: bar lengths are floats; every figure shown as text is exact."""
    return cents / 100


def aging_chart(figures: PipelineFigures) -> str:
    """Bars: amount open per aging bucket, the invoice count above each bar."""
    figure = _figure()
    axes = figure.add_subplot()
    labels = [b.label for b in figures.aging]
    colours = [GREEN, BLUE, BLUE, RED, RED]
    bars = axes.bar(labels, [_euros(b.cents) for b in figures.aging], color=colours)
    axes.bar_label(bars, labels=[f"{b.count} inv." for b in figures.aging], fontsize=8)
    axes.set_xlabel("days past due")
    axes.set_ylabel("amount open")
    axes.set_title("Aging")
    axes.margins(y=0.15)
    return to_svg(figure, "aging")


def dso_chart(figures: PipelineFigures) -> str:
    """Line: DSO per snapshot day; a day without sales (DSO n/a) is a gap."""
    figure = _figure()
    axes = figure.add_subplot()
    days = [p.as_of.isoformat() for p in figures.dso_trend]
    values = [float(p.dso) if p.dso is not None else math.nan for p in figures.dso_trend]
    if not all(math.isnan(v) for v in values):
        axes.plot(range(len(days)), values, marker="o", color=BLUE)
        every = max(1, len(days) // MAX_DAY_LABELS)
        shown = range(0, len(days), every)
        axes.set_xticks(list(shown), [days[i] for i in shown], rotation=30, ha="right")
        axes.set_xlim(-0.5, len(days) - 0.5)
        axes.set_ylim(0, max(v for v in values if not math.isnan(v)) * 1.15 + 1)
    else:
        axes.text(
            0.5, 0.5, "no sales in the period: DSO n/a", ha="center", transform=axes.transAxes
        )
    axes.set_ylabel("days")
    axes.set_title("DSO trend (gaps: no sales)")
    return to_svg(figure, "dso")


def funnel_chart(figures: PipelineFigures) -> str:
    """Horizontal bars per ladder step: invoices that reached it, and those paid after it."""
    figure = _figure()
    axes = figure.add_subplot()
    steps = [s.step for s in figures.funnel]
    positions = range(len(steps))
    axes.barh(
        [p - 0.2 for p in positions],
        [s.reached for s in figures.funnel],
        height=0.4,
        color=BLUE,
        label="reached",
    )
    axes.barh(
        [p + 0.2 for p in positions],
        [s.paid.count for s in figures.funnel],
        height=0.4,
        color=GREEN,
        label="paid after",
    )
    axes.set_yticks(list(positions), steps)
    axes.invert_yaxis()
    axes.set_xlabel("invoices")
    axes.set_title("Ladder funnel")
    axes.legend(fontsize=8)
    axes.margins(x=0.15)
    return to_svg(figure, "funnel")


def channel_chart(figures: PipelineFigures) -> str:
    """Stacked bars per channel: sent, bounced, failed."""
    figure = _figure()
    axes = figure.add_subplot()
    names = [c.channel for c in figures.channels]
    sent = [c.sent for c in figures.channels]
    bounced = [c.bounced for c in figures.channels]
    failed = [c.failed for c in figures.channels]
    width = 0.5
    axes.bar(names, sent, width, color=GREEN, label="sent")
    axes.bar(names, bounced, width, bottom=sent, color=RED, label="bounced")
    axes.bar(
        names,
        failed,
        width,
        bottom=[s + b for s, b in zip(sent, bounced, strict=True)],
        color=GREY,
        label="failed",
    )
    axes.set_xlim(-0.75, max(len(names), 2) - 0.25)
    axes.set_ylabel("messages")
    axes.set_title("Channels")
    axes.legend(fontsize=8)
    return to_svg(figure, "channels")


def all_charts(figures: PipelineFigures) -> dict[str, str]:
    """Every chart of the report by name: ``aging``, ``dso``, ``funnel``, ``channels``."""
    return {
        "aging": aging_chart(figures),
        "dso": dso_chart(figures),
        "funnel": funnel_chart(figures),
        "channels": channel_chart(figures),
    }
