"""API of the forecasting app (mounted at /api/v1/forecasts).

Periods are fiscal quarters named like FY2027-Q1 (the current quarter when left out).

    GET   /calibration?pipeline_id&months=12&prior_weight=20   stated vs observed per stage
    POST  /calibration/refresh       recount closed deals per stage (background job)
    GET   /weighted-pipeline?fiscal_year&probabilities=stated|calibrated
    GET   /submissions?period        submissions you may see (history, newest first)
    POST  /submissions               submit your commit, best case and pipeline
    GET   /rollup?period             your teams' roll-up with adjustments
    POST  /adjustments               adjust a team's figures, with a reason
    GET   /snapshots?period&scope    weekly snapshots of one scope
    POST  /snapshots                 take this week's snapshot (background job)
    GET   /statistical?scope         bookings forecast, model chosen by backtest, its accuracy
    GET   /accuracy                  reps' past commits against their bookings
"""

from datetime import date, datetime
from typing import Literal

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from ninja import Field, Query, Router, Schema, Status

from salesplan.core.api_support import InputSchema, MoneyIn, MoneyOut, RecordId
from salesplan.core.clock import company_today
from salesplan.core.errors import NotFound
from salesplan.core.fiscal import CompanyCalendar, FiscalPeriod
from salesplan.core.jobs_api import ACCEPTED, accepted
from salesplan.engines import model_choice
from salesplan.org.models import Company, Team
from salesplan.pipeline.models import Pipeline

from . import access, calibration, periods, selectors, services, statistical
from .rollup import Figures, RepLine

router = Router(tags=["forecasting"])


def _period(text: str | None) -> FiscalPeriod:
    return periods.parse(CompanyCalendar.current(), text, company_today())


class PeriodOut(Schema):
    name: str
    fiscal_year: int
    quarter: int
    start: date
    end: date


def _period_out(p: FiscalPeriod) -> dict:
    return {
        "name": periods.name(p),
        "fiscal_year": p.fiscal_year,
        "quarter": p.number,
        "start": p.start,
        "end": p.end,
    }


class CalibrationRowOut(Schema):
    stage_id: int
    stage: str
    stated: str
    observed: str | None
    calibrated: str
    won: int
    lost: int
    closed: int


class CalibrationOut(Schema):
    pipeline_id: int
    pipeline: str
    start: date
    end: date
    prior_weight: int
    counted_at: datetime | None = Field(description="When the closed deals were last counted.")
    stages: list[CalibrationRowOut]


class CalibrationParams(Schema):
    pipeline_id: RecordId | None = None
    months: int = Field(
        12, ge=1, le=120, description="Deals closed in the current month and the N − 1 before it."
    )
    prior_weight: int = Field(
        20, ge=0, le=1000, description="Shrinkage toward the stated probability, in deals."
    )


@router.get(
    "/calibration", response=CalibrationOut, summary="Stage probabilities: stated against observed"
)
def get_calibration(request, params: Query[CalibrationParams]):
    if not access.may_read_calibration(request.user):
        raise PermissionDenied("Calibration is for sales roles.")
    pipelines = Pipeline.objects.all()
    pipeline = (
        pipelines.filter(pk=params.pipeline_id).first()
        if params.pipeline_id
        else pipelines.order_by("-is_default", "position").first()
    )
    if pipeline is None:
        raise NotFound(f"No pipeline with id {params.pipeline_id}.")
    start, end = calibration.window(params.months, company_today())
    rows = calibration.calibration(pipeline, months=params.months, prior_weight=params.prior_weight)
    return {
        "pipeline_id": pipeline.pk,
        "pipeline": pipeline.name,
        "start": start,
        "end": end,
        "prior_weight": params.prior_weight,
        "counted_at": calibration.refreshed_at(),
        "stages": [
            {
                "stage_id": r.stage.pk,
                "stage": r.stage.name,
                "stated": str(r.row.stated),
                "observed": None if r.row.observed is None else str(r.row.observed),
                "calibrated": str(r.row.calibrated),
                "won": r.row.won,
                "lost": r.row.lost,
                "closed": r.row.closed,
            }
            for r in rows
        ],
    }


class WeightedOut(Schema):
    period: PeriodOut
    open_amount: MoneyOut
    weighted: MoneyOut


