"""The figures of one pipeline's report, computed from the ledger as it stands.

Every figure is defined here once; ``docs/report.md`` repeats the definitions for users.

* **Open receivables**: invoices still in the source, not credit notes, with a positive total
  and money open (handed-over invoices included: they are still owed). See
  :mod:`dunning.core.ledger.snapshots`.
* **Aging**: the open receivables on the report day by days past due (report day minus due
  date): ``not due`` (0 or less), ``1-30``, ``31-60``, ``61-90``, ``90+``; count and amount open.
* **DSO** (days sales outstanding): open receivables / credit sales of the last 90 days x 90,
  one decimal; no sales in those days: ``None`` ("n/a"). Sales: totals of the invoices issued in
  the 90 days up to and including the report day, credit notes subtracted. The trend has one
  point per receivable snapshot (one per day a run completed its sync) and today's.
* **Funnel**, per ladder step in ladder order (steps removed from the ladder where their cases
  continued, steps never configured last): *reached*: distinct invoices on a ladder-step message
  of that step that was ``sent`` or ``uncertain`` (uncertain: the channel was called and the
  ladder moved on; it is never sent again), the invoice not dropped from it before sending.
  *Paid after this step*: invoices whose furthest reached step is this one and that are paid
  now (not a credit note, a positive total, nothing open), count and invoice total.
  *Paid before any step*: paid invoices that reached no step.
* **Promises** (and **arrangements**): count and amount open when agreed (``open_at_start``)
  per status: ``kept``, ``broken``, ``active``, ``lifted``.
* **Top debtors**: the 10 debtors with the most open receivables (ties by debtor id): name,
  amount open, open invoices, days past due of their oldest (0 when none is overdue) and the
  segment the planner uses (:func:`dunning.core.planning.segments`; no history: ``new``).
* **Channels**, over every message in the outbox: ``sent``; ``bounced`` (failed because of
  the recipient: bounce, rejected address, opt-out); ``failed`` (failed otherwise); ``pending``
  (pending or sending); ``uncertain``; ``cancelled``.

The ledger keeps invoices as last synced: a report for an earlier ``as_of`` measures days and
sales from that day, but from today's invoices.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from dunning.core.config import LoadedConfig, LoadedPipeline
from dunning.core.insight import queries
from dunning.core.ledger import Ledger
from dunning.core.ledger.snapshots import SALES_DAYS, Snapshot
from dunning.core.planning import segments
from dunning.core.policy.build import step_aliases

AGING_BUCKETS = ("not due", "1-30", "31-60", "61-90", "90+")
TOP_DEBTORS = 10
AGREEMENT_STATUSES = ("kept", "broken", "active", "lifted")


@dataclass(frozen=True, slots=True)
class Tally:
    count: int
    cents: int


@dataclass(frozen=True, slots=True)
class AgingBucket:
    label: str
    count: int
    cents: int


@dataclass(frozen=True, slots=True)
class DsoPoint:
    as_of: date
    dso: Decimal | None
    open_cents: int
    sales_cents: int


@dataclass(frozen=True, slots=True)
class FunnelStep:
    step: str
    in_ladder: bool
    reached: int
    paid: Tally


@dataclass(frozen=True, slots=True)
class TopDebtor:
    debtor_id: str
    name: str
    open_cents: int
    invoices: int
    oldest_days_overdue: int
    segment: str


@dataclass(frozen=True, slots=True)
class ChannelResults:
    channel: str
    sent: int
    bounced: int
    failed: int
    pending: int
    uncertain: int
    cancelled: int


@dataclass(frozen=True, slots=True)
class PipelineFigures:
    """Every figure of one pipeline's report (amounts in cents; see the module docstring)."""

    pipeline: str
    as_of: date
    open: Tally
    overdue: Tally
    sales_cents: int
    sales_days: int
    dso: Decimal | None
    dso_trend: tuple[DsoPoint, ...]
    aging: tuple[AgingBucket, ...]
    funnel: tuple[FunnelStep, ...]
    paid_before_any_step: Tally
    promises: dict[str, Tally]
    arrangements: dict[str, Tally]
    top_debtors: tuple[TopDebtor, ...]
    channels: tuple[ChannelResults, ...]
    bank: dict[str, Tally]
    """Imported bank lines (money in and returns) by outcome: ``matched``, ``assigned``,
    ``waiting`` (amount: what is left), ``set-aside``, ``returned``."""


