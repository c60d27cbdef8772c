"""Reads about forecasts, restricted to what the user may see."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Q, QuerySet, Sum
from django.urls import reverse

from salesplan.core.clock import company_today
from salesplan.core.fiscal import CompanyCalendar, FiscalPeriod
from salesplan.org.models import Company, Role, Team, User
from salesplan.pipeline.models import Opportunity, StageKind

from . import access, calibration, periods
from .models import ForecastAdjustment, ForecastSnapshot, ForecastSubmission
from .rollup import Rollup, build_rollup


def submissions(user: User, period: FiscalPeriod) -> QuerySet[ForecastSubmission]:
    """Every submission for the quarter the user may see, newest first."""
    rows = ForecastSubmission.objects.filter(
        fiscal_year=period.fiscal_year, quarter=period.number).select_related("rep", "team")
    rep_ids = access.visible_rep_ids(user)
    return rows if rep_ids is None else rows.filter(rep_id__in=rep_ids)


def adjustments(user: User, period: FiscalPeriod) -> QuerySet[ForecastAdjustment]:
    rows = ForecastAdjustment.objects.filter(
        fiscal_year=period.fiscal_year, quarter=period.number).select_related(
        "team", "adjusted_by")
    team_ids = access.visible_team_ids(user)
    return rows if team_ids is None else rows.filter(team_id__in=team_ids)


def latest_submission(user: User, period: FiscalPeriod) -> ForecastSubmission | None:
    return (ForecastSubmission.objects.filter(rep=user, fiscal_year=period.fiscal_year,
                                              quarter=period.number)
            .order_by("-submitted_at", "-id").first())


def rollup(user: User, period: FiscalPeriod) -> Rollup | None:
    """The team roll-up the user may see; None for reps (they see their own line)."""
    team_ids = access.visible_team_ids(user)
    if team_ids is not None and not team_ids:
        return None
    return build_rollup(period, Company.current().default_currency, team_ids=team_ids)


def weighted_pipeline(user: User, fiscal_year: int, source: str, *, months: int = 12,
                      today: date | None = None) -> list[calibration.WeightedPeriod]:
    """Open and weighted pipeline per quarter of the fiscal year, of the deals in the
    company currency the user sees, weighted by the stages' stated probabilities or those
    calibrated over `months` months: the owners' deals read from the report rollups, the
    rest of their territories' deals summed live (`calibration.open_by_period_and_stage_
    visible`; an executive's page read every open deal of the company)."""
    today = today or company_today()
    quarters = CompanyCalendar.current().quarters(fiscal_year)
    probs = calibration.probabilities(source, months=months, today=today)
    return calibration.weighted_pipeline_visible(
        user, Company.current().default_currency, quarters, probs)


def snapshot_scopes(user: User) -> Q | None:
    """Which snapshot rows the user sees, as a filter; None: none."""
    if access.sees_all(user):
        return Q()
    rep_ids = access.visible_rep_ids(user) or set()
    team_ids = access.visible_team_ids(user) or set()
    rule = Q(scope__in=[f"rep:{i}" for i in rep_ids] + [f"team:{i}" for i in team_ids])
    return rule if rep_ids or team_ids else None


def snapshots(user: User, period: FiscalPeriod, scope: str) -> list[ForecastSnapshot]:
    rule = snapshot_scopes(user)
    if rule is None:
        return []
    return list(ForecastSnapshot.objects.filter(
        rule, fiscal_year=period.fiscal_year, quarter=period.number, scope=scope)
        .order_by("week_of"))


@dataclass(frozen=True)
class ScopeChoice:
    key: str
    label: str


def snapshot_choices(user: User) -> list[ScopeChoice]:
    choices = []
    if access.sees_all(user):
        choices.append(ScopeChoice("company", "Whole company"))
    team_ids = access.visible_team_ids(user)
    teams = Team.objects.all() if team_ids is None else Team.objects.filter(pk__in=team_ids)
    choices += [ScopeChoice(f"team:{t.pk}", t.name) for t in teams.order_by("name")]
    rep_ids = access.visible_rep_ids(user)
    reps = User.objects.filter(role=Role.REP, is_active=True)
    if rep_ids is not None:
        reps = reps.filter(pk__in=rep_ids)
    choices += [ScopeChoice(f"rep:{r.pk}", str(r)) for r in reps.order_by("last_name", "pk")]
    return choices


def dashboard_card(user: User, *, today: date | None = None) -> dict | None:
    """This quarter's forecast at a glance for the home dashboards: a rep's own call, a
    manager's team roll-up, the company for executives; None for other roles."""
    if not user.is_authenticated or (user.role == Role.MARKETING and not user.is_admin):
        return None
    today = today or company_today()
    calendar = CompanyCalendar.current()
    period = periods.quarter_of(calendar, today)
    currency = Company.current().default_currency
    card = {"title": f"Forecast {periods.label(period)}", "currency": currency,
            "url": reverse("web:forecasting:overview"), "rows": []}
    if user.role == Role.REP:
        mine = latest_submission(user, period)
        closed = won_in_period(user, period, currency)
        card["rows"] = [
            {"label": "My commit", "amount": mine.commit if mine else None},
            {"label": "My best case", "amount": mine.best_case if mine else None},
            {"label": "Won so far", "amount": closed},
        ]
        card["note"] = "" if mine else "You have not submitted a forecast for this quarter."
        return card
    view = rollup(user, period)
    if view is None:
        return None
    if access.sees_all(user):
        figures, closed, label = view.company, view.company_closed_won, "Company"
    elif view.teams:
        top = view.teams[0]
        figures, closed, label = top.effective, top.closed_won, top.team.name
    else:
        return None
    card["rows"] = [
        {"label": f"{label} commit", "amount": figures.commit},
        {"label": f"{label} best case", "amount": figures.best_case},
        {"label": "Won so far", "amount": closed},
    ]
    card["note"] = ""
    return card



def won_in_period(owner: User, period: FiscalPeriod, currency: str) -> Decimal:
    total = (Opportunity.objects.filter(owner=owner, status=StageKind.WON, currency=currency,
                                        close_date__gte=period.start,
                                        close_date__lte=period.end)
             .aggregate(total=Sum("amount"))["total"])
    return total or Decimal("0.00")


def executive_forecast(user: User, *, today: date | None = None) -> dict | None:
    """The company's forecast for the current quarter, each figure beside its measured
    accuracy and the baseline measured the same way (executives and admins; None for
    others):

    - the statistical forecast of the quarter's remaining months (bookings, the company
      currency), with the MAPE and MASE of the chosen model's backtest six months ahead,
      and the seasonal-naive forecast of the same months with its MAPE and MASE in the
      same folds (nothing while the company's model is still being fitted);
    - the reps' committed roll-up, with the pooled MAPE of their last eight quarters'
      commits against what they booked, and the naive guess "as much as the quarter
      before" measured over the same quarters."""
    from salesplan.engines import forecasting as engine

    from . import statistical

    if not access.sees_all(user):
        return None
    today = today or company_today()
    calendar = CompanyCalendar.current()
    period = periods.quarter_of(calendar, today)
    currency = Company.current().default_currency
    result = statistical.forecast_or_start(
        statistical.Scope("company", "Whole company"), today=today)
    months = ([(m, v) for m, v in zip(result.forecast_months, result.forecast, strict=False)
               if m <= period.end] if result else [])
    baseline: list[Decimal] = []
    if result and result.history:
        baseline = [Decimal(str(round(v, 2))) for v in engine.seasonal_naive_forecast(
            [float(v) for v in result.history], len(months))]
    selection = result.selection if result else None
    score = selection.score if selection else None
    base = selection.baseline if selection else None
    stat = {"model": selection.label if selection else "being fitted",
            "message": result.message if result else "The model is being chosen.",
            "months": [m for m, _ in months],
            "forecast": sum((v for _, v in months), Decimal("0.00")) if months else None,
            "baseline": sum(baseline, Decimal("0.00")) if baseline else None,
            "mape": score.mape if score else None,
            "mase": score.mase if score else None,
            "baseline_mape": base.mape if base else None,
            "baseline_mase": base.mase if base else None,
            "folds": len(selection.folds) if selection else 0,
            "horizon": statistical.HORIZON}
    view = rollup(user, period)
    accuracy = statistical.submission_accuracy(user, today=today)
    scored = [p for rep in accuracy for p in rep.periods if p.commit is not None]
    pooled = engine.submission_accuracy(
        [float(p.commit or 0) for p in scored], [float(p.actual) for p in scored],
        [float(p.previous_actual) for p in scored]) if scored else None
    previous = periods.shift(calendar, period, -1)
    last_quarter = (Opportunity.objects.filter(
        status=StageKind.WON, currency=currency, close_date__gte=previous.start,
        close_date__lte=previous.end).aggregate(total=Sum("amount"))["total"]
        or Decimal("0.00"))
    return {
        "period": periods.label(period), "currency": currency,
        "statistical": stat,
        "commit": view.company.commit if view else None,
        "best_case": view.company.best_case if view else None,
        "won": view.company_closed_won if view else None,
        "naive_commit": Decimal(last_quarter).quantize(Decimal("0.01")),
        "previous_period": periods.label(previous),
        "commit_mape": pooled.mape if pooled else None,
        "commit_baseline_mape": pooled.baseline_mape if pooled else None,
        "commit_quarters": len(scored),
        "url": reverse("web:forecasting:overview"),
        "statistical_url": reverse("web:forecasting:statistical"),
    }