class WeightedPipelineOut(Schema):
    currency: str
    probabilities: str
    periods: list[WeightedOut]


@router.get(
    "/weighted-pipeline",
    response=WeightedPipelineOut,
    summary="Open and weighted pipeline per quarter of a fiscal year",
)
def weighted_pipeline(
    request,
    fiscal_year: int | None = Query(None, ge=2000, le=2100),
    probabilities: Literal["stated", "calibrated"] = "stated",
    months: int = Query(12, ge=1, le=120),
):
    today = company_today()
    year = fiscal_year or CompanyCalendar.current().year_of(today)
    rows = selectors.weighted_pipeline(request.user, year, probabilities, months=months,
                                       today=today)
    return {
        "currency": Company.current().default_currency,
        "probabilities": probabilities,
        "periods": [
            {"period": _period_out(r.period), "open_amount": r.open_amount, "weighted": r.weighted}
            for r in rows
        ],
    }


class SubmissionIn(InputSchema):
    period: str | None = Field(None, description="FY2027-Q1; the current quarter if left out.")
    commit: MoneyIn
    best_case: MoneyIn
    pipeline: MoneyIn
    note: str = Field("", max_length=1000)


class SubmissionOut(Schema):
    id: int
    rep_id: int
    rep_name: str
    period: str
    commit: MoneyOut
    best_case: MoneyOut
    pipeline: MoneyOut
    currency: str
    note: str
    submitted_at: datetime

    @staticmethod
    def resolve_rep_name(obj) -> str:
        return str(obj.rep)

    @staticmethod
    def resolve_period(obj) -> str:
        return f"FY{obj.fiscal_year}-Q{obj.quarter}"


@router.get("/submissions", response=list[SubmissionOut], summary="Forecast submissions")
def list_submissions(request, period: str | None = None):
    return list(selectors.submissions(request.user, _period(period))[:1000])


@router.post("/submissions", response={201: SubmissionOut}, summary="Submit your forecast")
def submit(request, payload: SubmissionIn):
    p = _period(payload.period)
    row = services.submit_forecast(
        by=request.user,
        fiscal_year=p.fiscal_year,
        quarter=p.number,
        commit=payload.commit,
        best_case=payload.best_case,
        pipeline=payload.pipeline,
        note=payload.note,
    )
    return Status(201, row)


class FiguresOut(Schema):
    commit: MoneyOut
    best_case: MoneyOut
    pipeline: MoneyOut


class AdjustmentOut(Schema):
    id: int
    team_id: int
    period: str
    commit: MoneyOut
    best_case: MoneyOut
    pipeline: MoneyOut
    reason: str
    adjusted_by_id: int | None
    adjusted_at: datetime

    @staticmethod
    def resolve_period(obj) -> str:
        return f"FY{obj.fiscal_year}-Q{obj.quarter}"


class RepLineOut(Schema):
    rep_id: int
    rep_name: str
    submitted: bool
    figures: FiguresOut
    closed_won: MoneyOut
    open_pipeline: MoneyOut


class TeamLineOut(Schema):
    team_id: int
    team: str
    parent_id: int | None
    depth: int
    rolled_up: FiguresOut
    adjusted: FiguresOut | None
    adjustment_reason: str | None
    effective: FiguresOut
    closed_won: MoneyOut
    submitted: int
    forecasters: int
    reps: list[RepLineOut]


class RollupOut(Schema):
    period: PeriodOut
    currency: str
    company: FiguresOut | None = Field(description="Only for those who see every team.")
    teams: list[TeamLineOut]


def _figures(f: Figures) -> dict:
    return {"commit": f.commit, "best_case": f.best_case, "pipeline": f.pipeline}


def _rep_line(r: RepLine) -> dict:
    return {
        "rep_id": r.rep.pk,
        "rep_name": str(r.rep),
        "submitted": r.submission is not None,
        "figures": _figures(r.figures),
        "closed_won": r.closed_won,
        "open_pipeline": r.open_pipeline,
    }