def dso_of(open_cents: int, sales_cents: int, days: int = SALES_DAYS) -> Decimal | None:
    """Open receivables / sales x ``days``, one decimal; ``None`` without sales."""
    if sales_cents <= 0:
        return None
    return (Decimal(open_cents) * days / Decimal(sales_cents)).quantize(
        Decimal("0.1"), rounding=ROUND_HALF_UP
    )


def money(cents: int) -> str:
    """Cents as a plain amount with two decimals: ``123450`` -> ``"1234.50"``."""
    return str((Decimal(cents) / 100).quantize(Decimal("0.01")))


def _point(snapshot: Snapshot) -> DsoPoint:
    return DsoPoint(
        snapshot.as_of,
        dso_of(snapshot.open_cents, snapshot.sales_cents, snapshot.sales_days),
        snapshot.open_cents,
        snapshot.sales_cents,
    )


def step_order(ledger: Ledger, pipeline: LoadedPipeline, seen: set[str]) -> list[str]:
    """Step names in ladder order: the configured ladder, each removed step just before the
    step its cases continue at, then steps never configured (alphabetically)."""
    current = [s.name for s in pipeline.steps]
    recorded = [[s["name"] for s in v] for v in ledger.ladders.versions(pipeline.name)]
    aliases = step_aliases(current, recorded)
    place: dict[str, float] = {name: float(i) for i, name in enumerate(current)}
    for name, index in aliases.items():
        place[name] = index - 0.5
    unknown = sorted(seen - set(place))
    ordered = sorted(place, key=lambda n: (place[n], n))
    return [n for n in ordered if n in current or n in seen] + unknown


def funnel(ledger: Ledger, pipeline: LoadedPipeline) -> tuple[tuple[FunnelStep, ...], Tally]:
    """The funnel steps and the invoices paid before any step (see the module docstring)."""
    name = pipeline.name
    reached_steps = queries.reached_steps(ledger.engine, name)
    seen = {step for names in reached_steps.values() for step in names}
    order = step_order(ledger, pipeline, seen)
    position = {step: i for i, step in enumerate(order)}
    reached = dict.fromkeys(order, 0)
    last: dict[str, str] = {}
    for invoice, names in reached_steps.items():
        for step in names:
            reached[step] += 1
        last[invoice] = max(names, key=position.__getitem__)
    paid = {step: [0, 0] for step in order}
    before = [0, 0]
    for invoice, total in queries.paid_invoices(ledger.engine, name):
        tally = paid[last[invoice]] if invoice in last else before
        tally[0] += 1
        tally[1] += total
    current = {s.name for s in pipeline.steps}
    steps = tuple(
        FunnelStep(step, step in current, reached[step], Tally(*paid[step])) for step in order
    )
    return steps, Tally(*before)


