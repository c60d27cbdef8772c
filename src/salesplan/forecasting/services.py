"""Every write to forecasts: reps' submissions, managers' adjustments, weekly snapshots.

Submissions and adjustments are appended, never edited, so the history of every call
stays readable. Amounts are in the company's currency.
"""

from datetime import date, time, timedelta
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from salesplan.core.clock import company_datetime, company_today
from salesplan.core.fiscal import CompanyCalendar, FiscalPeriod
from salesplan.core.jobs import start_job
from salesplan.core.money import MAX_AMOUNT, quantize
from salesplan.org.models import Company, Team, User

from . import access, periods
from .models import ForecastAdjustment, ForecastSnapshot, ForecastSubmission
from .rollup import Figures, build_rollup


def _check_figures(commit: Decimal, best_case: Decimal, pipeline: Decimal,
                   currency: str) -> tuple[Decimal, Decimal, Decimal]:
    values = {}
    for name, value in (("commit", commit), ("best_case", best_case), ("pipeline", pipeline)):
        if value is None or not Decimal(value).is_finite():
            raise ValidationError({name: "Enter an amount."})
        if value < 0 or value >= MAX_AMOUNT:
            raise ValidationError({name: "Enter an amount from 0 up to 10^15."})
        values[name] = quantize(Decimal(value), currency)
    if values["commit"] > values["best_case"]:
        raise ValidationError({"best_case": "Best case includes the commit, so it cannot be "
                                            "lower than the commit."})
    if values["best_case"] > values["pipeline"]:
        raise ValidationError({"pipeline": "Pipeline includes the best case, so it cannot be "
                                           "lower than the best case."})
    return values["commit"], values["best_case"], values["pipeline"]


def _open_period(calendar: CompanyCalendar, fiscal_year: int, quarter: int,
                 today: date) -> FiscalPeriod:
    period = periods.quarter(calendar, fiscal_year, quarter)
    if period.end < today:
        raise ValidationError({"quarter": f"{periods.label(period)} has ended; its forecast "
                                          "can no longer change."})
    return period


@transaction.atomic
def submit_forecast(*, by: User, fiscal_year: int, quarter: int, commit: Decimal,
                    best_case: Decimal, pipeline: Decimal, note: str = "",
                    today: date | None = None) -> ForecastSubmission:
    """Record a rep's call for a quarter that has not ended; the latest call counts."""
    if not access.may_submit(by):
        raise PermissionDenied("Only reps and managers submit forecasts.")
    today = today or company_today()
    calendar = CompanyCalendar.current()
    _open_period(calendar, fiscal_year, quarter, today)
    currency = Company.current().default_currency
    commit, best_case, pipeline = _check_figures(commit, best_case, pipeline, currency)
    return ForecastSubmission.objects.create(
        rep=by, team_id=by.team_id, fiscal_year=fiscal_year, quarter=quarter, commit=commit,
        best_case=best_case, pipeline=pipeline, currency=currency, note=note[:1000],
        submitted_at=timezone.now(), submitted_by=by)


@transaction.atomic
def adjust_forecast(*, by: User, team: Team, fiscal_year: int, quarter: int, commit: Decimal,
                    best_case: Decimal, pipeline: Decimal, reason: str,
                    today: date | None = None) -> ForecastAdjustment:
    """A manager's override of a team's rolled-up figures for a quarter, with the reason."""
    access.require_adjust(by, team)
    today = today or company_today()
    calendar = CompanyCalendar.current()
    _open_period(calendar, fiscal_year, quarter, today)
    if not reason or not reason.strip():
        raise ValidationError({"reason": "Say why you adjust the team's forecast."})
    currency = Company.current().default_currency
    commit, best_case, pipeline = _check_figures(commit, best_case, pipeline, currency)
    return ForecastAdjustment.objects.create(
        team=team, fiscal_year=fiscal_year, quarter=quarter, commit=commit,
        best_case=best_case, pipeline=pipeline, currency=currency, reason=reason.strip()[:1000],
        adjusted_at=timezone.now(), adjusted_by=by)


def week_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