@router.get("/rollup", response=RollupOut, summary="Your teams' forecast roll-up")
def get_rollup(request, period: str | None = None):
    p = _period(period)
    view = selectors.rollup(request.user, p)
    if view is None:
        raise NotFound("Reps see their own submissions; there is no team roll-up for you.")
    return {
        "period": _period_out(p),
        "currency": view.currency,
        "company": _figures(view.company) if access.sees_all(request.user) else None,
        "teams": [
            {
                "team_id": t.team.pk,
                "team": t.team.name,
                "parent_id": t.team.parent_id,
                "depth": t.depth,
                "rolled_up": _figures(t.rolled_up),
                "adjusted": _figures(t.effective) if t.adjustment else None,
                "adjustment_reason": t.adjustment.reason if t.adjustment else None,
                "effective": _figures(t.effective),
                "closed_won": t.closed_won,
                "submitted": t.submitted,
                "forecasters": t.forecasters,
                "reps": [_rep_line(r) for r in t.reps],
            }
            for t in view.teams
        ],
    }


class AdjustmentIn(InputSchema):
    team_id: RecordId
    period: str | None = None
    commit: MoneyIn
    best_case: MoneyIn
    pipeline: MoneyIn
    reason: str = Field(max_length=1000)


@router.post("/adjustments", response={201: AdjustmentOut}, summary="Adjust a team's forecast")
def adjust(request, payload: AdjustmentIn):
    team = Team.objects.filter(pk=payload.team_id).first()
    team_ids = access.visible_team_ids(request.user)
    if team is None or (team_ids is not None and team.pk not in team_ids):
        raise NotFound(f"No team with id {payload.team_id}.")
    p = _period(payload.period)
    row = services.adjust_forecast(
        by=request.user,
        team=team,
        fiscal_year=p.fiscal_year,
        quarter=p.number,
        commit=payload.commit,
        best_case=payload.best_case,
        pipeline=payload.pipeline,
        reason=payload.reason,
    )
    return Status(201, row)


@router.get("/adjustments", response=list[AdjustmentOut], summary="Adjustment history")
def list_adjustments(request, period: str | None = None):
    return list(
        selectors.adjustments(request.user, _period(period)).order_by("-adjusted_at", "-id")[:1000]
    )


class SnapshotOut(Schema):
    week_of: date
    scope: str
    commit: MoneyOut
    best_case: MoneyOut
    pipeline: MoneyOut
    closed_won: MoneyOut
    weighted_pipeline: MoneyOut
    adjusted: bool


@router.post(
    "/calibration/refresh",
    **ACCEPTED,
    summary="Recount closed deals per stage and refresh the statistical forecasts",
)
def refresh(request, response: HttpResponse):
    job = services.start_refresh(by=request.user)
    return accepted(response, job)


@router.get("/snapshots", response=list[SnapshotOut], summary="Weekly snapshots of a scope")
def list_snapshots(request, period: str | None = None, scope: str = "company"):
    return selectors.snapshots(request.user, _period(period), scope)


@router.post("/snapshots", **ACCEPTED, summary="Take this week's snapshot")
def take_snapshot(request, response: HttpResponse):
    job = services.start_snapshot(by=request.user)
    return accepted(response, job)


class MonthValue(Schema):
    month: date
    amount: MoneyOut


class FoldOut(Schema):
    origin_month: date = Field(
        description="The first forecast month; trained on the months before it only."
    )
    spec: str = Field(description="The form the chosen model took when fitted to this fold.")
    actual: list[float]
    forecast: list[float]
    lower: list[float]
    upper: list[float]
    baseline: list[float] | None = Field(description="Seasonal naive from the same months.")


class ModelScoreOut(Schema):
    model: str
    label: str
    mase: float = Field(description="Mean over folds of MAE / in-sample seasonal-naive MAE.")
    mae: float = Field(description="Mean absolute error a month, in the currency.")
    mape: float | None = Field(description="Percent, over months with bookings.")
    inside: int = Field(description="Backtest months inside the model's interval.")
    months: int


class MonthRange(Schema):
    month: date
    amount: MoneyOut
    lower: MoneyOut
    upper: MoneyOut


