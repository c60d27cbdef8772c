"""The demo company's forecasts and customer health, built through the services.

Each rep submitted a commit, best case and pipeline for each of the last four quarters
(near what they then booked, some optimistic, some cautious, so the accuracy report has
something to say) and revised their call for the current quarter every few weeks; team
leads adjusted their team's roll-up once with a reason. A snapshot was taken every
Monday of the current quarter, so the snapshot chart shows the forecast moving. Finally
every account's health is scored.

Submissions are made through `forecasting.services` on the day they were due; only their
timestamps are then set back to that day, since the services stamp the real time.
"""

import random
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Sum

from salesplan.core.clock import company_datetime
from salesplan.core.fiscal import CompanyCalendar, FiscalPeriod
from salesplan.forecasting import periods, services
from salesplan.forecasting.calibration import weighted_by_owner
from salesplan.forecasting.models import ForecastAdjustment, ForecastSubmission
from salesplan.health import services as health
from salesplan.org.models import Company, Team, User
from salesplan.pipeline.models import Opportunity, StageKind

from .org import DemoOrg

# Above this the demo takes only this week's snapshot and leaves the health scores to
# `salesplan health compute`.
MAX_ACCOUNTS_FOR_HEALTH = 200_000
PAST_QUARTERS = 4
HUNDRED = Decimal(100)


def build(org: DemoOrg, *, accounts: int, today: date, rng: random.Random,
          log: Callable[[str], None]) -> None:
    calendar = CompanyCalendar.current()
    currency = Company.current().default_currency
    current = periods.quarter_of(calendar, today)
    reps = org.reps
    past = [periods.shift(calendar, current, -n) for n in range(PAST_QUARTERS, 0, -1)]
    bias = {rep.pk: rng.uniform(0.8, 1.15) for rep in reps}  # each rep's habit
    for quarter in past:
        won = _won_by_owner(quarter, currency, quarter.end)
        for rep in reps:
            actual = won.get(rep.pk, Decimal(0))
            commit = _round(actual * Decimal(str(bias[rep.pk] * rng.uniform(0.85, 1.15))))
            _submit(rep, quarter, commit, rng, day=quarter.start + timedelta(days=20))
    weeks = _mondays(current.start, today)
    _current_quarter(org, current, currency, weeks, today, rng, bias)
    snapshots = 0
    if accounts <= MAX_ACCOUNTS_FOR_HEALTH:  # each past week rereads the quarter's deals
        for monday in weeks:
            snapshots += services.take_snapshot(today=monday, period=current)
    snapshots += services.take_snapshot(today=today, period=current)
    log(f"Forecasts: {ForecastSubmission.objects.count():,} submissions, "
        f"{ForecastAdjustment.objects.count()} adjustments, {snapshots:,} snapshot lines.")
    if accounts > MAX_ACCOUNTS_FOR_HEALTH:
        log(f"Health: left to `salesplan health compute` ({accounts:,} accounts).")
        return
    result = health.compute_health()
    log(f"Health: {result['accounts']:,} accounts scored, {result['at_risk']:,} at risk.")


def _current_quarter(org: DemoOrg, current: FiscalPeriod, currency: str, weeks: list[date],
                     today: date, rng: random.Random, bias: dict[int, float]) -> None:
    weighted = weighted_by_owner(current, currency)
    calls = weeks[::3] or [today]  # a call at the start and then every three weeks
    won_by_day = {day: _won_by_owner(current, currency, day) for day in calls}
    for rep in org.reps:
        for day in calls:
            won = won_by_day[day].get(rep.pk, Decimal(0))
            base = won + weighted.get(rep.pk, Decimal(0))
            commit = _round(base * Decimal(str(bias[rep.pk] * rng.uniform(0.9, 1.1))))
            _submit(rep, current, commit, rng, day=day)
    for team in Team.objects.filter(name__in=list(org.reps_by_team),
                                    manager__isnull=False).select_related("manager"):
        reps = [r.pk for r in org.reps_by_team[team.name]]
        latest = {s.rep_id: s for s in ForecastSubmission.objects.filter(
            rep_id__in=reps, fiscal_year=current.fiscal_year, quarter=current.number)
            .order_by("submitted_at", "id")}
        if not latest or team.manager is None:
            continue
        total = sum((s.commit for s in latest.values()), Decimal(0))
        cut = _round(total * Decimal("0.9"))
        best = _round(sum((s.best_case for s in latest.values()), Decimal(0)))
        pipeline = _round(sum((s.pipeline for s in latest.values()), Decimal(0)))
        adjustment = services.adjust_forecast(
            by=team.manager, team=team, fiscal_year=current.fiscal_year,
            quarter=current.number, commit=cut, best_case=max(best, cut),
            pipeline=max(pipeline, best, cut), today=today,
            reason="Two of the larger deals depend on budget approval; holding back 10 %.")
        day = calls[-1] + timedelta(days=1)
        ForecastAdjustment.objects.filter(pk=adjustment.pk).update(
            adjusted_at=_stamp(min(day, today)))


def _submit(rep: User, quarter: FiscalPeriod, commit: Decimal, rng: random.Random, *,
            day: date) -> None:
    best = _round(commit * Decimal(str(rng.uniform(1.1, 1.35))))
    pipeline = _round(best * Decimal(str(rng.uniform(1.2, 1.6))))
    row = services.submit_forecast(by=rep, fiscal_year=quarter.fiscal_year,
                                   quarter=quarter.number, commit=commit, best_case=best,
                                   pipeline=pipeline, today=day)
    ForecastSubmission.objects.filter(pk=row.pk).update(submitted_at=_stamp(day))


def _won_by_owner(quarter: FiscalPeriod, currency: str, until: date) -> dict[int, Decimal]:
    rows = (Opportunity.objects.filter(status=StageKind.WON, currency=currency,
                                       close_date__gte=quarter.start,
                                       close_date__lte=min(until, quarter.end))
            .order_by().values("owner_id").annotate(total=Sum("amount")))
    return {r["owner_id"]: r["total"] or Decimal(0) for r in rows}


def _mondays(start: date, today: date) -> list[date]:
    first = start + timedelta(days=(7 - start.weekday()) % 7)
    days = []
    while first < today:
        days.append(first)
        first += timedelta(days=7)
    return days


def _stamp(day: date) -> datetime:
    return company_datetime(day, time(9, 0))


def _round(value: Decimal) -> Decimal:
    return (value / HUNDRED).quantize(Decimal(1)) * HUNDRED
