"""Stage probabilities calibrated from history, and the weighted pipeline they give.

A deal "was in" a stage if the recorded stage history (`pipeline.OpportunityChange`)
shows it entering that stage. Among such deals that have since closed, with a close date
inside the window, the share that were won is the stage's observed win rate. The
calibrated probability shrinks it toward the stated probability (see
`engines.forecasting`). Calibration describes the sales process, not anyone's records,
so it is computed over every deal and shown as counts and rates only.

Reading the whole stage history takes seconds at millions of deals, so the counts are
kept per stage and close month (`StageOutcome`), rebuilt by the nightly refresh job
(`salesplan forecasts refresh`, or "Refresh" on the calibration page); a window is whole
months, the current one included. The page says when the counts were rebuilt.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case, Count, IntegerField, QuerySet, Sum, Value, When
from django.utils import timezone

from salesplan.core.clock import company_today
from salesplan.core.fiscal import FiscalPeriod
from salesplan.engines import forecasting as engine
from salesplan.metrics.selectors import open_or_won_amounts
from salesplan.pipeline.models import Opportunity, OpportunityChange, Pipeline, Stage, StageKind

from .models import StageOutcome

CACHE_SECONDS = 600
REFRESHED_KEY = "forecast-calibration-refreshed"
PROBABILITY_SOURCES = ("stated", "calibrated")
CENT = Decimal("0.01")


@dataclass(frozen=True)
class CalibrationRow:
    stage: Stage
    row: engine.StageCalibration


def refresh_outcomes(*, now: datetime | None = None) -> int:
    """Rebuild the per-stage, per-month counts of won and lost deals from the whole stage
    history in one grouped query (by close date, folded into months here). Returns the
    number of rows stored."""
    now = now or timezone.now()
    rows = (OpportunityChange.objects
            .filter(field=OpportunityChange.Field.STAGE, to_stage__kind=StageKind.OPEN,
                    opportunity__status__in=(StageKind.WON, StageKind.LOST))
            .order_by().values("to_stage_id", "opportunity__close_date", "opportunity__status")
            .annotate(deals=Count("opportunity_id", distinct=True)))
    counts: dict[tuple[int, date], list[int]] = {}
    for r in rows.iterator(chunk_size=20_000):
        day = r["opportunity__close_date"]
        key = (r["to_stage_id"], date(day.year, day.month, 1))
        pair = counts.setdefault(key, [0, 0])
        pair[0 if r["opportunity__status"] == StageKind.WON else 1] += r["deals"]
    with transaction.atomic():
        StageOutcome.objects.all().delete()
        StageOutcome.objects.bulk_create(
            [StageOutcome(stage_id=stage_id, month=month, won=won, lost=lost, computed_at=now)
             for (stage_id, month), (won, lost) in counts.items()], batch_size=5000)
    cache.delete(REFRESHED_KEY)
    return len(counts)


def refreshed_at() -> datetime | None:
    """When the counts were last rebuilt; they are rebuilt now if there are none yet."""
    stamp = cache.get(REFRESHED_KEY)
    if stamp is None:
        first = StageOutcome.objects.order_by().values_list("computed_at", flat=True).first()
        if first is None:
            refresh_outcomes()
            first = StageOutcome.objects.order_by().values_list("computed_at", flat=True).first()
        stamp = first or timezone.now()
        cache.set(REFRESHED_KEY, stamp, CACHE_SECONDS)
    return stamp


def window(months: int, today: date) -> tuple[date, date]:
    """The current month and the `months` − 1 before it: (first day, today)."""
    if not 1 <= months <= 120:
        raise ValidationError({"months": "Choose between 1 and 120 months."})
    index = today.year * 12 + today.month - 1 - (months - 1)
    return date(index // 12, index % 12 + 1, 1), today


def _window_outcomes(pipeline: Pipeline, start: date) -> dict[int, tuple[int, int]]:
    rows = (StageOutcome.objects.filter(stage__pipeline=pipeline, month__gte=start)
            .order_by().values("stage_id").annotate(won=Sum("won"), lost=Sum("lost")))
    return {r["stage_id"]: (r["won"] or 0, r["lost"] or 0) for r in rows}


def calibration(pipeline: Pipeline, *, months: int = 12, today: date | None = None,
                prior_weight: int = engine.DEFAULT_PRIOR_WEIGHT) -> list[CalibrationRow]:
    """One row per open stage of the pipeline: stated, observed and calibrated rates for
    the deals that closed in the last `months` months (the current month included)."""
    start, _ = window(months, today or company_today())
    if not 0 <= prior_weight <= 1000:
        raise ValidationError({"prior_weight": "Choose a prior weight from 0 to 1000."})
    refreshed_at()
    outcomes = _window_outcomes(pipeline, start)
    stages = list(pipeline.stages.filter(kind=StageKind.OPEN).order_by("position"))
    rows = engine.calibrate([(s.pk, s.probability) for s in stages], outcomes, prior_weight)
    return [CalibrationRow(stage, row) for stage, row in zip(stages, rows, strict=True)]


def probabilities(source: str, *, months: int = 12,
                  today: date | None = None) -> dict[int, Decimal]:
    """Stage id → probability (percent) for every open stage, stated or calibrated."""
    if source not in PROBABILITY_SOURCES:
        raise ValidationError({"probabilities": "Choose stated or calibrated."})
    result: dict[int, Decimal] = {}
    for pipeline in Pipeline.objects.all():
        if source == "stated":
            result.update({s.pk: Decimal(s.probability)
                           for s in pipeline.stages.filter(kind=StageKind.OPEN)})
        else:
            result.update({r.stage.pk: r.row.calibrated
                           for r in calibration(pipeline, months=months, today=today)})
    return result


@dataclass(frozen=True)
class WeightedPeriod:
    period: FiscalPeriod
    open_amount: Decimal
    weighted: Decimal


def open_by_period_and_stage(opportunities: QuerySet | Sequence[QuerySet],
                             periods: list[FiscalPeriod]) -> dict[int, dict[int, Decimal]]:
    """Open amount per period (index) and stage of `opportunities`, or of the disjoint
    parts of a user's deals (`visible_parts`, each summed on its own index): one query
    per part."""
    parts = [opportunities] if isinstance(opportunities, QuerySet) else opportunities
    bucket = Case(*[When(close_date__gte=p.start, close_date__lte=p.end, then=Value(i))
                    for i, p in enumerate(periods)], output_field=IntegerField())
    by_period: dict[int, dict[int, Decimal]] = {i: {} for i in range(len(periods))}
    for part in parts:
        rows = (part.filter(status=StageKind.OPEN, close_date__gte=periods[0].start,
                            close_date__lte=periods[-1].end)
                .order_by().annotate(bucket=bucket).values("bucket", "stage_id")
                .annotate(total=Sum("amount")))
        for r in rows:
            if r["bucket"] is not None:
                stages = by_period[r["bucket"]]
                stages[r["stage_id"]] = stages.get(r["stage_id"], Decimal(0)) + (
                    r["total"] or Decimal(0))
    return {i: {stage: total.quantize(CENT) for stage, total in stages.items()}
            for i, stages in by_period.items()}


def open_by_period_and_stage_company_wide(currency: str, periods: list[FiscalPeriod]
                                           ) -> dict[int, dict[int, Decimal]] | None:
    """`open_by_period_and_stage` of every deal in `currency`, from the report rollups
    (kept up to date on each read) instead of a scan of millions of deals; None when
    they cannot answer (see `reports.facts.open_or_won_amounts`)."""
    return _open_from_rollup(currency, periods, owners=None)


def _open_from_rollup(currency: str, periods: list[FiscalPeriod], *,
                      owners: list[int] | None) -> dict[int, dict[int, Decimal]] | None:
    """Open amount per period and stage of the deals of `owners` (None: every owner) in
    `currency`, from the report rollups; None when they cannot answer."""
    amounts = open_or_won_amounts(currency=currency, status=StageKind.OPEN,
                                  start=periods[0].start, end=periods[-1].end,
                                  dims=("month", "stage"), owners=owners)
    if amounts is None:
        return None
    by_period: dict[int, dict[int, Decimal]] = {i: {} for i in range(len(periods))}
    for (month, stage_id), amount in amounts.items():
        for i, p in enumerate(periods):
            if p.start <= month <= p.end:
                stages = by_period[i]
                stages[stage_id] = stages.get(stage_id, Decimal("0.00")) + amount
    return by_period


def open_by_period_and_stage_visible(user, currency: str, periods: list[FiscalPeriod]
                                     ) -> dict[int, dict[int, Decimal]]:
    """`open_by_period_and_stage` of the deals in `currency` that `user` sees, without
    reading every one of them: the deals of the owners they see (everyone's for an
    executive, a manager's teams', a rep's own) from the report rollups, kept up to date
    on each read, and only the rest — deals on their territories' accounts owned by
    others — summed live, one grouped query. All live when the rollups cannot answer (a
    large company whose rollups are not built yet)."""
    deals = Opportunity.objects.filter(currency=currency)
    split = deals.visible_by_owner(user)
    if split is None:
        return {i: {} for i in range(len(periods))}
    owners, rest = split
    by_period = _open_from_rollup(currency, periods, owners=owners)
    if by_period is None:
        return open_by_period_and_stage(deals.visible_parts(user), periods)
    if rest:
        for i, stages in open_by_period_and_stage(rest, periods).items():
            for stage_id, amount in stages.items():
                by_period[i][stage_id] = by_period[i].get(stage_id, Decimal("0.00")) + amount
    return by_period


def _weighted_periods(by_period: dict[int, dict[int, Decimal]], periods: list[FiscalPeriod],
                      probs: dict[int, Decimal]) -> list[WeightedPeriod]:
    return [WeightedPeriod(p, sum(by_period[i].values(), Decimal("0.00")),
                           engine.weighted_pipeline(by_period[i], probs))
            for i, p in enumerate(periods)]


def weighted_pipeline(opportunities: QuerySet | Sequence[QuerySet], periods: list[FiscalPeriod],
                      probs: dict[int, Decimal]) -> list[WeightedPeriod]:
    """Open amount and weighted amount of `opportunities` (already restricted to what
    the user sees, in one currency; or its disjoint `visible_parts`) per period of their
    close dates, summed live. The forecast pages use `weighted_pipeline_visible`, which
    reads the owners' deals from the report rollups."""
    if not periods:
        return []
    by_period = open_by_period_and_stage(opportunities, periods)
    return _weighted_periods(by_period, periods, probs)


def weighted_pipeline_visible(user, currency: str, periods: list[FiscalPeriod],
                              probs: dict[int, Decimal]) -> list[WeightedPeriod]:
    """Open and weighted amount per period of the deals in `currency` that `user` sees
    (see `open_by_period_and_stage_visible`)."""
    if not periods:
        return []
    return _weighted_periods(open_by_period_and_stage_visible(user, currency, periods),
                             periods, probs)


def weighted_by_owner(period: FiscalPeriod, currency: str) -> dict[int, Decimal]:
    """Stated-probability weighted pipeline per owner for one period (for snapshots)."""

    probs = probabilities("stated")
    amounts: dict[int, dict[int, Decimal]] = {}
    summed = open_or_won_amounts(currency=currency, status=StageKind.OPEN, start=period.start,
                                 end=period.end, dims=("owner", "stage"))
    if summed is None:
        summed = {(r["owner_id"], r["stage_id"]): r["total"] or Decimal(0) for r in (
            Opportunity.objects.filter(status=StageKind.OPEN, currency=currency,
                                       close_date__gte=period.start,
                                       close_date__lte=period.end)
            .order_by().values("owner_id", "stage_id").annotate(total=Sum("amount")))}
    for (owner, stage), total in summed.items():
        amounts.setdefault(owner, {})[stage] = total
    return {owner: engine.weighted_pipeline(stage_amounts, probs)
            for owner, stage_amounts in amounts.items()}