class StatisticalOut(Schema):
    scope: str
    scope_label: str
    currency: str
    status: str = Field(
        description="'ready', or 'fitting' while the model is being chosen "
        "in the background (ask again in a few seconds)."
    )
    model: str
    model_label: str
    model_spec: str = Field(description="The form fitted to the whole history.")
    message: str
    statements: list[str] = Field(
        description="What the forecast page says about the choice, generated from the scores below."
    )
    horizon: int = Field(description="Months forecast, and months ahead each fold scores.")
    level: int = Field(description="Percent of the prediction interval.")
    history: list[MonthValue]
    forecast: list[MonthRange]
    backtest_mase: float | None = Field(description="The model used, over the folds.")
    backtest_mape: float | None = Field(description="Percent, over held-out months.")
    baseline_mase: float | None = Field(description="Seasonal naive, same folds.")
    baseline_mape: float | None = Field(description="Seasonal naive, same folds.")
    coverage: float | None = Field(
        description="Share of backtest months inside the model's interval."
    )
    scores: list[ModelScoreOut]
    folds: list[FoldOut]


def _statistical_out(scope: statistical.Scope, result) -> dict:
    sel = result.selection if result else None
    chosen = sel.chosen if sel else ""
    score, base = (sel.score, sel.baseline) if sel else (None, None)
    return {
        "scope": scope.key,
        "scope_label": scope.label,
        "currency": result.currency if result else "",
        "status": "ready" if result else "fitting",
        "model": sel.chosen if sel else "",
        "model_label": sel.label if sel else "",
        "model_spec": sel.forecast.spec if sel else "",
        "message": result.message if result else "The model is being chosen.",
        "statements": result.sentences if result else [],
        "horizon": statistical.HORIZON,
        "level": model_choice.LEVEL,
        "history": [
            {"month": m, "amount": v}
            for m, v in zip(result.history_months, result.history, strict=True)
        ]
        if result
        else [],
        "forecast": [
            {"month": m, "amount": v, "lower": lo, "upper": hi}
            for m, v, lo, hi in zip(
                result.forecast_months, result.forecast, result.lower, result.upper, strict=False
            )
        ]
        if result
        else [],
        "backtest_mase": score.mase if score else None,
        "backtest_mape": score.mape if score else None,
        "baseline_mase": base.mase if base else None,
        "baseline_mape": base.mape if base else None,
        "coverage": score.coverage if score else None,
        "scores": [
            {
                "model": n,
                "label": model_choice.LABELS[n],
                "mase": s.mase,
                "mae": s.mae,
                "mape": s.mape,
                "inside": s.inside,
                "months": s.months,
            }
            for n, s in (sel.scores.items() if sel else [])
        ],
        "folds": [
            {
                "origin_month": result.history_months[f.origin],
                "spec": f.paths[chosen].spec,
                "actual": f.actual,
                "forecast": f.paths[chosen].mean,
                "lower": f.paths[chosen].lower,
                "upper": f.paths[chosen].upper,
                "baseline": f.paths[model_choice.BASELINE].mean
                if model_choice.BASELINE in f.paths
                else None,
            }
            for f in (sel.folds if sel else [])
        ],
    }


@router.get(
    "/statistical",
    response=StatisticalOut,
    summary="Bookings forecast, its model chosen by backtest, with its accuracy",
)
def get_statistical(request, scope: str | None = None):
    chosen = statistical.scope_for(request.user, scope)
    return _statistical_out(chosen, statistical.forecast_or_start(chosen, today=company_today()))


class AccuracyPeriodOut(Schema):
    period: str
    commit: MoneyOut | None
    actual: MoneyOut


class AccuracyOut(Schema):
    rep_id: int
    rep_name: str
    periods_scored: int
    mape: float | None
    mase: float | None
    baseline_mape: float | None
    periods: list[AccuracyPeriodOut]


@router.get(
    "/accuracy", response=list[AccuracyOut], summary="Reps' past commits against what they booked"
)
def get_accuracy(request, quarters: int = Query(8, ge=1, le=20)):
    rows = statistical.submission_accuracy(request.user, today=company_today(), quarters=quarters)
    return [
        {
            "rep_id": r.rep.pk,
            "rep_name": str(r.rep),
            "periods_scored": r.accuracy.periods,
            "mape": r.accuracy.mape,
            "mase": r.accuracy.mase,
            "baseline_mape": r.accuracy.baseline_mape,
            "periods": [
                {"period": periods.name(p.period), "commit": p.commit, "actual": p.actual}
                for p in r.periods
            ],
        }
        for r in rows
    ]