def compute_figures(
    config: LoadedConfig, ledger: Ledger, pipeline_name: str, as_of: date
) -> PipelineFigures:
    """Every figure of the report of pipeline ``pipeline_name`` as of ``as_of``, from the
    ledger (:class:`~dunning.core.errors.ConfigError` for an unknown pipeline)."""
    pipeline = config.pipeline(pipeline_name)
    name = pipeline.name
    today = ledger.snapshots.measure(name, as_of)
    dso = dso_of(today.open_cents, today.sales_cents, today.sales_days)
    trend = [_point(s) for s in ledger.snapshots.history(name) if s.as_of < as_of]
    trend.append(DsoPoint(as_of, dso, today.open_cents, today.sales_cents))
    aging = queries.aging(ledger.engine, name, as_of)
    steps, before = funnel(ledger, pipeline)
    agreements = queries.agreements(ledger.engine, name)
    segment_of = segments(ledger, pipeline)
    top = tuple(
        TopDebtor(
            row.debtor_id,
            row.name,
            row.open_cents,
            row.invoices,
            max(0, (as_of - row.oldest_due).days),
            segment_of.get(row.debtor_id, "new"),
        )
        for row in queries.top_debtors(ledger.engine, name, TOP_DEBTORS)
    )
    channels = queries.channel_counts(ledger.engine, name)
    bank = queries.bank_outcomes(ledger.engine, name)
    for configured in pipeline.channels:
        channels.setdefault(configured, {})
    return PipelineFigures(
        pipeline=name,
        as_of=as_of,
        open=Tally(today.open_count, today.open_cents),
        overdue=Tally(sum(count for count, _ in aging[1:]), today.overdue_cents),
        sales_cents=today.sales_cents,
        sales_days=today.sales_days,
        dso=dso,
        dso_trend=tuple(trend),
        aging=tuple(AgingBucket(label, *aging[i]) for i, label in enumerate(AGING_BUCKETS)),
        funnel=steps,
        paid_before_any_step=before,
        promises=_statuses(agreements.get("promise", {})),
        arrangements=_statuses(agreements.get("arrangement", {})),
        top_debtors=top,
        channels=tuple(
            ChannelResults(
                channel,
                **{k: counts.get(k, 0) for k in queries.CHANNEL_COUNTS},
            )
            for channel, counts in sorted(channels.items())
        ),
        bank={outcome: Tally(*bank.get(outcome, (0, 0))) for outcome in queries.BANK_OUTCOMES},
    )


def _statuses(found: dict[str, tuple[int, int]]) -> dict[str, Tally]:
    return {status: Tally(*found.get(status, (0, 0))) for status in AGREEMENT_STATUSES}


def _tally(tally: Tally) -> dict[str, object]:
    return {"count": tally.count, "amount": money(tally.cents)}


def _dso_text(dso: Decimal | None) -> str | None:
    return None if dso is None else str(dso)


def to_json_dict(figures: PipelineFigures) -> dict[str, object]:
    """The figures as JSON-ready data: money as strings with two decimals, dates ISO, DSO a
    string with one decimal or ``null``."""
    return {
        "pipeline": figures.pipeline,
        "as_of": figures.as_of.isoformat(),
        "open": _tally(figures.open),
        "overdue": _tally(figures.overdue),
        "sales": {"days": figures.sales_days, "amount": money(figures.sales_cents)},
        "dso": _dso_text(figures.dso),
        "dso_trend": [
            {
                "as_of": p.as_of.isoformat(),
                "dso": _dso_text(p.dso),
                "open": money(p.open_cents),
                "sales": money(p.sales_cents),
            }
            for p in figures.dso_trend
        ],
        "aging": [
            {"bucket": b.label, "count": b.count, "amount": money(b.cents)} for b in figures.aging
        ],
        "funnel": [
            {
                "step": s.step,
                "in_ladder": s.in_ladder,
                "reached": s.reached,
                "paid_after": _tally(s.paid),
            }
            for s in figures.funnel
        ],
        "paid_before_any_step": _tally(figures.paid_before_any_step),
        "promises": {k: _tally(v) for k, v in figures.promises.items()},
        "arrangements": {k: _tally(v) for k, v in figures.arrangements.items()},
        "top_debtors": [
            {
                "debtor_id": d.debtor_id,
                "name": d.name,
                "open": money(d.open_cents),
                "invoices": d.invoices,
                "oldest_days_overdue": d.oldest_days_overdue,
                "segment": d.segment,
            }
            for d in figures.top_debtors
        ],
        "channels": [
            {
                "channel": c.channel,
                "sent": c.sent,
                "bounced": c.bounced,
                "failed": c.failed,
                "pending": c.pending,
                "uncertain": c.uncertain,
                "cancelled": c.cancelled,
            }
            for c in figures.channels
        ],
        "bank": {k: _tally(v) for k, v in figures.bank.items()},
    }