@transaction.atomic
def take_snapshot(*, today: date | None = None, period: FiscalPeriod | None = None) -> int:
    """Record where every rep, team and the company stand for the quarter this week.

    Run weekly (the `salesplan forecasts snapshot` command from cron, or the job);
    running it again in the same week replaces that week's rows. For a past day it
    counts the calls made and deals won by the end of that day; the weighted pipeline is
    always today's open pipeline (past stages are not rebuilt). Returns the row count.
    """
    from .calibration import weighted_by_owner

    as_of = None
    if today is not None and today < company_today():
        # a past week: the calls made and deals won by the end of that day
        as_of = company_datetime(today, time.max)
    today = today or company_today()
    calendar = CompanyCalendar.current()
    period = period or periods.quarter_of(calendar, today)
    currency = Company.current().default_currency
    rollup = build_rollup(period, currency, as_of=as_of)
    weighted = weighted_by_owner(period, currency)
    monday, now = week_of(today), timezone.now()
    base = {"fiscal_year": period.fiscal_year, "quarter": period.number, "currency": currency,
            "week_of": monday, "taken_at": now}
    rows: list[ForecastSnapshot] = []

    def add(scope: str, figures: Figures, closed: Decimal, weighted_amount: Decimal,
            **extra) -> None:
        rows.append(ForecastSnapshot(
            scope=scope, commit=figures.commit, best_case=figures.best_case,
            pipeline=figures.pipeline, closed_won=closed, weighted_pipeline=weighted_amount,
            **base, **extra))

    team_weighted: dict[int, Decimal] = {}
    for line in reversed(rollup.teams):  # children before parents
        own = sum((weighted.get(r.rep.pk, Decimal(0)) for r in line.reps), Decimal("0.00"))
        child_sum = sum((team_weighted.get(t.team.pk, Decimal(0)) for t in rollup.teams
                         if t.team.parent_id == line.team.pk), Decimal("0.00"))
        team_weighted[line.team.pk] = own + child_sum
        for rep_line in line.reps:
            add(f"rep:{rep_line.rep.pk}", rep_line.figures, rep_line.closed_won,
                weighted.get(rep_line.rep.pk, Decimal("0.00")), rep=rep_line.rep)
        add(f"team:{line.team.pk}", line.effective, line.closed_won,
            team_weighted[line.team.pk], team=line.team, adjusted=line.adjustment is not None)
    add("company", rollup.company, rollup.company_closed_won,
        sum(weighted.values(), Decimal("0.00")))
    ForecastSnapshot.objects.filter(fiscal_year=period.fiscal_year, quarter=period.number,
                                    week_of=monday).delete()
    ForecastSnapshot.objects.bulk_create(rows)
    return len(rows)


def start_snapshot(*, by: User):
    """Start the snapshot job (admins and managers)."""

    from .tasks import snapshot_job

    if not access.may_take_snapshot(by):
        raise PermissionDenied("Only admins and managers may take forecast snapshots.")
    return start_job("forecast_snapshot", by=by, task=snapshot_job)


def refresh_forecasts(*, today: date | None = None) -> dict:
    """The nightly refresh: recount closed deals per stage for calibration and refit the
    statistical forecasts of the company and every team, so pages read stored results."""
    from salesplan.org.models import Team

    from . import calibration, statistical

    deals = _bring_deal_rollup_up_to_date()
    stage_months = calibration.refresh_outcomes()
    today = today or company_today()
    scopes = [statistical.Scope("company", "Whole company")] + [
        statistical.Scope(f"team:{t.pk}", t.name) for t in Team.objects.order_by("pk")]
    for scope in scopes:
        statistical.statistical_forecast(scope, today=today, refresh=True)
    return {"stage_months": stage_months, "forecasts": len(scopes), "deals_summed": deals}


def _bring_deal_rollup_up_to_date() -> int:
    """The forecast pages and the roll-up read open and won amounts from the report
    rollup of deals (`calibration.open_by_period_and_stage_visible`, `rollup.build_rollup`),
    which every read keeps up to date; build it here the first time. A large company's
    is otherwise left to an admin's rebuild, and until then every forecast request
    summed the deals themselves (an executive's page read millions of open deals).
    Returns the deals re-read."""
    from salesplan.metrics import rollup as report_rollup

    try:
        return report_rollup.refresh(["opportunities"])["opportunities"]
    except report_rollup.RollupsNotReady:
        return report_rollup.rebuild(["opportunities"])["opportunities"]


def start_refresh(*, by: User):
    """Start the refresh job (admins and managers)."""

    from .tasks import refresh_job

    if not access.may_take_snapshot(by):
        raise PermissionDenied("Only admins and managers may refresh the forecasts.")
    return start_job("forecast_refresh", by=by, task=refresh_job)
