"""Stage probabilities calibrated from history, and the weighted pipeline they give.

A deal "was in" a stage if the recorded stage history (`pipeline.OpportunityChange`)
shows it entering that stage. Among such deals that have since closed, with a close date
inside the window, the share that were won is the stage's observed win rate. The
calibrated probability shrinks it toward the stated probability (see
`engines.forecasting`). Calibration describes the sales process, not anyone's records,
so it is computed over every deal and shown as counts and rates only; it is cached for
ten minutes because it reads the whole stage history.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db.models import Case, Count, IntegerField, Sum, Value, When

from salesplan.core.fiscal import FiscalPeriod
from salesplan.engines import forecasting as engine
from salesplan.pipeline.models import Opportunity, OpportunityChange, Pipeline, Stage, StageKind

CACHE_SECONDS = 600
PROBABILITY_SOURCES = ("stated", "calibrated")
CENT = Decimal("0.01")


@dataclass(frozen=True)
class CalibrationRow:
    stage: Stage
    row: engine.StageCalibration


def _window_outcomes(pipeline: Pipeline, start: date, end: date) -> dict[int, tuple[int, int]]:
    rows = (OpportunityChange.objects
            .filter(field=OpportunityChange.Field.STAGE, to_stage__pipeline=pipeline,
                    to_stage__kind=StageKind.OPEN,
                    opportunity__status__in=(StageKind.WON, StageKind.LOST),
                    opportunity__close_date__gte=start, opportunity__close_date__lte=end)
            .order_by().values("to_stage_id", "opportunity__status")
            .annotate(deals=Count("opportunity_id", distinct=True)))
    outcomes: dict[int, list[int]] = {}
    for r in rows:
        counts = outcomes.setdefault(r["to_stage_id"], [0, 0])
        counts[0 if r["opportunity__status"] == StageKind.WON else 1] += r["deals"]
    return {stage_id: (won, lost) for stage_id, (won, lost) in outcomes.items()}


def calibration(pipeline: Pipeline, *, start: date, end: date,
                prior_weight: int = engine.DEFAULT_PRIOR_WEIGHT) -> list[CalibrationRow]:
    """One row per open stage of the pipeline: stated, observed and calibrated rates."""
    if end < start:
        raise ValidationError({"start": "The window must start before it ends."})
    if not 0 <= prior_weight <= 1000:
        raise ValidationError({"prior_weight": "Choose a prior weight from 0 to 1000."})
    key = f"forecast-calibration:{pipeline.pk}:{start}:{end}"
    outcomes = cache.get(key)
    if outcomes is None:
        outcomes = _window_outcomes(pipeline, start, end)
        cache.set(key, outcomes, CACHE_SECONDS)
    stages = list(pipeline.stages.filter(kind=StageKind.OPEN).order_by("position"))
    rows = engine.calibrate([(s.pk, s.probability) for s in stages], outcomes, prior_weight)
    return [CalibrationRow(stage, row) for stage, row in zip(stages, rows, strict=True)]


def probabilities(source: str, *, start: date, end: date) -> dict[int, Decimal]:
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
                           for r in calibration(pipeline, start=start, end=end)})
    return result


@dataclass(frozen=True)
class WeightedPeriod:
    period: FiscalPeriod
    open_amount: Decimal
    weighted: Decimal


def weighted_pipeline(opportunities, periods: list[FiscalPeriod],
                      probs: dict[int, Decimal]) -> list[WeightedPeriod]:
    """Open amount and weighted amount of `opportunities` (already restricted to what
    the user sees, in one currency) per period of their close dates: one query."""
    if not periods:
        return []
    bucket = Case(*[When(close_date__gte=p.start, close_date__lte=p.end, then=Value(i))
                    for i, p in enumerate(periods)], output_field=IntegerField())
    rows = (opportunities.filter(status=StageKind.OPEN, close_date__gte=periods[0].start,
                                 close_date__lte=periods[-1].end)
            .order_by().annotate(bucket=bucket).values("bucket", "stage_id")
            .annotate(total=Sum("amount")))
    by_period: dict[int, dict[int, Decimal]] = {i: {} for i in range(len(periods))}
    for r in rows:
        if r["bucket"] is not None:
            by_period[r["bucket"]][r["stage_id"]] = (r["total"] or Decimal(0)).quantize(CENT)
    return [WeightedPeriod(p, sum(by_period[i].values(), Decimal("0.00")),
                           engine.weighted_pipeline(by_period[i], probs))
            for i, p in enumerate(periods)]


def weighted_by_owner(period: FiscalPeriod, currency: str) -> dict[int, Decimal]:
    """Stated-probability weighted pipeline per owner for one period (for snapshots)."""
    probs = probabilities("stated", start=period.start, end=period.end)
    rows = (Opportunity.objects.filter(status=StageKind.OPEN, currency=currency,
                                       close_date__gte=period.start, close_date__lte=period.end)
            .order_by().values("owner_id", "stage_id").annotate(total=Sum("amount")))
    amounts: dict[int, dict[int, Decimal]] = {}
    for r in rows:
        amounts.setdefault(r["owner_id"], {})[r["stage_id"]] = r["total"] or Decimal(0)
    return {owner: engine.weighted_pipeline(stage_amounts, probs)
            for owner, stage_amounts in amounts.items()}

